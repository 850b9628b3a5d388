// A `sampling_params` object (native) and the OpenAI top-level sampling fields → the readers and
// SGLang's validation, then the context-length checks the routes run with the tokenized prompt:
// parameters that pass validation must never make those checks overflow or admit a request that
// does not fit the context.
//
// Input: [prompt length: 2 bytes][a JSON object].
#include <simdjson.h>

#include "request_checks.h"
#include "server/protocol/json_fields.h"
#include "server/protocol/sampling_params.h"

namespace {

void check_fits(const sgl::server::SamplingParams& p, int64_t prompt_tokens,
                const sgl::server::RequestLimits& l) {
  auto budget = sgl::server::check_prompt_length(prompt_tokens, p.max_new_tokens, l);
  if (!budget.ok()) {
    sgl::fuzz::check_client_error(budget.error());
    return;
  }
  FUZZ_CHECK(*budget >= 0, std::to_string(*budget));
  FUZZ_CHECK(prompt_tokens + *budget < l.context_length,
             std::to_string(prompt_tokens) + " + " + std::to_string(*budget));
  if (p.max_new_tokens) FUZZ_CHECK(*budget == *p.max_new_tokens, std::to_string(*budget));
}

void check(sgl::server::SamplingParams p, int64_t prompt_tokens, const sgl::server::RequestLimits& limits) {
  auto valid = sgl::server::validate_sampling_params(p, limits);
  if (!valid.ok()) {
    sgl::fuzz::check_client_error(valid.error());
    return;
  }
  check_fits(p, prompt_tokens, limits);
  check_fits(p, 1, limits);
  check_fits(p, limits.context_length - 1, limits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sgl::fuzz::Input in(data, size);
  const int64_t prompt_tokens = (int64_t(in.byte()) << 8) | in.byte();
  const std::string_view body = in.rest();
  const auto limits = sgl::fuzz::fuzz_limits();

  // Byte bound on huge prompts: never refuses a text that could fit.
  sgl::server::RequestLimits byte_limits = limits;
  byte_limits.max_bytes_per_token = 1 + prompt_tokens % 64;
  if (!sgl::server::check_prompt_bytes(body.size(), byte_limits).ok())
    FUZZ_CHECK(int64_t(body.size()) > (limits.context_length - 1) * byte_limits.max_bytes_per_token,
               std::to_string(body.size()));

  simdjson::dom::parser parser;
  auto root = sgl::server::json::parse_body(parser, body);
  if (!root.ok()) return 0;
  auto obj = sgl::server::json::as_object(*root, "sampling_params");
  if (!obj.ok()) return 0;
  auto native = sgl::server::parse_sampling_params(*obj, "sampling_params");
  if (native.ok())
    check(*native, prompt_tokens, limits);
  else
    sgl::fuzz::check_client_error(native.error());
  sgl::server::SamplingParams openai;
  auto st = sgl::server::read_openai_sampling_fields(*obj, openai);
  if (st.ok())
    check(openai, prompt_tokens, limits);
  else
    sgl::fuzz::check_client_error(st.error());
  return 0;
}
