#include "server/parsers/reasoning_parser.h"

#include <cctype>

#include "server/parsers/normal_text.h"

namespace sgl::server {
namespace {

bool is_ws(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

ReasoningParser::ReasoningParser(std::string start_tag, std::string end_tag, bool in_reasoning)
    : start_(std::move(start_tag)), end_(std::move(end_tag)), in_reasoning_(in_reasoning) {}

ReasoningDelta ReasoningParser::feed(std::string_view chunk) {
  buffer_.append(chunk);
  ReasoningDelta out;
  run(false, out);
  return out;
}

ReasoningDelta ReasoningParser::finish() {
  ReasoningDelta out;
  run(true, out);
  return out;
}

void ReasoningParser::run(bool final_flush, ReasoningDelta& out) {
  if (block_done_ || (!in_reasoning_ && seen_start_)) {
    // Answer text. Leading whitespace after </think> is layout, not content.
    std::string_view s = buffer_;
    if (!content_started_) {
      size_t i = 0;
      while (i < s.size() && is_ws(s[i])) ++i;
      s.remove_prefix(i);
      if (!s.empty()) content_started_ = true;
    }
    out.content.append(s);
    buffer_.clear();
    return;
  }
  if (!in_reasoning_) {
    // Before any block: a <think> at the start (after whitespace) opens one; else it is all answer.
    size_t i = 0;
    while (i < buffer_.size() && is_ws(buffer_[i])) ++i;
    std::string_view rest = std::string_view(buffer_).substr(i);
    if (rest.starts_with(start_)) {
      buffer_.erase(0, i + start_.size());
      in_reasoning_ = true;
      seen_start_ = true;
    } else if (!final_flush && rest.size() < start_.size() && std::string_view(start_).starts_with(rest)) {
      return;  // may still become <think>
    } else {
      seen_start_ = true;  // no block: everything is content, verbatim
      content_started_ = true;
      out.content.append(buffer_);
      buffer_.clear();
      return;
    }
  }
  // Inside the block. The prompt may already have opened it; a literal <think> here is dropped.
  if (!seen_start_) {
    size_t i = 0;
    while (i < buffer_.size() && is_ws(buffer_[i])) ++i;
    std::string_view rest = std::string_view(buffer_).substr(i);
    if (rest.starts_with(start_)) {
      buffer_.erase(0, i + start_.size());
      seen_start_ = true;
    } else if (!final_flush && rest.size() < start_.size() && std::string_view(start_).starts_with(rest)) {
      return;
    } else if (!rest.empty()) {
      seen_start_ = true;
    }
  }
  size_t end = buffer_.find(end_);
  if (end != std::string::npos) {
    emit_reasoning(std::string_view(buffer_).substr(0, end), /*block_end=*/true, out);
    buffer_.erase(0, end + end_.size());
    block_done_ = true;
    in_reasoning_ = false;
    run(final_flush, out);
    return;
  }
  size_t hold = final_flush ? 0 : partial_tag_suffix(buffer_, end_);
  // Truncated thinking (no </think> at the end) is all reasoning.
  emit_reasoning(std::string_view(buffer_).substr(0, buffer_.size() - hold), final_flush, out);
  buffer_.erase(0, buffer_.size() - hold);
}

// Whitespace at the start and end of the block is layout: the leading run is dropped, a trailing
// run is held until more reasoning follows it.
void ReasoningParser::emit_reasoning(std::string_view r, bool block_end, ReasoningDelta& out) {
  if (!reasoning_started_) {
    size_t i = 0;
    while (i < r.size() && is_ws(r[i])) ++i;
    r.remove_prefix(i);
  }
  size_t last = r.size();
  while (last > 0 && is_ws(r[last - 1])) --last;
  if (last > 0) {
    out.reasoning += held_ws_;
    out.reasoning.append(r.substr(0, last));
    held_ws_.clear();
    reasoning_started_ = true;
  }
  held_ws_.append(r.substr(last));
  if (block_end) held_ws_.clear();
}

namespace {

// SGLang(-JAX)'s detector names → tags, and whether the output starts inside the block.
struct ReasoningFormat {
  std::string_view name, start, end;
  bool forced;
};
constexpr ReasoningFormat kFormats[] = {
    {"deepseek-r1", "<think>", "</think>", true},
    {"qwen3", "<think>", "</think>", false},
    {"qwen3-thinking", "<think>", "</think>", true},
    {"mimo", "<think>", "</think>", false},  // SGLang-JAX maps it to its Qwen3 detector
    {"glm45", "<think>", "</think>", false},
    {"glm47", "<think>", "</think>", false},
    {"kimi", "\xe2\x97\x81think\xe2\x96\xb7", "\xe2\x97\x81/think\xe2\x96\xb7", false},  // ◁think▷ ◁/think▷
};

const ReasoningFormat* find_format(std::string_view name) {
  for (const auto& f : kFormats)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace

bool is_reasoning_parser_name(std::string_view name) { return find_format(name) != nullptr; }

Result<std::unique_ptr<ReasoningParser>> make_reasoning_parser(std::string_view name, std::string_view prompt,
                                                               bool force) {
  const ReasoningFormat* f = find_format(name);
  if (!f)
    return invalid_argument("unknown reasoning parser '" + std::string(name) +
                            "' (known: deepseek-r1, qwen3, qwen3-thinking, mimo, glm45, glm47, kimi)");
  bool in_reasoning = force || f->forced;
  // An open start tag at the end of the prompt: the model continues inside the block.
  size_t open = prompt.rfind(f->start);
  if (open != std::string_view::npos && prompt.find(f->end, open) == std::string_view::npos)
    in_reasoning = true;
  return std::make_unique<ReasoningParser>(std::string(f->start), std::string(f->end), in_reasoning);
}

ReasoningDelta split_reasoning(ReasoningParser& fresh_parser, std::string_view text) {
  ReasoningDelta out = fresh_parser.feed(text);
  ReasoningDelta tail = fresh_parser.finish();
  out.reasoning += tail.reasoning;
  out.content += tail.content;
  return out;
}

}  // namespace sgl::server
