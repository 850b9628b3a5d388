// /configure_logging: SGLang's ConfigureLoggingReq body, and how much of a request body the
// request log shows at each --log-requests-level.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server {

// spdlog's level for a --log-level / log_level name (trace, debug, info, warning, error,
// critical; anything else is info).
spdlog::level::level_enum spdlog_level_of(const std::string& name);

// Every field optional: an absent one leaves that setting alone. crash_dump_folder switches the
// crash dump (server/crash_dump.h); SGLang's dump_requests_* write pickled requests for its own
// replay tools: accepted (so a client's call does not fail) but without effect here.
struct LoggingConfig {
  std::optional<bool> log_requests;
  std::optional<int64_t> log_requests_level;
  std::optional<std::string> log_requests_format;
  std::optional<std::string> log_level;  // newer SGLang: the server's log level
  std::optional<std::string> dump_requests_folder;
  std::optional<int64_t> dump_requests_threshold;
  std::optional<std::string> crash_dump_folder;
};

// An empty body (a plain GET) is an empty config. `log_level` must be one of
// debug | info | warning | error | critical (as --log-level).
Result<LoggingConfig> parse_logging_config(std::string_view body);

// What the request log shows of `body` at `level` (SGLang's levels): 0 metadata only (prompt and
// sampling fields dropped), 1 metadata and sampling parameters, 2 everything cut to 2048 bytes,
// 3 everything. A body that is not a JSON object shows only its size below level 2.
std::string request_log_text(std::string_view body, int level);

}  // namespace sgl::server
