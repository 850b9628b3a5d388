#include "server/routes/openai_common.h"

namespace sgl::server {
namespace {

std::string token_text(const App& app, int32_t id) {
  return app.tokenizer->decode(std::span<const int32_t>(&id, 1), {.skip_special_tokens = false});
}

std::vector<TopEntry> top_entries(const App& app, const TopLogprobs& top) {
  std::vector<TopEntry> out;
  if (!top) return out;
  for (const auto& t : *top)
    out.push_back({t.text ? *t.text : token_text(app, t.token_id), t.logprob.value_or(0.f)});
  return out;
}

}  // namespace

Usage usage_of(const App& app, const std::vector<ItemState>& items) {
  Usage u;
  u.report_cached = app.args.enable_cache_report;
  for (const auto& s : items) {
    if (s.item.sample_index == 0) {
      u.prompt_tokens += s.out.prompt_tokens;
      u.cached_tokens += s.out.cached_tokens;
    }
    u.completion_tokens += s.out.completion_tokens;
    u.reasoning_tokens += s.out.reasoning_tokens;
  }
  return u;
}

CompletionLogprobs completion_logprobs(const App& app, const ItemState& s, size_t from, size_t to) {
  CompletionLogprobs lp;
  if (!s.out.logprobs) return lp;
  const auto& arr = *s.out.logprobs;
  to = std::min(to, arr.output_token_logprobs.size());
  for (size_t i = from; i < to; ++i) {
    const auto& t = arr.output_token_logprobs[i];
    lp.tokens.push_back(t.text ? *t.text : token_text(app, t.token_id));
    lp.token_logprobs.push_back(t.logprob);
    if (i < arr.output_top_logprobs.size() && arr.output_top_logprobs[i])
      lp.top_logprobs.push_back(top_entries(app, arr.output_top_logprobs[i]));
    else
      lp.top_logprobs.push_back(std::nullopt);
  }
  return lp;
}

std::vector<ChatTokenLogprob> chat_logprobs(const App& app, const ItemState& s, size_t from, size_t to) {
  std::vector<ChatTokenLogprob> out;
  if (!s.out.logprobs) return out;
  const auto& arr = *s.out.logprobs;
  to = std::min(to, arr.output_token_logprobs.size());
  for (size_t i = from; i < to; ++i) {
    const auto& t = arr.output_token_logprobs[i];
    ChatTokenLogprob c;
    c.token = t.text ? *t.text : token_text(app, t.token_id);
    c.logprob = t.logprob.value_or(0.f);
    if (i < arr.output_top_logprobs.size()) c.top = top_entries(app, arr.output_top_logprobs[i]);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sgl::server
