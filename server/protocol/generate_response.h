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

// One stream's cumulative events (SGLang's default): each extends the last one's text and ids,
// so the escaped text and the id list are kept between events and only what was added is
// serialised — an event costs a copy of its bytes, not re-escaping every token so far.
// cumulative(out, index) == generate_event_json(out, 0, 0, index).
class GenerateEventWriter {
 public:
  std::string cumulative(const GenerateOutput& out, std::optional<size_t> index);

 private:
  std::string text_json_, ids_json_;  // escaped text[0, text_done_), ids[0, ids_done_) comma-joined
  size_t text_done_ = 0, ids_done_ = 0;
};

}  // namespace sgl::server
