#include "server/protocol/generate_response.h"

#include <simdjson.h>

#include <charconv>

#include "base/json_escape.h"
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
  j["reasoning_tokens"] = u.reasoning_tokens;  // SGLang's usage key (0 without a reasoning block)
  if (u.report_cached && u.cached_tokens > 0)
    j["prompt_tokens_details"] = {{"cached_tokens", u.cached_tokens}};
  else
    j["prompt_tokens_details"] = nullptr;
  return j;
}

}  // namespace detail

namespace {

using detail::ojson;

// meta_info.hidden_states: the prompt block ([positions][hidden]) first when there is one, then
// one vector per later token.
ojson hidden_states_json(const GenerateOutput& out) {
  ojson a = ojson::array();
  if (!out.prompt_hidden_states.empty()) a.push_back(out.prompt_hidden_states);
  for (const auto& h : *out.hidden_states) a.push_back(h);
  return a;
}

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
    if (lp.include_ids) {  // SGLang's keys for token_ids_logprob
      if (lp.include_input) meta["input_token_ids_logprobs"] = top_lists(lp.input_token_ids_logprobs);
      meta["output_token_ids_logprobs"] = top_lists(lp.output_token_ids_logprobs);
    }
  }
  meta["completion_tokens"] = out.completion_tokens;
  meta["cached_tokens"] = out.cached_tokens;
  meta["reasoning_tokens"] = out.reasoning_tokens;
  if (out.hidden_states) meta["hidden_states"] = hidden_states_json(out);
  if (out.want_routed_experts)
    meta["routed_experts"] = out.routed_experts ? ojson(*out.routed_experts) : ojson(nullptr);
  if (out.e2e_latency) meta["e2e_latency"] = *out.e2e_latency;
  ojson j;
  if (!out.omit_text) j["text"] = out.text;
  j["output_ids"] = out.output_ids;
  j["meta_info"] = std::move(meta);
  if (out.index) j["index"] = *out.index;
  return j;
}

}  // namespace

std::string generate_output_json(const GenerateOutput& out) { return detail::dump(output_object(out)); }

namespace {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_key(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

}  // namespace

namespace {

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// The DOM writer on a copy cut at the offsets: logprob arrays, and invalid UTF-8 (U+FFFD).
std::string cut_copy_json(const GenerateOutput& out, size_t text_from, size_t ids_from,
                          std::optional<size_t> index) {
  GenerateOutput cut = out;
  cut.text.erase(0, std::min(text_from, cut.text.size()));
  cut.output_ids.erase(cut.output_ids.begin(),
                       cut.output_ids.begin() + static_cast<long>(std::min(ids_from, cut.output_ids.size())));
  cut.index = index;
  return generate_output_json(cut);
}

void append_ids(std::string& s, const std::vector<int32_t>& ids, size_t from, bool leading_comma) {
  for (size_t i = from; i < ids.size(); ++i) {
    if (i > from || leading_comma) s += ',';
    append_int(s, ids[i]);
  }
}

// {"text":"<text_json>","output_ids":[<ids_json>],"meta_info":{...}[,"index":i]} with the first
// two already serialised; the rest from `out` in output_object's key order.
std::string assemble_event(std::string_view text_json, std::string_view ids_json, const GenerateOutput& out,
                           std::optional<size_t> index) {
  std::string s;
  s.reserve(160 + text_json.size() + ids_json.size() + out.rid.size());
  s += '{';
  if (!out.omit_text) {
    append_key(s, "text");
    s += '"';
    s += text_json;
    s += "\",";
  }
  append_key(s, "output_ids");
  s += '[';
  s += ids_json;
  s += "],";
  append_key(s, "meta_info");
  s += '{';
  append_key(s, "id");
  s += '"';
  append_json_escaped(s, out.rid);
  s += "\",";
  append_key(s, "finish_reason");
  s += out.finish.finished() ? detail::dump(detail::finish_reason_json(out.finish)) : "null";
  s += ',';
  append_key(s, "prompt_tokens");
  append_int(s, out.prompt_tokens);
  s += ',';
  append_key(s, "completion_tokens");
  append_int(s, out.completion_tokens);
  s += ',';
  append_key(s, "cached_tokens");
  append_int(s, out.cached_tokens);
  s += ',';
  append_key(s, "reasoning_tokens");
  append_int(s, out.reasoning_tokens);
  if (out.hidden_states) {
    s += ',';
    append_key(s, "hidden_states");
    s += detail::dump(hidden_states_json(out));
  }
  if (out.want_routed_experts) {
    s += ',';
    append_key(s, "routed_experts");
    if (out.routed_experts) {
      s += '"';
      s += *out.routed_experts;  // base64: nothing to escape
      s += '"';
    } else {
      s += "null";
    }
  }
  if (out.e2e_latency) {
    s += ',';
    append_key(s, "e2e_latency");
    s += detail::dump(*out.e2e_latency);
  }
  s += '}';
  if (index) {
    s += ',';
    append_key(s, "index");
    append_int(s, static_cast<int64_t>(*index));
  }
  s += '}';
  return s;
}

}  // namespace

std::string generate_event_json(const GenerateOutput& out, size_t text_from, size_t ids_from,
                                std::optional<size_t> index) {
  text_from = std::min(text_from, out.text.size());
  ids_from = std::min(ids_from, out.output_ids.size());
  const std::string_view text = std::string_view(out.text).substr(text_from);
  if (out.logprobs || !valid_utf8(text) || !valid_utf8(out.rid))
    return cut_copy_json(out, text_from, ids_from, index);
  std::string text_json, ids_json;
  append_json_escaped(text_json, text);
  append_ids(ids_json, out.output_ids, ids_from, false);
  return assemble_event(text_json, ids_json, out, index);
}

std::string GenerateEventWriter::cumulative(const GenerateOutput& out, std::optional<size_t> index) {
  if (out.logprobs || !valid_utf8(out.rid)) return cut_copy_json(out, 0, 0, index);
  // The text only grows, but for the stop-string trim at the finish: a shorter text rebuilds.
  if (out.text.size() < text_done_) {
    text_json_.clear();
    text_done_ = 0;
  }
  const std::string_view added = std::string_view(out.text).substr(text_done_);
  if (!valid_utf8(added)) return cut_copy_json(out, 0, 0, index);  // a cut sequence at the finish
  append_json_escaped(text_json_, added);
  text_done_ = out.text.size();
  if (out.output_ids.size() < ids_done_) {
    ids_json_.clear();
    ids_done_ = 0;
  }
  append_ids(ids_json_, out.output_ids, ids_done_, ids_done_ > 0);
  ids_done_ = out.output_ids.size();
  return assemble_event(text_json_, ids_json_, out, index);
}

std::string generate_outputs_json(const std::vector<GenerateOutput>& outs) {
  ojson j = ojson::array();
  for (const auto& o : outs) j.push_back(output_object(o));
  return detail::dump(j);
}

}  // namespace sgl::server
