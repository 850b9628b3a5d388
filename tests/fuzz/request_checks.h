// What every successfully parsed generation request must satisfy, whichever route parsed it
// (tests/fuzz/{generate,completion,chat}_request_fuzz.cpp): one item per prompt × n, prompt-major,
// each with sampling params that pass SGLang's validation and prompt ids inside the vocabulary.
#pragma once

#include <string>
#include <vector>

#include "fuzz_util.h"
#include "server/protocol/generate_request.h"

namespace sgl::fuzz {

// The limits of a small model, so that the context and vocabulary bounds are reachable.
inline server::RequestLimits fuzz_limits() {
  server::RequestLimits l;
  l.context_length = 4096;
  l.vocab_size = 151936;
  l.max_n = 16;
  l.max_batch = 64;
  l.hidden_size = 4;  // input_embeds rows of 4 floats
  return l;
}

// Errors from parsing a client's body are the client's: 400-class codes only (kCorrupt is a value
// of the wrong JSON type, answered 400 in Pydantic's words: server/protocol/api_error.cpp).
inline void check_client_error(const Error& e) {
  FUZZ_CHECK(e.code == ErrorCode::kInvalidArgument || e.code == ErrorCode::kUnsupported ||
                 e.code == ErrorCode::kNotFound || e.code == ErrorCode::kCorrupt,
             std::string(error_code_name(e.code)) + ": " + e.message);
  FUZZ_CHECK(!e.message.empty(), "an error without a message");
}

inline void check_items(const std::vector<server::PromptInput>& prompts,
                        const std::vector<server::GenerateItem>& items, const server::RequestLimits& limits) {
  FUZZ_CHECK(!prompts.empty(), "no prompt");
  FUZZ_CHECK(!items.empty() && items.size() % prompts.size() == 0, std::to_string(items.size()));
  FUZZ_CHECK(items.size() <= limits.max_batch, std::to_string(items.size()));
  const size_t n = items.size() / prompts.size();
  for (const auto& p : prompts) {
    if (p.is_ids) {
      FUZZ_CHECK(!p.ids.empty(), "empty id prompt");
      FUZZ_CHECK(server::check_token_ids(p.ids, limits, "prompt").ok(), "prompt ids outside the vocabulary");
    } else {
      FUZZ_CHECK(!p.text.empty(), "empty text prompt");
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    FUZZ_CHECK(it.prompt_index == i / n && it.sample_index == static_cast<int64_t>(i % n),
               "not prompt-major");
    FUZZ_CHECK(!it.rid.empty(), "empty rid");
    FUZZ_CHECK(it.sampling.n == 1, "an item is one sample");
    auto valid = server::validate_sampling_params(it.sampling, limits);
    FUZZ_CHECK(valid.ok(), valid.ok() ? "" : valid.error().message);
    FUZZ_CHECK(it.logprob.top_logprobs_num >= 0, std::to_string(it.logprob.top_logprobs_num));
  }
}

}  // namespace sgl::fuzz
