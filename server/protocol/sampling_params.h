// SGLang's sampling parameters as a typed struct, with its defaults and its validation
// (same order and messages as sampling_params.py, so clients see the same errors).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "server/protocol/json_fields.h"

namespace sgl::server {

// What the running model allows: requests are checked against it before reaching the scheduler.
struct RequestLimits {
  int64_t context_length = 32768;
  int64_t vocab_size = 151936;
  int64_t hidden_size = 0;  // the width of an input_embeds row (0: embeddings input refused)
  size_t max_stop_strings = 64;
  size_t max_stop_string_bytes = 1024;
  int64_t max_n = 128;
  size_t max_batch = 4096;          // prompts × n in one request
  bool grammar_supported = true;    // json_schema / regex / ebnf (not with speculative decoding yet)
  int64_t max_bytes_per_token = 0;  // the tokenizer's bound (Tokenizer::max_bytes_per_token); 0: none
  bool allow_auto_truncate = false;
  int64_t max_req_input_len = 0;  // the scheduler's bound on a prompt (0: context_length - 1)  //
                                  // --allow-auto-truncate: over-long prompts are cut, not refused
};

struct SamplingParams {
  std::optional<int64_t> max_new_tokens = 128;  // nullopt: the rest of the context
  int64_t min_new_tokens = 0;
  double temperature = 1.0;  // < 1e-6 means greedy
  double top_p = 1.0;
  int64_t top_k = -1;  // -1: off
  double min_p = 0.0;
  double frequency_penalty = 0.0;
  double presence_penalty = 0.0;
  double repetition_penalty = 1.0;
  std::vector<std::string> stop;
  std::vector<int64_t> stop_token_ids;
  bool ignore_eos = false;
  bool skip_special_tokens = true;
  bool spaces_between_special_tokens = true;
  bool no_stop_trim = false;
  int64_t n = 1;
  std::optional<int64_t> sampling_seed;
  std::optional<std::string> json_schema, regex, ebnf, structural_tag;
  std::vector<std::pair<int64_t, double>> logit_bias;
  std::optional<int64_t> stream_interval;

  bool greedy() const { return temperature < 1e-6; }
};

// Reads a native `sampling_params` object over `defaults`; unknown keys are a 400.
Result<SamplingParams> parse_sampling_params(json::Object obj, std::string_view path,
                                             SamplingParams defaults = {});

// SGLang's checks, in its order; every failure is an invalid-argument error (400).
Status validate_sampling_params(const SamplingParams& p, const RequestLimits& limits);

// The context-length checks that need the tokenized prompt; fills in max_new_tokens when it was
// null (SGLang: the rest of the context) and returns the effective value.
Result<int64_t> check_prompt_length(int64_t prompt_tokens, std::optional<int64_t> max_new_tokens,
                                    const RequestLimits& limits);

// Refuses, by its byte length alone, a prompt text that needs at least context_length tokens (each
// token covers at most max_bytes_per_token bytes), so a huge text is answered before the tokenizer
// spends seconds on it. The message has check_prompt_length's shape.
Status check_prompt_bytes(size_t text_bytes, const RequestLimits& limits);

// Reads the OpenAI-style top-level sampling fields shared by /v1/completions and /v1/chat/completions
// (temperature, top_p, n, stop, seed, penalties, logit_bias and SGLang's extras).
Status read_openai_sampling_fields(json::Object obj, SamplingParams& p);

}  // namespace sgl::server
