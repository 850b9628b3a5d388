// POST /v1/embeddings (OpenAI) and /encode (SGLang's native route): last-token pooling of the
// model's final hidden state (after the final norm), cut to `dimensions` (Matryoshka) and
// L2-normalised, as SGLang serves Qwen3-Embedding-style models. Parsing and the JSON here are
// pure; the route runs one greedy token per input with return_hidden_states for the state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/protocol/generate_request.h"

namespace sgl::server {

struct EmbeddingRequest {
  std::vector<PromptInput> inputs;
  bool batch = false;  // /encode: a list input answers with a list
  std::string model;
  bool base64 = false;                // encoding_format "base64": little-endian float32 bytes
  std::optional<int64_t> dimensions;  // keep the first N components (then normalise)
};

// {"input": str | [str] | [int] | [[int]], "model"?, "encoding_format"?: "float"|"base64",
//  "dimensions"?: int, "user"?}. Ids must lie in the vocabulary; dimensions in 1..hidden_size.
Result<EmbeddingRequest> parse_embedding_request(std::string_view body, int64_t vocab_size,
                                                 int64_t hidden_size);
// SGLang's /encode: {"text": str | [str]} or {"input_ids": [int] | [[int]]}, "dimensions"?.
Result<EmbeddingRequest> parse_encode_request(std::string_view body, int64_t vocab_size, int64_t hidden_size);

// The pooled embedding: the first `dimensions` components of the last token's hidden state,
// L2-normalised (a zero vector stays zero).
std::vector<float> pool_embedding(const std::vector<float>& hidden, std::optional<int64_t> dimensions);

// {"object":"list","data":[{"object":"embedding","embedding":[…] | "base64…","index":i}…],
//  "model":…, "usage":{"prompt_tokens","total_tokens"}}.
std::string embeddings_response_json(const std::vector<std::vector<float>>& embeddings, bool base64,
                                     const std::string& model, int64_t prompt_tokens);
// /encode: {"embedding":[…], "meta_info":{"id","finish_reason":null,"prompt_tokens","cached_tokens"}} (a
// list of those for a list input).
struct EncodeResult {
  std::vector<float> embedding;
  std::string rid;
  int64_t prompt_tokens = 0, cached_tokens = 0;
};
std::string encode_response_json(const std::vector<EncodeResult>& results, bool batch);

}  // namespace sgl::server
