// SGLang's sessions on the wire: /open_session's and /close_session's bodies, and the
// `session_params` of /generate (SessionParams: id, rid, offset, replace, drop_previous_output).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace sgl::server {

struct SessionParams {
  std::string id;                     // the session
  std::optional<std::string> rid;     // the earlier request of the session to continue from
  std::optional<int64_t> offset;      // keep that request's tokens [:offset] (Python slicing), then append
  bool replace = false;               // drop what followed `rid` (or, without rid, the whole session)
  bool drop_previous_output = false;  // continue from rid's input only
};

struct OpenSessionRequest {
  std::optional<std::string> session_id;  // none: a fresh id
  int64_t capacity_of_str_len = 0;
  std::optional<double> timeout;  // seconds without a request before the session closes itself
};

Result<OpenSessionRequest> parse_open_session(const std::string& body);
// The session id of a /close_session body.
Result<std::string> parse_close_session(const std::string& body);

}  // namespace sgl::server
