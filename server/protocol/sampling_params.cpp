#include "server/protocol/sampling_params.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>

#include "server/protocol/api_error.h"

namespace sgl::server {
namespace {

using json::read;

constexpr std::array<std::string_view, 26> kNativeKeys = {"max_new_tokens",
                                                          "min_new_tokens",
                                                          "temperature",
                                                          "top_p",
                                                          "top_k",
                                                          "min_p",
                                                          "frequency_penalty",
                                                          "presence_penalty",
                                                          "repetition_penalty",
                                                          "stop",
                                                          "stop_token_ids",
                                                          "ignore_eos",
                                                          "skip_special_tokens",
                                                          "spaces_between_special_tokens",
                                                          "no_stop_trim",
                                                          "n",
                                                          "sampling_seed",
                                                          "json_schema",
                                                          "regex",
                                                          "ebnf",
                                                          "structural_tag",
                                                          "logit_bias",
                                                          "stream_interval",
                                                          "custom_params",
                                                          "stop_regex",
                                                          "seed"};

Error invalid(std::string msg) { return invalid_argument(std::move(msg)); }

// "sampling_params" + "stop" -> "sampling_params.stop"; top-level OpenAI fields have no prefix.
std::string sub(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

bool is_known_key(std::string_view key) {
  for (auto k : kNativeKeys)
    if (k == key) return true;
  return false;
}

Status read_logit_bias(json::Object obj, std::string_view path, SamplingParams& p) {
  auto el = json::find(obj, "logit_bias");
  if (!el) return ok_status();
  std::string where = sub(path, "logit_bias");
  SGL_ASSIGN_OR_RETURN(json::Object bias, json::as_object(*el, where));
  p.logit_bias.clear();
  for (auto [key, value] : bias) {
    int64_t id = 0;
    auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (ec != std::errc() || ptr != key.data() + key.size())
      return json::type_error(fmt::format("{}.{}", where, key), "a token id (integer key)");
    SGL_ASSIGN_OR_RETURN(double b, json::as_number(value, fmt::format("{}.{}", where, key)));
    p.logit_bias.emplace_back(id, b);
  }
  return ok_status();
}

// Fields that native sampling_params and the OpenAI bodies spell the same way.
Status read_common_fields(json::Object obj, std::string_view path, SamplingParams& p) {
  SGL_TRY(read(obj, "temperature", path, p.temperature));
  SGL_TRY(read(obj, "top_p", path, p.top_p));
  SGL_TRY(read(obj, "top_k", path, p.top_k));
  SGL_TRY(read(obj, "min_p", path, p.min_p));
  SGL_TRY(read(obj, "frequency_penalty", path, p.frequency_penalty));
  SGL_TRY(read(obj, "presence_penalty", path, p.presence_penalty));
  SGL_TRY(read(obj, "repetition_penalty", path, p.repetition_penalty));
  if (auto el = json::find(obj, "stop")) {
    SGL_ASSIGN_OR_RETURN(p.stop, json::as_string_or_list(*el, sub(path, "stop")));
  }
  if (auto el = json::find(obj, "stop_token_ids")) {
    SGL_ASSIGN_OR_RETURN(p.stop_token_ids, json::as_int_list(*el, sub(path, "stop_token_ids")));
  }
  SGL_TRY(read(obj, "ignore_eos", path, p.ignore_eos));
  SGL_TRY(read(obj, "skip_special_tokens", path, p.skip_special_tokens));
  SGL_TRY(read(obj, "spaces_between_special_tokens", path, p.spaces_between_special_tokens));
  SGL_TRY(read(obj, "no_stop_trim", path, p.no_stop_trim));
  SGL_TRY(read(obj, "n", path, p.n));
  SGL_TRY(read(obj, "json_schema", path, p.json_schema));
  SGL_TRY(read(obj, "regex", path, p.regex));
  SGL_TRY(read(obj, "ebnf", path, p.ebnf));
  if (auto el = json::find(obj, "structural_tag")) {
    p.structural_tag = json::to_json(*el);
  }
  SGL_TRY(read_logit_bias(obj, path, p));
  return ok_status();
}

}  // namespace

Result<SamplingParams> parse_sampling_params(json::Object obj, std::string_view path, SamplingParams p) {
  for (auto [key, value] : obj) {
    if (!is_known_key(key))
      return invalid(
          fmt::format("Unknown sampling parameter '{}' in {}", key, path.empty() ? "sampling_params" : path));
  }
  const std::string_view prefix = path;
  SGL_TRY(read_common_fields(obj, prefix, p));
  SGL_TRY(json::read(obj, "max_new_tokens", prefix, p.max_new_tokens));
  SGL_TRY(json::read(obj, "min_new_tokens", prefix, p.min_new_tokens));
  SGL_TRY(json::read(obj, "sampling_seed", prefix, p.sampling_seed));
  if (!p.sampling_seed) SGL_TRY(json::read(obj, "seed", prefix, p.sampling_seed));
  SGL_TRY(json::read(obj, "stream_interval", prefix, p.stream_interval));
  return p;
}

Status read_openai_sampling_fields(json::Object obj, SamplingParams& p) {
  SGL_TRY(read_common_fields(obj, "", p));
  SGL_TRY(read(obj, "min_tokens", "", p.min_new_tokens));
  SGL_TRY(read(obj, "seed", "", p.sampling_seed));
  return ok_status();
}

Status validate_sampling_params(const SamplingParams& p, const RequestLimits& limits) {
  auto f = python_float;
  if (!(p.temperature >= 0) || std::isinf(p.temperature))
    return invalid(fmt::format("temperature must be non-negative, got {}.", f(p.temperature)));
  if (!(p.top_p > 0 && p.top_p <= 1))
    return invalid(fmt::format("top_p must be in (0, 1], got {}.", f(p.top_p)));
  if (!(p.min_p >= 0 && p.min_p <= 1))
    return invalid(fmt::format("min_p must be in [0, 1], got {}.", f(p.min_p)));
  if (p.top_k != -1 && p.top_k < 1)
    return invalid(fmt::format("top_k must be -1 (disable) or at least 1, got {}.", p.top_k));
  if (!(p.frequency_penalty >= -2 && p.frequency_penalty <= 2))
    return invalid(fmt::format("frequency_penalty must be in [-2, 2], got {}.", f(p.frequency_penalty)));
  if (!(p.presence_penalty >= -2 && p.presence_penalty <= 2))
    return invalid(fmt::format("presence_penalty must be in [-2, 2], got {}.", f(p.presence_penalty)));
  if (!(p.repetition_penalty >= 0 && p.repetition_penalty <= 2))
    return invalid(fmt::format("repetition_penalty must be in [0, 2], got {}.", f(p.repetition_penalty)));
  if (p.min_new_tokens < 0)
    return invalid(fmt::format("min_new_tokens must be in [0, max_new_tokens], got {}.", p.min_new_tokens));
  if (p.max_new_tokens) {
    if (*p.max_new_tokens < 0)
      return invalid(fmt::format("max_new_tokens must be at least 0, got {}.", *p.max_new_tokens));
    if (p.min_new_tokens > *p.max_new_tokens)
      return invalid(fmt::format("min_new_tokens must be in [0, max_new_tokens({})], got {}.",
                                 *p.max_new_tokens, p.min_new_tokens));
  }
  for (const auto& [id, bias] : p.logit_bias) {
    if (id < 0 || id >= limits.vocab_size)
      return invalid(fmt::format("logit_bias must has keys in [0, {}], got {}.", limits.vocab_size - 1, id));
    if (!std::isfinite(bias))
      return invalid(fmt::format("logit_bias values must be finite, got {}.", f(bias)));
  }
  int grammars = bool(p.json_schema) + bool(p.regex) + bool(p.ebnf);
  if (grammars > 1) return invalid("Only one of regex, json_schema, or ebnf can be set.");
  if ((grammars > 0 || p.structural_tag) && !limits.grammar_supported)
    return invalid(
        "Structured output (json_schema, regex, ebnf, structural_tag) is not supported with speculative "
        "decoding (--speculative-algorithm) yet.");
  if (p.n < 1) return invalid(fmt::format("n must be at least 1, got {}.", p.n));
  if (p.n > limits.max_n) return invalid(fmt::format("n must be at most {}, got {}.", limits.max_n, p.n));
  if (p.stop.size() > limits.max_stop_strings)
    return invalid(
        fmt::format("At most {} stop strings are allowed, got {}.", limits.max_stop_strings, p.stop.size()));
  for (const auto& s : p.stop) {
    if (s.empty()) return invalid("Stop strings must not be empty.");
    if (s.size() > limits.max_stop_string_bytes)
      return invalid(fmt::format("Stop strings must be at most {} bytes.", limits.max_stop_string_bytes));
  }
  for (int64_t id : p.stop_token_ids) {
    if (id < 0 || id >= limits.vocab_size)
      return invalid(fmt::format("stop_token_ids must be in [0, {}], got {}.", limits.vocab_size - 1, id));
  }
  if (p.stream_interval && *p.stream_interval < 1)
    return invalid(fmt::format("stream_interval must be at least 1, got {}.", *p.stream_interval));
  return ok_status();
}

Result<int64_t> check_prompt_length(int64_t prompt_tokens, std::optional<int64_t> max_new_tokens,
                                    const RequestLimits& limits) {
  const int64_t ctx = limits.context_length;
  if (prompt_tokens >= ctx)
    return invalid(fmt::format("The input ({} tokens) is longer than the model's context length ({} tokens).",
                               prompt_tokens, ctx));
  if (!max_new_tokens) return ctx - prompt_tokens - 1;
  // Compared without the sum: a max_new_tokens near INT64_MAX would overflow it (found by
  // tests/fuzz/sampling_params_fuzz.cpp under UBSan).
  if (*max_new_tokens >= ctx - prompt_tokens)
    return invalid(
        fmt::format("Requested token count exceeds the model's maximum context length of {} tokens. You "
                    "requested a total of "
                    "{} tokens: {} tokens from the input messages and {} tokens for the completion. Please "
                    "reduce the number "
                    "of tokens in the input messages or the completion to fit within the limit.",
                    ctx, static_cast<double>(prompt_tokens) + static_cast<double>(*max_new_tokens),
                    prompt_tokens, *max_new_tokens));
  return *max_new_tokens;
}

Status check_prompt_bytes(size_t text_bytes, const RequestLimits& limits) {
  const int64_t per_token = limits.max_bytes_per_token;
  if (per_token <= 0 || limits.allow_auto_truncate) return ok_status();
  const int64_t min_tokens = (int64_t(text_bytes) + per_token - 1) / per_token;
  if (min_tokens < limits.context_length) return ok_status();
  return invalid(
      fmt::format("The input (at least {} tokens) is longer than the model's context length ({} tokens).",
                  min_tokens, limits.context_length));
}

}  // namespace sgl::server
