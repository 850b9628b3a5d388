#include "server/protocol/session_params.h"

#include <nlohmann/json.hpp>

#include "server/protocol/object_body.h"

namespace sgl::server {
namespace {

using nlohmann::json;

Result<std::optional<std::string>> session_id_of(const json& j, bool required) {
  auto it = j.find("session_id");
  if (it == j.end() || it->is_null()) {
    if (required) return invalid_argument("session_id: field required");
    return std::optional<std::string>{};
  }
  if (!it->is_string()) return invalid_argument("session_id: must be a string");
  const auto& id = it->get_ref<const std::string&>();
  if (id.empty()) return invalid_argument("session_id: must not be empty");
  return std::optional<std::string>{id};
}

}  // namespace

Result<OpenSessionRequest> parse_open_session(const std::string& body) {
  SGL_ASSIGN_OR_RETURN(json j, parse_object_body(body));
  OpenSessionRequest r;
  SGL_ASSIGN_OR_RETURN(r.session_id, session_id_of(j, false));
  auto cap = j.find("capacity_of_str_len");
  if (cap == j.end()) return invalid_argument("capacity_of_str_len: field required");
  if (!cap->is_number_integer() || cap->get<int64_t>() < 0)
    return invalid_argument("capacity_of_str_len: must be a non-negative integer");
  r.capacity_of_str_len = cap->get<int64_t>();
  if (auto s = j.find("streaming"); s != j.end() && !s->is_null()) {
    if (!s->is_boolean()) return invalid_argument("streaming: must be a boolean");
    if (s->get<bool>())
      return invalid_argument(
          "Streaming sessions are disabled. Please relaunch with --enable-streaming-session. (sglcpp has no "
          "streaming sessions; a plain session keeps its turns in the prefix cache)");
  }
  if (auto t = j.find("timeout"); t != j.end() && !t->is_null()) {
    if (!t->is_number() || t->get<double>() <= 0)
      return invalid_argument("timeout: must be a positive number");
    r.timeout = t->get<double>();
  }
  return r;
}

Result<std::string> parse_close_session(const std::string& body) {
  SGL_ASSIGN_OR_RETURN(json j, parse_object_body(body));
  SGL_ASSIGN_OR_RETURN(std::optional<std::string> id, session_id_of(j, true));
  return *id;
}

}  // namespace sgl::server
