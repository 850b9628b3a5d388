#include "server/protocol/generate_response.h"

#include "server/protocol/json_writer.h"

namespace sgl::server {

const char* FinishReason::openai_name() const {
  switch (type) {
    case Type::kLength:
      return "length";
    case Type::kStopToken:
    case Type::kStopString:
      return "stop";
    case Type::kAbort:
      return "abort";
    case Type::kNone:
      break;
  }
  return nullptr;
}

namespace detail {

ojson finish_reason_json(const FinishReason& f) {
  using T = FinishReason::Type;
  switch (f.type) {
    case T::kNone:
      return nullptr;
    case T::kLength:
      return {{"type", "length"}, {"length", f.length}};
    case T::kStopToken:
      return {{"type", "stop"}, {"matched", f.matched_token}};
    case T::kStopString:
      return {{"type", "stop"}, {"matched", f.matched_str}};
    case T::kAbort: {
      ojson j = {{"type", "abort"}, {"message", f.message}};
      j["status_code"] = f.status_code ? ojson(*f.status_code) : ojson(nullptr);
      j["err_type"] = nullptr;
      return j;
    }
  }
  return nullptr;
}

ojson matched_stop_json(const FinishReason& f) {
  if (f.type == FinishReason::Type::kStopToken) return f.matched_token;
  if (f.type == FinishReason::Type::kStopString) return f.matched_str;
  return nullptr;
}

ojson usage_json(const Usage& u) {
  ojson j = {{"prompt_tokens", u.prompt_tokens},
             {"total_tokens", u.prompt_tokens + u.completion_tokens},
             {"completion_tokens", u.completion_tokens}};
  if (u.report_cached && u.cached_tokens > 0)
    j["prompt_tokens_details"] = {{"cached_tokens", u.cached_tokens}};
  else
    j["prompt_tokens_details"] = nullptr;
  return j;
}

}  // namespace detail

namespace {

using detail::ojson;

ojson triple(const TokenLogprob& t) {
  ojson j = ojson::array();
  j.push_back(t.logprob ? ojson(*t.logprob) : ojson(nullptr));
  j.push_back(t.token_id);
  j.push_back(t.text ? ojson(*t.text) : ojson(nullptr));
  return j;
}

ojson triples(const std::vector<TokenLogprob>& v) {
  ojson j = ojson::array();
  for (const auto& t : v) j.push_back(triple(t));
  return j;
}

ojson top_lists(const std::vector<TopLogprobs>& v) {
  ojson j = ojson::array();
  for (const auto& pos : v) j.push_back(pos ? triples(*pos) : ojson(nullptr));
  return j;
}

ojson output_object(const GenerateOutput& out) {
  ojson meta;
  meta["id"] = out.rid;
  meta["finish_reason"] = detail::finish_reason_json(out.finish);
  meta["prompt_tokens"] = out.prompt_tokens;
  if (out.logprobs) {
    const LogprobArrays& lp = *out.logprobs;
    if (lp.include_input) meta["input_token_logprobs"] = triples(lp.input_token_logprobs);
    meta["output_token_logprobs"] = triples(lp.output_token_logprobs);
    if (lp.include_top) {
      if (lp.include_input) meta["input_top_logprobs"] = top_lists(lp.input_top_logprobs);
      meta["output_top_logprobs"] = top_lists(lp.output_top_logprobs);
    }
  }
  meta["completion_tokens"] = out.completion_tokens;
  meta["cached_tokens"] = out.cached_tokens;
  if (out.e2e_latency) meta["e2e_latency"] = *out.e2e_latency;
  ojson j;
  j["text"] = out.text;
  j["output_ids"] = out.output_ids;
  j["meta_info"] = std::move(meta);
  if (out.index) j["index"] = *out.index;
  return j;
}

}  // namespace

std::string generate_output_json(const GenerateOutput& out) { return detail::dump(output_object(out)); }

std::string generate_outputs_json(const std::vector<GenerateOutput>& outs) {
  ojson j = ojson::array();
  for (const auto& o : outs) j.push_back(output_object(o));
  return detail::dump(j);
}

}  // namespace sgl::server
