#include "server/protocol/logging_config.h"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>

#include "server/protocol/api_error.h"
#include "server/protocol/json_fields.h"
#include "server/protocol/request_log_json.h"

namespace sgl::server {

spdlog::level::level_enum spdlog_level_of(const std::string& s) {
  if (s == "trace") return spdlog::level::trace;
  if (s == "debug") return spdlog::level::debug;
  if (s == "warning" || s == "warn") return spdlog::level::warn;
  if (s == "error") return spdlog::level::err;
  if (s == "critical") return spdlog::level::critical;
  return spdlog::level::info;
}

namespace {

constexpr size_t kPartialBytes = 2048;  // SGLang's level-2 cut

// `s` cut to at most `n` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

Result<LoggingConfig> parse_logging_config(std::string_view body) {
  LoggingConfig c;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return c;
  simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  if (auto el = json::find(obj, "log_requests")) {
    SGL_ASSIGN_OR_RETURN(c.log_requests, json::as_bool(*el, "log_requests"));
  }
  if (auto st = json::read(obj, "log_requests_level", "", c.log_requests_level); !st.ok()) return st.error();
  if (auto st = json::read(obj, "log_requests_format", "", c.log_requests_format); !st.ok())
    return st.error();
  if (auto st = json::read(obj, "log_level", "", c.log_level); !st.ok()) return st.error();
  if (auto st = json::read(obj, "dump_requests_folder", "", c.dump_requests_folder); !st.ok())
    return st.error();
  if (auto st = json::read(obj, "dump_requests_threshold", "", c.dump_requests_threshold); !st.ok())
    return st.error();
  if (auto st = json::read(obj, "crash_dump_folder", "", c.crash_dump_folder); !st.ok()) return st.error();
  if (c.log_requests_format && *c.log_requests_format != "text" && *c.log_requests_format != "json")
    return invalid_argument(
        fmt::format("log_requests_format: '{}' is not one of text, json", *c.log_requests_format));
  if (c.log_level) {
    static constexpr std::array<std::string_view, 7> kLevels = {"trace", "debug", "info",    "warning",
                                                                "warn",  "error", "critical"};
    bool known = false;
    for (auto l : kLevels) known |= *c.log_level == l;
    if (!known)
      return invalid_argument(
          fmt::format("log_level: '{}' is not one of debug, info, warning, error, critical", *c.log_level));
  }
  return c;
}

std::string request_log_text(std::string_view body, int level) {
  if (level >= 3) return std::string(body);
  if (level == 2) {
    std::string_view cut = utf8_prefix(body, kPartialBytes);
    return cut.size() == body.size() ? std::string(body) : fmt::format("{}... ({} bytes)", cut, body.size());
  }
  auto j = nlohmann::ordered_json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fmt::format("({} bytes)", body.size());
  // The same fields as the JSON log drops at these levels (SGLang's skip names).
  return request_log_obj(body, level).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace sgl::server
