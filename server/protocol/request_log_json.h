// --log-requests-format json: SGLang's RequestLogger JSON lines, one per request received and one
// per request finished:
//   {"timestamp": "...", "event": "request.received", "rid": ..., "obj": {...}}
//   {"timestamp": "...", "event": "request.finished", "rid": ..., "obj": {...}, "out": {...}}
// `obj` is the request body and `out` SGLang's /generate output ({text, output_ids, meta_info}),
// cut as SGLang's --log-requests-level cuts them: 0 drops the input and sampling fields (and the
// output's text and ids), 1 keeps sampling parameters, 2 keeps everything with strings and lists
// over 2048 elements cut to their two ends, 3 keeps everything.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sgl::server {

// The request body as logged at `level` (a body that is not a JSON object: {"bytes": its size}).
nlohmann::ordered_json request_log_obj(std::string_view body, int level);
// An output object (e.g. generate_output_json's) as logged at `level`.
nlohmann::ordered_json request_log_out(nlohmann::ordered_json out, int level);
// One log line (no newline): timestamp (local time, Python's datetime.isoformat()), event, then
// rid, obj and, when not null, out.
std::string request_log_line(std::chrono::system_clock::time_point now, std::string_view event,
                             const nlohmann::ordered_json& rid, const nlohmann::ordered_json& obj,
                             const nlohmann::ordered_json& out = nullptr);

}  // namespace sgl::server
