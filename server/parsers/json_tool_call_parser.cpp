// `hermes` / `qwen25`: <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call> blocks.
//
// A call is emitted once its JSON object is complete (string-aware bracket matching), as a name
// item then one arguments item re-serialised the way SGLang does (Python json.dumps). Emitting the
// name before the object is known to be valid would let a malformed block leak half a call into
// the stream while the non-streamed answer turns it into plain text; holding it keeps both equal.
#include "server/parsers/json_tool_call_parser.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "server/parsers/normal_text.h"
#include "server/parsers/python_json.h"

namespace sgl::server {
namespace {

constexpr std::string_view kStart = "<tool_call>";
constexpr std::string_view kEnd = "</tool_call>";

}  // namespace

// Scans what was added to the open call since the last feed: the JSON value's brackets (as
// scan_json_value does) and the first end tag outside string literals ("echo '</tool_call>'" is an
// argument). Resuming keeps a long call (a whole file as an argument) linear, not quadratic.
void JsonToolCallParser::CallScan::advance(std::string_view buf) {
  while (next < buf.size() && end_tag == std::string::npos) {
    const char c = buf[next];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      ++next;
      continue;
    }
    if (c == '<') {
      std::string_view rest = buf.substr(next);
      if (rest.starts_with(kEnd)) {
        end_tag = next;
        break;
      }
      if (rest.size() < kEnd.size() && kEnd.starts_with(rest)) break;  // maybe the tag: wait
    }
    if (state == JsonScan::State::kIncomplete) {
      if (stack.empty()) {
        if (c == '{' || c == '[') {
          stack.push_back(c == '{' ? '}' : ']');
        } else if (!std::isspace(static_cast<unsigned char>(c))) {
          state = JsonScan::State::kInvalid;
        }
      } else if (c == '{' || c == '[') {
        stack.push_back(c == '{' ? '}' : ']');
      } else if (c == '}' || c == ']') {
        if (stack.back() != c) {
          state = JsonScan::State::kInvalid;
        } else {
          stack.pop_back();
          if (stack.empty()) {
            state = JsonScan::State::kComplete;
            value_end = next + 1;
          }
        }
      }
    }
    if (c == '"') in_string = true;
    ++next;
  }
}

JsonToolCallParser::JsonToolCallParser(std::vector<ToolSchema> tools) : tools_(std::move(tools)) {}

// Emits normal text, scrubbing stray end tags and holding back a possible partial start or end tag.
void JsonToolCallParser::emit_outside(bool final_flush, ToolParseResult& out) {
  for (;;) {
    size_t end_tag = buffer_.find(kEnd);
    size_t start_tag = buffer_.find(kStart);
    if (start_tag != std::string::npos && (end_tag == std::string::npos || start_tag < end_tag)) {
      text_.push(std::string_view(buffer_).substr(0, start_tag), out.normal_text);
      buffer_.erase(0, start_tag + kStart.size());
      in_call_ = true;
      scan_ = {};
      return;
    }
    if (end_tag != std::string::npos) {  // a stray end tag is not content
      text_.push(std::string_view(buffer_).substr(0, end_tag), out.normal_text);
      buffer_.erase(0, end_tag + kEnd.size());
      continue;
    }
    size_t hold =
        final_flush ? 0 : std::max(partial_tag_suffix(buffer_, kStart), partial_tag_suffix(buffer_, kEnd));
    text_.push(std::string_view(buffer_).substr(0, buffer_.size() - hold), out.normal_text);
    buffer_.erase(0, buffer_.size() - hold);
    return;
  }
}

