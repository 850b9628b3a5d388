// POST /v1/completions bodies → parse_completion_request: a client error, or items that are
// self-consistent (request_checks.h) with OpenAI's logprobs bound.
#include "request_checks.h"
#include "server/protocol/openai_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto limits = sgl::fuzz::fuzz_limits();
  auto req = sgl::server::parse_completion_request(body, limits);
  if (!req.ok()) {
    sgl::fuzz::check_client_error(req.error());
    return 0;
  }
  sgl::fuzz::check_items(req->prompts, req->items, limits);
  if (req->logprobs) FUZZ_CHECK(*req->logprobs >= 0 && *req->logprobs <= 20, std::to_string(*req->logprobs));
  for (const auto& it : req->items) {
    FUZZ_CHECK(it.logprob.return_logprob == req->logprobs.has_value(), "logprobs not on every item");
    FUZZ_CHECK(it.sampling.max_new_tokens.has_value(), "completions always bound max_tokens");
  }
  return 0;
}
