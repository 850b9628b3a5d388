// /tokenize and /detokenize (and their /v1/ aliases): SGLang's TokenizeRequest /
// DetokenizeRequest bodies and TokenizeResponse / DetokenizeResponse answers. The tokenizer runs
// in the route; what is here is pure so it is tested without a model.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sgl::server {

struct TokenizeRequest {
  std::vector<std::string> prompts;
  bool batch = false;  // `prompt` was a list: the answer's tokens and count are lists too
  bool add_special_tokens = true;
};
// {"model"?, "prompt": str | [str], "add_special_tokens"?: bool}.
Result<TokenizeRequest> parse_tokenize_request(std::string_view body);
// {"tokens": [...] | [[...]...], "count": n | [n...], "max_model_len": L}.
std::string tokenize_response_json(const std::vector<std::vector<int32_t>>& ids, bool batch,
                                   int64_t max_model_len);

struct DetokenizeRequest {
  std::vector<std::vector<int64_t>> tokens;
  bool batch = false;  // `tokens` was a list of lists: the answer's text is a list
  bool skip_special_tokens = true;
};
// {"model"?, "tokens": [int] | [[int]], "skip_special_tokens"?: bool}. `[]` is one empty sequence.
Result<DetokenizeRequest> parse_detokenize_request(std::string_view body);
// Every id must name a vocabulary entry: an unknown id means the caller used another model's
// tokenizer, which decoding would hide by dropping it.
Status check_token_ids(const DetokenizeRequest& req, int64_t vocab_size);
// {"text": str | [str]}.
std::string detokenize_response_json(const std::vector<std::string>& texts, bool batch);

}  // namespace sgl::server
