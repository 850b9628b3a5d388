// LoRA adapter references as users write them: the --lora-paths launch values, a request's
// `lora_path` field, and the OpenAI "base:adapter" model form (SGLang's spellings and rules).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/protocol/generate_request.h"
#include "server/protocol/json_fields.h"

namespace sgl::server {

// One --lora-paths value: `PATH` (the name is the path, as SGLang names it), `NAME=PATH`, or the
// JSON object {"lora_name": ..., "lora_path": ..., "pinned": ...}.
struct LoraPathSpec {
  std::string name;
  std::string path;
  bool pinned = false;
};
Result<LoraPathSpec> parse_lora_path_spec(std::string_view value);
// Every value, refusing a name given twice.
Result<std::vector<LoraPathSpec>> parse_lora_path_specs(const std::vector<std::string>& values);

// A request's adapter per prompt: nullopt is the base model. An empty list when the body has no
// lora_path (or null). `lora_path` is one name for every prompt, or a list aligned with the
// prompts (null entries: the base). An empty name reads as the base, as SGLang's truthiness test.
Result<std::vector<std::optional<std::string>>> read_lora_paths(json::Object body, size_t num_prompts);
// Copies each prompt's adapter onto its items (prompt-major items of expand_items).
void assign_lora_paths(const std::vector<std::optional<std::string>>& per_prompt,
                       std::vector<GenerateItem>& items);

// SGLang's OpenAI model parameter: "base:adapter" names an adapter after the FIRST colon
// (trimmed); nullopt when there is no colon or nothing after it.
std::optional<std::string> adapter_of_model(std::string_view model);

}  // namespace sgl::server
