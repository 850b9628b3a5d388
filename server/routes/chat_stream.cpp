#include "server/routes/chat_stream.h"

#include <optional>
#include <string>

#include "server/routes/openai_common.h"
#include "server/routes/route_util.h"

namespace sgl::server {
namespace {

// The chunks one update of a choice produces, in SGLang's order: reasoning, content, then one
// chunk per tool-call fragment. Logprobs ride on the first of them.
std::vector<ChatChoice> delta_chunks(size_t index, ChatPieces pieces,
                                     std::optional<std::vector<ChatTokenLogprob>> logprobs) {
  std::vector<ChatChoice> out;
  auto base = [&] {
    ChatChoice c;
    c.index = index;
    return c;
  };
  if (!pieces.reasoning.empty()) {
    ChatChoice c = base();
    c.reasoning_content = std::move(pieces.reasoning);
    out.push_back(std::move(c));
  }
  if (!pieces.content.empty()) {
    ChatChoice c = base();
    c.content = std::move(pieces.content);
    out.push_back(std::move(c));
  }
  for (const auto& item : pieces.calls) {
    // A call's first fragment names it and gets its id; later ones carry argument text only.
    std::optional<std::string> id;
    if (!item.name.empty())
      id = new_tool_call_id();
    else if (item.arguments.empty())
      continue;
    ChatChoice c = base();
    c.tool_calls_json = tool_call_delta_json(item, id);
    out.push_back(std::move(c));
  }
  if (logprobs && !logprobs->empty()) {
    if (out.empty()) {
      ChatChoice c = base();
      c.content = "";
      out.push_back(std::move(c));
    }
    out.front().logprobs = std::move(logprobs);
  }
  return out;
}

void append(ChatPieces& into, ChatPieces more) {
  into.reasoning += more.reasoning;
  into.content += more.content;
  into.calls.insert(into.calls.end(), more.calls.begin(), more.calls.end());
}

}  // namespace

ChatParsingOptions chat_parsing_options(const ServerArgs& args, const ChatRequest& req) {
  ChatParsingOptions o;
  o.tool_call_parser = args.tool_call_parser;
  o.reasoning_parser = args.reasoning_parser;
  o.tools_json = req.tools_json;
  o.tool_choice_none = req.tool_choice == "none";
  o.forced_tool_call = req.tool_choice != "none" && req.tool_choice != "auto";
  o.separate_reasoning = req.separate_reasoning;
  // SGLang skips reasoning parsing when the template was told not to think (it then renders an
  // empty <think></think> itself, so the output holds no block).
  o.thinking_enabled = enable_thinking(req).value_or(true);
  // SGLang forces reasoning mode when the request itself enables thinking: the answer starts inside
  // the block whether or not the template wrote an open <think>.
  o.force_reasoning = enable_thinking(req).value_or(false);
  o.stream_reasoning = req.stream_reasoning;
  return o;
}

bool finished_by_tool_calls(const FinishReason& finish, int num_calls) {
  return num_calls > 0 &&
         (finish.type == FinishReason::Type::kStopToken || finish.type == FinishReason::Type::kStopString);
}

RouteResult stream_chat_response(App& app, net::Exchange& ex, const ChatRequest& req, Generation& gen,
                                 std::vector<std::unique_ptr<ChatOutputParser>>& parsers) {
  auto& items = gen.items();
  // With n > 1 each choice's chunks carry that choice's own rid, as SGLang does.
  auto head_of = [&](size_t i) { return ResponseHead{items[i].item.rid, unix_now(), req.model}; };
  for (size_t i = 0; i < items.size(); ++i) {
    ChatChoice first;
    first.index = i;
    first.role = "assistant";
    first.content = "";
    if (!(co_await ex.write_event(chat_chunk_json(head_of(i), first))).ok()) co_return net::Response{};
  }
  while (co_await gen.next()) {
    for (size_t i = 0; i < items.size(); ++i) {
      auto& s = items[i];
      if (!s.changed) continue;
      std::string_view text = s.out.text;
      std::string delta(text.substr(std::min(s.sent_text, text.size())));
      std::optional<std::vector<ChatTokenLogprob>> lp;
      if (req.logprobs) lp = chat_logprobs(app, s, s.sent_ids, s.out.output_ids.size());
      s.sent_text = std::max(s.sent_text, text.size());
      s.sent_ids = s.out.output_ids.size();
      ChatPieces pieces = parsers[i]->feed(delta);
      const bool done = s.out.finish.finished();
      if (done) append(pieces, parsers[i]->finish());
      for (const auto& c : delta_chunks(i, std::move(pieces), std::move(lp))) {
        // stream_options.continuous_usage_stats: SGLang puts the running usage on every delta.
        std::optional<Usage> running;
        if (req.stream_options.continuous_usage_stats)
          running = Usage{.prompt_tokens = s.out.prompt_tokens,
                          .completion_tokens = s.out.completion_tokens,
                          .reasoning_tokens = s.out.reasoning_tokens};
        if (!(co_await ex.write_event(chat_chunk_json(head_of(i), c, running))).ok()) {
          gen.abort_all();
          co_return net::Response{};
        }
      }
      if (done) {
        ChatChoice last;
        last.index = i;
        last.finish = s.out.finish;
        last.finished_by_tool_calls = finished_by_tool_calls(s.out.finish, parsers[i]->num_calls());
        if (!(co_await ex.write_event(chat_chunk_json(head_of(i), last))).ok()) co_return net::Response{};
      }
    }
  }
  if (req.stream_options.include_usage)
    co_await ex.write_event(usage_chunk_json(head_of(0), "chat.completion.chunk", usage_of(app, items)));
  co_await ex.finish();
  co_return net::Response{};
}

}  // namespace sgl::server
