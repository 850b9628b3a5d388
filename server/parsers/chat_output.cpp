#include "server/parsers/chat_output.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <random>

namespace sgl::server {

Result<std::unique_ptr<ChatOutputParser>> ChatOutputParser::create(const ChatParsingOptions& opts,
                                                                   std::string_view prompt) {
  auto p = std::make_unique<ChatOutputParser>();
  // Bad tools are refused whatever the flags: the template would render them into the prompt.
  std::vector<ToolSchema> tools;
  if (opts.tools_json) {
    SGL_ASSIGN_OR_RETURN(tools, parse_tools_json(*opts.tools_json));
  }
  if (!opts.tool_call_parser.empty() && opts.tools_json && !opts.tool_choice_none) {
    SGL_ASSIGN_OR_RETURN(p->tools_, make_tool_call_parser(opts.tool_call_parser, std::move(tools)));
  }
  // SGLang skips reasoning parsing when the template was told not to think (it then renders an
  // empty <think></think> itself, so the output holds no block).
  if (!opts.reasoning_parser.empty() && opts.separate_reasoning && opts.thinking_enabled) {
    SGL_ASSIGN_OR_RETURN(p->reasoning_,
                         make_reasoning_parser(opts.reasoning_parser, prompt, opts.force_reasoning));
  }
  p->stream_reasoning_ = opts.stream_reasoning;
  // A forced call is decoded under the JSON schema of an array of calls, so its answer is that
  // array with or without --tool-call-parser (the parser reads the model's own format).
  if (opts.tools_json && opts.forced_tool_call && !opts.tool_choice_none) p->array_mode_ = ArrayMode::kArray;
  return p;
}

ChatPieces ChatOutputParser::feed(std::string_view text) {
  ChatPieces out;
  if (reasoning_) {
    route(reasoning_->feed(text), out);
  } else {
    route_content(text, false, out);
  }
  return out;
}

ChatPieces ChatOutputParser::finish() {
  ChatPieces out;
  if (reasoning_) {
    ReasoningDelta d = reasoning_->finish();
    held_reasoning_ += d.reasoning;
    d.reasoning = std::move(held_reasoning_);
    held_reasoning_.clear();
    stream_reasoning_ = true;
    route(std::move(d), out);
  }
  route_content("", true, out);
  return out;
}

void ChatOutputParser::route(ReasoningDelta d, ChatPieces& out) {
  if (stream_reasoning_) {
    out.reasoning = std::move(d.reasoning);
  } else {
    // stream_reasoning=false: the reasoning goes out in one piece when the answer begins.
    held_reasoning_ += d.reasoning;
    if (!d.content.empty()) {
      out.reasoning = std::move(held_reasoning_);
      held_reasoning_.clear();
    }
  }
  route_content(d.content, false, out);
}

void ChatOutputParser::route_content(std::string_view text, bool final_flush, ChatPieces& out) {
  if (array_mode_ == ArrayMode::kArray) {
    array_text_.append(text);
    if (!final_flush) return;
    array_mode_ = ArrayMode::kText;
    if (auto calls = parse_json_array_calls(array_text_)) {
      for (auto& c : *calls) out.calls.push_back({array_calls_++, std::move(c.name), std::move(c.arguments)});
      return;
    }
    // Cut short (max_tokens) or not calls after all: the text is the content, as SGLang answers.
    feed_tool_parser(array_text_, true, out);
    return;
  }
  feed_tool_parser(text, final_flush, out);
}

void ChatOutputParser::feed_tool_parser(std::string_view text, bool final_flush, ChatPieces& out) {
  if (!tools_) {
    out.content.append(text);
    return;
  }
  ToolParseResult r = text.empty() ? ToolParseResult{} : tools_->feed(text);
  if (final_flush) {
    ToolParseResult tail = tools_->finish();
    r.normal_text += tail.normal_text;
    r.calls.insert(r.calls.end(), tail.calls.begin(), tail.calls.end());
  }
  out.content += r.normal_text;
  out.calls.insert(out.calls.end(), r.calls.begin(), r.calls.end());
}

ChatMessageParts parse_chat_output(ChatOutputParser& fresh_parser, std::string_view text) {
  ChatMessageParts parts;
  ParsedToolCalls calls;
  for (ChatPieces p : {fresh_parser.feed(text), fresh_parser.finish()}) {
    parts.reasoning += p.reasoning;
    merge_tool_items(ToolParseResult{std::move(p.content), std::move(p.calls)}, calls);
  }
  parts.content = std::move(calls.content);
  parts.calls = std::move(calls.calls);
  return parts;
}

std::optional<std::vector<ToolCall>> parse_json_array_calls(std::string_view text) {
  auto j = nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty()) return std::nullopt;
  std::vector<ToolCall> calls;
  for (const auto& c : j) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) return std::nullopt;
    const char* key = c.contains("parameters") ? "parameters" : "arguments";
    auto args = c.contains(key) ? c[key] : nlohmann::ordered_json::object();
    calls.push_back({c["name"].get<std::string>(),
                     args.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)});
  }
  return calls;
}

std::string new_tool_call_id() {
  // Seeded from the OS per thread: ids must not repeat across restarts.
  thread_local std::mt19937_64 gen{std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32)};
  uint64_t hi = gen(), lo = gen();
  return fmt::format("call_{:016x}{:08x}", hi, uint32_t(lo));
}

std::string tool_calls_json(const std::vector<ToolCall>& calls) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (size_t i = 0; i < calls.size(); ++i)
    arr.push_back({{"id", new_tool_call_id()},
                   {"index", i},
                   {"type", "function"},
                   {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}});
  return arr.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string tool_call_delta_json(const ToolCallItem& item, const std::optional<std::string>& id) {
  using J = nlohmann::ordered_json;
  J name = item.name.empty() ? J(nullptr) : J(item.name);
  J call = {{"id", id ? J(*id) : J(nullptr)},
            {"index", item.index},
            {"type", "function"},
            {"function", {{"name", std::move(name)}, {"arguments", item.arguments}}}};
  return J::array({std::move(call)}).dump(-1, ' ', false, J::error_handler_t::replace);
}

}  // namespace sgl::server