// Turns one parsed JSON value (an object, or a list of objects as Qwen2.5 sometimes writes) into
// call items; false when it is not a call.
bool JsonToolCallParser::emit_calls(std::string_view json_text, ToolParseResult& out) {
  using Json = nlohmann::ordered_json;
  Json j = Json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (j.is_discarded()) return false;
  std::vector<Json> objs;
  if (j.is_array()) {
    for (auto& e : j) objs.push_back(e);
  } else {
    objs.push_back(j);
  }
  if (objs.empty()) return false;
  for (const auto& o : objs) {
    if (!o.is_object() || !o.contains("name") || !o["name"].is_string() ||
        o["name"].get_ref<const std::string&>().empty())
      return false;
    const Json* args = o.contains("arguments")    ? &o["arguments"]
                       : o.contains("parameters") ? &o["parameters"]
                                                  : nullptr;
    if (args != nullptr && !args->is_object() && !args->is_string()) return false;
  }
  text_.call_started();
  for (const auto& o : objs) {
    std::string name = o["name"].get<std::string>();
    if (!tools_.empty() && find_tool(tools_, name) == nullptr)
      spdlog::warn("tool call names a function not in `tools`: {}", name);
    const Json* args = o.contains("arguments")    ? &o["arguments"]
                       : o.contains("parameters") ? &o["parameters"]
                                                  : nullptr;
    std::string args_text = "{}";
    if (args != nullptr) {
      // Some models write arguments as a JSON string holding the object.
      std::string raw = args->is_string() ? args->get<std::string>() : args->dump();
      if (auto re = python_json_reserialize(raw)) {
        args_text = *re;
      } else {
        args_text = python_json_string(raw);
      }
    }
    out.calls.push_back({next_index_, std::move(name), ""});
    out.calls.push_back({next_index_, "", std::move(args_text)});
    ++next_index_;
  }
  return true;
}

ToolParseResult JsonToolCallParser::feed(std::string_view chunk) {
  buffer_.append(chunk);
  ToolParseResult out;
  run(false, out);
  return out;
}

ToolParseResult JsonToolCallParser::finish() {
  ToolParseResult out;
  run(true, out);
  text_.finish(out.normal_text);
  return out;
}

void JsonToolCallParser::run(bool final_flush, ToolParseResult& out) {
  for (;;) {
    if (!in_call_) {
      emit_outside(final_flush, out);
      if (!in_call_) return;
    }
    scan_.advance(buffer_);
    const JsonScan scan{scan_.state, scan_.value_end};
    size_t end_tag = scan_.end_tag;
    // Not JSON at all: quotes mean nothing, and the block ends at its first end tag — also when the
    // quote-aware scan found a later one, which a stream may not have received yet (the fuzzer's
    // finding: streamed and whole parses then cut the block at different tags).
    if (scan.state == JsonScan::State::kInvalid) end_tag = buffer_.find(kEnd);
    bool bad = scan.state == JsonScan::State::kInvalid ||
               (scan.state == JsonScan::State::kIncomplete && end_tag != std::string::npos);
    if (scan.state == JsonScan::State::kComplete) {
      // The block must close right after the object (whitespace allowed).
      size_t p = scan.end;
      while (p < buffer_.size() && std::isspace(static_cast<unsigned char>(buffer_[p]))) ++p;
      std::string_view rest = std::string_view(buffer_).substr(p);
      if (!final_flush && rest.size() < kEnd.size() && kEnd.starts_with(rest)) return;  // wait
      if (rest.starts_with(kEnd) && emit_calls(std::string_view(buffer_).substr(0, scan.end), out)) {
        buffer_.erase(0, p + kEnd.size());
        in_call_ = false;
        continue;
      }
      if (final_flush && rest.empty() && emit_calls(std::string_view(buffer_).substr(0, scan.end), out)) {
        buffer_.clear();  // the model stopped right after the object: the call is whole
        in_call_ = false;
        continue;
      }
      bad = true;
    }
    if (!bad && !final_flush) return;  // incomplete: wait for more
    // A bad block is text through its end tag: wait for the tag so the text is whole.
    if (!final_flush && end_tag == std::string::npos) return;
    // Malformed or unterminated: the block is plain text, up to and including its end tag.
    size_t stop = end_tag == std::string::npos ? buffer_.size() : end_tag + kEnd.size();
    std::string raw = std::string(kStart) + buffer_.substr(0, stop);
    buffer_.erase(0, stop);
    in_call_ = false;
    text_.push(raw, out.normal_text);
  }
}

}  // namespace sgl::server
