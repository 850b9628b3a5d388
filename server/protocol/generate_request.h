// POST /generate's body (SGLang's GenerateReqInput), normalised: prompts, and one item per
// output (prompt-major, n samples per prompt) with its own rid and sampling params.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/protocol/input_embeds.h"
#include "server/protocol/sampling_params.h"
#include "server/protocol/session_params.h"

namespace sgl::server {

// A prompt is text to tokenize or token ids given by the client, or embeddings (input_embeds:
// then `ids` are placeholders, one per row, and `embeds` the rows).
struct PromptInput {
  bool is_ids = false;
  std::string text;
  std::vector<int32_t> ids;
  PromptEmbeds embeds;
};

struct LogprobOptions {
  bool return_logprob = false;
  int64_t logprob_start_len = -1;  // -1: output tokens only; 0: every prompt token
  int64_t top_logprobs_num = 0;
  std::vector<int32_t> token_ids_logprob;
  bool return_text_in_logprobs = true;
};

struct GenerateItem {
  size_t prompt_index = 0;
  int64_t sample_index = 0;
  std::string rid;
  SamplingParams sampling;
  LogprobOptions logprob;
  bool require_reasoning = false;     // count meta_info.reasoning_tokens (tokens through </think>)
  bool return_hidden_states = false;  // meta_info.hidden_states: each output token's final hidden state
  // ... the first as every computed prompt position's (SGLang's /generate: a [positions][hidden]
  // block first); off for the embedding and classification probes, which read one vector.
  bool return_prompt_hidden = false;
  // SGLang's lora_path: the registered name of the LoRA adapter to run with; nullopt = the base.
  std::optional<std::string> lora_path;
  PromptEmbeds input_embeds;  // its prompt's embeddings (input_embeds); null for text or ids
  // SGLang's return_routed_experts / routed_experts_start_len: meta_info.routed_experts.
  bool return_routed_experts = false;
  int64_t routed_experts_start_len = 0;
};

struct GenerateRequest {
  std::vector<PromptInput> prompts;
  std::vector<GenerateItem> items;  // prompts.size() × n, prompt-major
  bool list_response = false;       // batch input or n > 1: the answer is a JSON list
  bool stream = false;
  std::optional<SessionParams> session;  // session_params with an id: a turn of an open session
};

Result<GenerateRequest> parse_generate_request(std::string_view body, const RequestLimits& limits,
                                               const SamplingParams& defaults = {});

// Embedding prompts (input_embeds) as PromptInputs: placeholder ids, one per row, and the rows.
void append_embeds_prompts(InputEmbeds in, int64_t hidden_size, std::vector<PromptInput>& prompts);
// Gives every item its prompt's embeddings (after expand_items).
void attach_prompt_embeds(GenerateRequest& req);

// Shared by the OpenAI routes: token ids must lie inside the vocabulary.
Status check_token_ids(const std::vector<int32_t>& ids, const RequestLimits& limits, std::string_view what);

// Expands prompts × n into items (rids: given, R_i for a batch with one rid, fresh uuids for n > 1).
Result<std::vector<GenerateItem>> expand_items(size_t num_prompts,
                                               const std::vector<SamplingParams>& per_prompt,
                                               const std::vector<std::string>& rids, const LogprobOptions& lp,
                                               const RequestLimits& limits);

}  // namespace sgl::server
