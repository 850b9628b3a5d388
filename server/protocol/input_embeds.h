// SGLang's input_embeds on /generate (and the file of /generate_from_file): a prompt given as
// embeddings, [seq][hidden] for one prompt or [batch][seq][hidden], in place of text or ids.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/protocol/json_fields.h"

namespace sgl::server {

using PromptEmbeds = std::shared_ptr<const std::vector<float>>;  // rows × hidden_size, row-major

struct InputEmbeds {
  std::vector<PromptEmbeds> prompts;
  bool batch = false;  // [batch][seq][hidden] was given
};

// Every row must hold `hidden_size` finite numbers; a prompt has at least one row and at most
// `max_rows` (the context bound), checked before its floats are copied.
Result<InputEmbeds> read_input_embeds(json::Element el, int64_t hidden_size, int64_t max_rows);

// SGLang's scheduler gives an embeddings prompt placeholder ids, one per row ([1] * rows).
constexpr int32_t kInputEmbedsPlaceholderId = 1;

}  // namespace sgl::server
