// POST /generate bodies → parse_generate_request: arbitrary bytes give a client error or a request
// whose items are self-consistent (request_checks.h).
#include "request_checks.h"
#include "server/protocol/generate_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto limits = sgl::fuzz::fuzz_limits();
  auto req = sgl::server::parse_generate_request(body, limits);
  if (!req.ok()) {
    sgl::fuzz::check_client_error(req.error());
    return 0;
  }
  sgl::fuzz::check_items(req->prompts, req->items, limits);
  // A list answer for a batch or n > 1; a single prompt with n = 1 may still be a batch of one.
  FUZZ_CHECK(req->list_response || req->items.size() == 1, std::to_string(req->items.size()));
  for (const auto& it : req->items)
    for (int32_t id : it.logprob.token_ids_logprob)
      FUZZ_CHECK(id >= 0 && id < limits.vocab_size, std::to_string(id));
  return 0;
}
