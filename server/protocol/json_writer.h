// Internal to server/protocol: shared pieces of the JSON writers (nlohmann, .cpp files only).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "server/protocol/output_types.h"

namespace sgl::server::detail {

using ojson = nlohmann::ordered_json;

// Compact, UTF-8 kept as is, invalid bytes replaced by U+FFFD, NaN/Inf written as null.
inline std::string dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

ojson finish_reason_json(const FinishReason& f);
ojson matched_stop_json(const FinishReason& f);
ojson usage_json(const Usage& u);

}  // namespace sgl::server::detail
