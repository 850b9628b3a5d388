// SGLang's /generate answers: {"text","output_ids","meta_info":{...}} and lists of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/protocol/output_types.h"

namespace sgl::server {

std::string generate_output_json(const GenerateOutput& out);
std::string generate_outputs_json(const std::vector<GenerateOutput>& outs);  // a JSON list

// One /generate stream event for `out` from byte `text_from` of its text and id `ids_from` of its
// output ids (0, 0: SGLang's cumulative events; the sent sizes: --incremental-streaming-output),
// with "index" when given. Byte-identical to generate_output_json on the cut copy, without making
// that copy or a DOM: the stream writes one of these per token, and the cumulative ids grow.
std::string generate_event_json(const GenerateOutput& out, size_t text_from, size_t ids_from,
                                std::optional<size_t> index);

}  // namespace sgl::server
