#include "server/protocol/openai_response.h"

#include "server/protocol/json_writer.h"

namespace sgl::server {
namespace {

using detail::ojson;

ojson head_json(const ResponseHead& h, const char* object) {
  return {{"id", h.id}, {"object", object}, {"created", h.created}, {"model", h.model}};
}

ojson top_map(const std::vector<TopEntry>& top) {
  ojson m = ojson::object();
  for (const auto& e : top) m[e.token] = e.logprob;
  return m;
}

ojson completion_logprobs_json(const std::optional<CompletionLogprobs>& lp) {
  if (!lp) return nullptr;
  ojson offsets = ojson::array(), values = ojson::array(), tops = ojson::array();
  for (size_t i = 0; i < lp->tokens.size(); ++i) offsets.push_back(-1);  // SGLang never fills offsets
  for (const auto& v : lp->token_logprobs) values.push_back(v ? ojson(*v) : ojson(nullptr));
  for (const auto& t : lp->top_logprobs) tops.push_back(t ? top_map(*t) : ojson(nullptr));
  return {{"text_offset", std::move(offsets)},
          {"token_logprobs", std::move(values)},
          {"tokens", lp->tokens},
          {"top_logprobs", std::move(tops)}};
}

ojson completion_choice_json(const CompletionChoice& c) {
  const char* fin = c.finish.openai_name();
  ojson j = {{"index", c.index},
             {"text", c.text},
             {"logprobs", completion_logprobs_json(c.logprobs)},
             {"finish_reason", fin ? ojson(fin) : ojson(nullptr)},
             {"matched_stop", detail::matched_stop_json(c.finish)}};
  if (c.routed_experts) j["routed_experts"] = *c.routed_experts;
  return j;
}

ojson bytes_of(const std::string& s) {
  ojson b = ojson::array();
  for (unsigned char ch : s) b.push_back(int(ch));
  return b;
}

ojson chat_logprob_entries(const std::vector<ChatTokenLogprob>& tokens) {
  ojson content = ojson::array();
  for (const auto& t : tokens) {
    ojson top = ojson::array();
    for (const auto& e : t.top)
      top.push_back({{"token", e.token}, {"bytes", bytes_of(e.token)}, {"logprob", e.logprob}});
    content.push_back({{"token", t.token},
                       {"bytes", bytes_of(t.token)},
                       {"logprob", t.logprob},
                       {"top_logprobs", std::move(top)}});
  }
  return content;
}

ojson chat_logprobs_json(const std::optional<std::vector<ChatTokenLogprob>>& lp) {
  if (!lp) return nullptr;
  return {{"content", chat_logprob_entries(*lp)}};
}

ojson opt_str(const std::optional<std::string>& s) { return s ? ojson(*s) : ojson(nullptr); }

ojson tool_calls(const std::optional<std::string>& j) {
  if (!j) return nullptr;
  return ojson::parse(*j, nullptr, false);
}

ojson chat_finish(const ChatChoice& c) {
  if (c.finished_by_tool_calls) return "tool_calls";
  const char* fin = c.finish.openai_name();
  return fin ? ojson(fin) : ojson(nullptr);
}

ojson chat_matched(const ChatChoice& c) {
  return c.finished_by_tool_calls ? ojson(nullptr) : detail::matched_stop_json(c.finish);
}

}  // namespace

std::string completion_response_json(const ResponseHead& head, const std::vector<CompletionChoice>& choices,
                                     const Usage& usage) {
  ojson j = head_json(head, "text_completion");
  ojson cs = ojson::array();
  for (const auto& c : choices) cs.push_back(completion_choice_json(c));
  j["choices"] = std::move(cs);
  j["usage"] = detail::usage_json(usage);
  return detail::dump(j);
}

std::string completion_chunk_json(const ResponseHead& head, const CompletionChoice& choice,
                                  const std::optional<Usage>& usage) {
  ojson j = head_json(head, "text_completion");
  j["choices"] = ojson::array({completion_choice_json(choice)});
  j["usage"] = usage ? detail::usage_json(*usage) : ojson(nullptr);
  return detail::dump(j);
}

std::string chat_response_json(const ResponseHead& head, const std::vector<ChatChoice>& choices,
                               const Usage& usage) {
  ojson j = head_json(head, "chat.completion");
  ojson cs = ojson::array();
  for (const auto& c : choices) {
    // An empty answer is null content, as SGLang returns it.
    ojson content = c.content && !c.content->empty() ? ojson(*c.content) : ojson(nullptr);
    ojson message = {{"role", c.role.value_or("assistant")},
                     {"content", std::move(content)},
                     {"reasoning_content", opt_str(c.reasoning_content)},
                     {"tool_calls", tool_calls(c.tool_calls_json)}};
    cs.push_back({{"index", c.index},
                  {"message", std::move(message)},
                  {"logprobs", chat_logprobs_json(c.logprobs)},
                  {"finish_reason", chat_finish(c)},
                  {"matched_stop", chat_matched(c)}});
  }
  j["choices"] = std::move(cs);
  j["usage"] = detail::usage_json(usage);
  return detail::dump(j);
}

std::string chat_chunk_json(const ResponseHead& head, const ChatChoice& c,
                            const std::optional<Usage>& usage) {
  ojson j = head_json(head, "chat.completion.chunk");
  ojson delta = {{"role", opt_str(c.role)},
                 {"content", opt_str(c.content)},
                 {"reasoning_content", opt_str(c.reasoning_content)},
                 {"tool_calls", tool_calls(c.tool_calls_json)}};
  j["choices"] = ojson::array({{{"index", c.index},
                                {"delta", std::move(delta)},
                                {"logprobs", chat_logprobs_json(c.logprobs)},
                                {"finish_reason", chat_finish(c)},
                                // SGLang's stream keeps the matched stop even for "tool_calls".
                                {"matched_stop", detail::matched_stop_json(c.finish)}}});
  j["usage"] = usage ? detail::usage_json(*usage) : ojson(nullptr);
  return detail::dump(j);
}

std::string usage_chunk_json(const ResponseHead& head, const char* object, const Usage& usage) {
  ojson j = head_json(head, object);
  j["choices"] = ojson::array();
  j["usage"] = detail::usage_json(usage);
  return detail::dump(j);
}

std::string chat_logprob_entries_json(const std::vector<ChatTokenLogprob>& tokens) {
  return chat_logprob_entries(tokens).dump(-1, ' ', false, ojson::error_handler_t::replace);
}

}  // namespace sgl::server
