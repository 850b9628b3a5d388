#include "server/parsers/qwen3_coder_parser.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "server/parsers/python_json.h"

namespace sgl::server {
namespace {

constexpr std::string_view kStart = "<tool_call>";
constexpr std::string_view kEnd = "</tool_call>";
constexpr std::string_view kFunction = "<function=";
constexpr std::string_view kFunctionEnd = "</function>";
constexpr std::string_view kParam = "<parameter=";
constexpr std::string_view kParamEnd = "</parameter>";
constexpr size_t kLongestTag = std::max({kEnd.size(), kFunctionEnd.size(), kParam.size(), kParamEnd.size()});
constexpr size_t kMaxHeader = 512;  // a <function=...> or <parameter=...> header longer is garbage

size_t skip_ws(std::string_view s, size_t i = 0) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

std::string_view trim(std::string_view s) {
  size_t b = skip_ws(s);
  size_t e = s.size();
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// `s` is a proper prefix of `tag` (more text may complete it).
bool is_prefix_of(std::string_view s, std::string_view tag) {
  return s.size() < tag.size() && tag.starts_with(s);
}

size_t min_pos(std::initializer_list<size_t> ps) {
  size_t m = std::string::npos;
  for (size_t p : ps) m = std::min(m, p);
  return m;
}

}  // namespace

Qwen3CoderParser::Qwen3CoderParser(std::vector<ToolSchema> tools) : tools_(std::move(tools)) {}

ToolParseResult Qwen3CoderParser::feed(std::string_view chunk) {
  buffer_.append(chunk);
  ToolParseResult out;
  run(false, out);
  return out;
}

ToolParseResult Qwen3CoderParser::finish() {
  ToolParseResult out;
  run(true, out);
  text_.finish(out.normal_text);
  return out;
}

void Qwen3CoderParser::run(bool final_flush, ToolParseResult& out) {
  for (;;) {
    bool progressed = false;
    switch (state_) {
      case State::kOutside:
        progressed = step_outside(final_flush, out);
        break;
      case State::kInBlock:
        progressed = step_in_block(final_flush, out);
        break;
      case State::kInFunction:
        progressed = step_in_function(final_flush, out);
        break;
    }
    if (!progressed) return;
  }
}

bool Qwen3CoderParser::step_outside(bool final_flush, ToolParseResult& out) {
  size_t start = buffer_.find(kStart);
  if (start == std::string::npos) {
    size_t hold = final_flush ? 0 : partial_tag_suffix(buffer_, kStart);
    text_.push(std::string_view(buffer_).substr(0, buffer_.size() - hold), out.normal_text);
    buffer_.erase(0, buffer_.size() - hold);
    return false;
  }
  text_.push(std::string_view(buffer_).substr(0, start), out.normal_text);
  buffer_.erase(0, start + kStart.size());
  block_raw_ = kStart;
  function_in_block_ = false;
  state_ = State::kInBlock;
  return true;
}

// Inside <tool_call>, before a <function=...> header or between functions.
bool Qwen3CoderParser::step_in_block(bool final_flush, ToolParseResult& out) {
  size_t i = skip_ws(buffer_);
  std::string_view rest = std::string_view(buffer_).substr(i);
  auto give_up_as_text = [&] {
    // Not a call after all: the block's raw text (through its end tag, if any) is content — up to
    // the next <tool_call> at most, which starts a block of its own. Without either in view, what
    // may be the start of that next tag stays buffered, so that streamed and whole text split alike
    // (found by tests/fuzz/chat_output_fuzz.cpp).
    const size_t end = buffer_.find(kEnd), next = buffer_.find(kStart);
    size_t stop = 0;
    if (end != std::string::npos && (next == std::string::npos || end < next))
      stop = end + kEnd.size();
    else if (next != std::string::npos)
      stop = next;
    else
      stop = buffer_.size() - (final_flush ? 0 : partial_tag_suffix(buffer_, kStart));
    text_.push(block_raw_ + buffer_.substr(0, stop), out.normal_text);
    buffer_.erase(0, stop);
    block_raw_.clear();
    state_ = State::kOutside;
    return true;
  };
  if (rest.starts_with(kFunction)) {
    size_t close = rest.find('>');
    if (close == std::string::npos) {
      if (rest.size() > kMaxHeader || final_flush) return function_in_block_ ? false : give_up_as_text();
      return false;
    }
    std::string name(trim(rest.substr(kFunction.size(), close - kFunction.size())));
    // A header without a name calls nothing: not a call (found by tests/fuzz/tool_call_parser_fuzz.cpp).
    if (name.empty()) {
      if (!function_in_block_) return give_up_as_text();
      buffer_.erase(0, i + close + 1);  // a nameless function after a call: skipped
      return true;
    }
    tool_ = find_tool(tools_, name);
    if (tool_ == nullptr && !tools_.empty())
      spdlog::warn("qwen3_coder: tool call names a function not in `tools`: {}", name);
    if (!function_in_block_) text_.call_started();
    function_in_block_ = true;
    out.calls.push_back({next_index_, std::move(name), ""});
    params_sent_ = 0;
    buffer_.erase(0, i + close + 1);
    block_raw_.clear();
    state_ = State::kInFunction;
    return true;
  }
  if (function_in_block_) {
    // After </function>: the block should close; anything else up to the end tag is dropped.
    size_t end = buffer_.find(kEnd);
    if (end != std::string::npos) {
      buffer_.erase(0, end + kEnd.size());
      state_ = State::kOutside;
      return true;
    }
    if (final_flush) {
      buffer_.clear();
      state_ = State::kOutside;
    }
    return false;
  }
  if (!final_flush && (is_prefix_of(rest, kFunction) || rest.empty())) return false;
  if (final_flush || !rest.empty()) return give_up_as_text();
  return false;
}

void Qwen3CoderParser::close_function(ToolParseResult& out) {
  out.calls.push_back({next_index_, "", params_sent_ == 0 ? "{}" : "}"});
  ++next_index_;
  tool_ = nullptr;
}

bool Qwen3CoderParser::step_in_function(bool final_flush, ToolParseResult& out) {
  size_t i = skip_ws(buffer_);
  std::string_view rest = std::string_view(buffer_).substr(i);
  if (rest.starts_with(kParam)) {
    size_t close = rest.find('>');
    if (close == std::string::npos) {
      if (!final_flush && rest.size() <= kMaxHeader) return false;
      // An unterminated (or absurd) header: drop it and close the call.
      buffer_.clear();
      close_function(out);
      state_ = State::kOutside;
      return true;
    }
    std::string_view body = rest.substr(close + 1);
    // The value only grows while it waits for its end: resume the search where the last one
    // stopped (less a tag's length), so a long value costs linear time, not quadratic.
    const size_t from = value_scanned_;
    size_t end = min_pos({body.find(kParamEnd, from), body.find(kParam, from), body.find(kFunctionEnd, from),
                          body.find(kEnd, from)});
    if (end == std::string::npos && !final_flush) {
      value_scanned_ = body.size() > kLongestTag ? body.size() - kLongestTag : 0;
      return false;
    }
    value_scanned_ = 0;
    if (end == std::string::npos) end = body.size();
    std::string name(trim(rest.substr(kParam.size(), close - kParam.size())));
    std::string_view value = body.substr(0, end);
    if (value.starts_with('\n')) value.remove_prefix(1);
    if (value.ends_with('\n')) value.remove_suffix(1);
    const std::string* type = tool_ != nullptr ? tool_->param_type(name) : nullptr;
    std::string pair = python_json_string(name) + ": " + coder_param_value_json(value, type);
    out.calls.push_back({next_index_, "", (params_sent_ == 0 ? "{" : ", ") + pair});
    ++params_sent_;
    size_t consumed = i + close + 1 + end;
    if (body.substr(end).starts_with(kParamEnd)) consumed += kParamEnd.size();
    buffer_.erase(0, consumed);
    return true;
  }
  if (rest.starts_with(kFunctionEnd)) {
    close_function(out);
    buffer_.erase(0, i + kFunctionEnd.size());
    state_ = State::kInBlock;
    return true;
  }
  if (rest.starts_with(kEnd)) {  // block closed without </function>
    close_function(out);
    buffer_.erase(0, i + kEnd.size());
    state_ = State::kOutside;
    return true;
  }
  if (final_flush) {
    close_function(out);
    buffer_.clear();
    state_ = State::kOutside;
    return false;
  }
  if (rest.empty() || is_prefix_of(rest, kParam) || is_prefix_of(rest, kFunctionEnd) ||
      is_prefix_of(rest, kEnd))
    return false;
  // Stray text between parameters: skip to the next tag.
  size_t lt = rest.find('<', 1);
  buffer_.erase(0, lt == std::string::npos ? buffer_.size() : i + lt);
  return lt != std::string::npos;
}

}  // namespace sgl::server
