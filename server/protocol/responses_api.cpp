#include "server/protocol/responses_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <random>

#include "server/protocol/api_error.h"

namespace sgl::server {
namespace {

std::string dump(const RJson& j) { return j.dump(-1, ' ', false, RJson::error_handler_t::replace); }

Error bad(std::string msg) { return invalid_argument(std::move(msg)); }

const char* type_name(const RJson& j) {
  if (j.is_string()) return "a valid string";
  return j.type_name();
}

Status read_string(const RJson& o, const char* key, std::optional<std::string>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return ok_status();
  if (!it->is_string()) return bad_body(fmt::format("{}: Input should be a valid string", key));
  out = it->get<std::string>();
  return ok_status();
}

Status read_bool(const RJson& o, const char* key, bool& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return ok_status();
  if (!it->is_boolean()) return bad_body(fmt::format("{}: Input should be a valid boolean", key));
  out = it->get<bool>();
  return ok_status();
}

Status read_number(const RJson& o, const char* key, std::optional<double>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return ok_status();
  if (!it->is_number()) return bad_body(fmt::format("{}: Input should be a valid number", key));
  out = it->get<double>();
  return ok_status();
}

// The text of a message's content: a string, or the text of its input_text/output_text/text parts.
Result<std::string> content_text(const RJson& content, size_t index) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array())
    return bad_body(fmt::format("input[{}].content: Input should be a valid string or list", index));
  std::string text;
  for (const auto& part : content) {
    if (part.is_string()) {
      text += part.get<std::string>();
      continue;
    }
    if (!part.is_object())
      return bad_body(fmt::format("input[{}].content: each part must be an object", index));
    std::string type = part.value("type", "");
    if (type != "input_text" && type != "output_text" && type != "text")
      return bad(fmt::format(
          "input[{}].content: part type '{}' is not supported (only input_text/output_text)", index, type));
    auto t = part.find("text");
    if (t == part.end() || !t->is_string())
      return bad_body(fmt::format("input[{}].content.text: Field required", index));
    text += t->get<std::string>();
  }
  return text;
}

// Appends a tool call to the assistant message just before, or opens one.
void add_tool_call(RJson& messages, RJson call) {
  if (messages.empty() || messages.back().value("role", "") != "assistant") {
    messages.push_back({{"role", "assistant"}, {"content", ""}, {"tool_calls", RJson::array()}});
  }
  RJson& last = messages.back();
  if (!last.contains("tool_calls") || !last["tool_calls"].is_array()) last["tool_calls"] = RJson::array();
  last["tool_calls"].push_back(std::move(call));
}

RJson chat_tool_call(const std::string& call_id, const std::string& name, const std::string& arguments) {
  return {{"id", call_id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
}

std::string random_hex32() {
  thread_local std::mt19937_64 gen{std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32)};
  return fmt::format("{:016x}{:016x}", gen(), gen());
}

// text.format: {"type": "text"} | {"type": "json_object"} | {"type": "json_schema", "name",
// "schema", "strict"?, "description"?} (the Responses API's structured output).
Status check_text_format(const RJson& text) {
  auto f = text.find("format");
  if (f == text.end() || f->is_null()) return ok_status();
  if (!f->is_object()) return bad_body("text.format: Input should be a valid dictionary");
  const std::string type = f->value("type", "");
  if (type == "text" || type == "json_object") return ok_status();
  if (type != "json_schema")
    return bad_body(fmt::format(
        "text.format.type: Input should be 'text', 'json_schema' or 'json_object', got '{}'", type));
  auto name = f->find("name");
  if (name == f->end() || !name->is_string()) return bad_body("text.format.name: Field required");
  auto schema = f->find("schema");
  if (schema == f->end() || !schema->is_object()) return bad_body("text.format.schema: Field required");
  return ok_status();
}

}  // namespace

namespace {

// SGLang's ResponsesRequest.include: a list of these literals (pydantic refuses any other).
constexpr std::array<std::string_view, 6> kIncludable = {
    "code_interpreter_call.outputs", "computer_call_output.output.image_url", "file_search_call.results",
    "message.input_image.image_url", "message.output_text.logprobs",          "reasoning.encrypted_content"};

Status read_include(const RJson& root, ResponsesRequest& req) {
  if (auto it = root.find("include"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return bad_body("include: Input should be a valid list");
    for (size_t i = 0; i < it->size(); ++i) {
      const RJson& v = (*it)[i];
      const bool known = v.is_string() && std::find(kIncludable.begin(), kIncludable.end(),
                                                    v.get<std::string>()) != kIncludable.end();
      if (!known)
        return bad_body(
            fmt::format("include[{}]: Input should be 'code_interpreter_call.outputs', "
                        "'computer_call_output.output.image_url', 'file_search_call.results', "
                        "'message.input_image.image_url', 'message.output_text.logprobs' or "
                        "'reasoning.encrypted_content'",
                        i));
      req.include.push_back(v.get<std::string>());
    }
  }
  if (auto it = root.find("top_logprobs"); it != root.end() && !it->is_null()) {
    if (!it->is_number_integer()) return bad_body("top_logprobs: Input should be a valid integer");
    req.top_logprobs = it->get<int64_t>();
    if (req.top_logprobs < 0 || req.top_logprobs > 20)
      return bad(fmt::format("top_logprobs must be between 0 and 20, got {}.", req.top_logprobs));
  }
  return ok_status();
}

}  // namespace

Result<ResponsesRequest> parse_responses_request(std::string_view body) {
  RJson root = RJson::parse(body, nullptr, false);
  if (root.is_discarded()) return bad_body("Invalid JSON body");
  if (!root.is_object()) return bad_body("body: Input should be a valid dictionary");
  ResponsesRequest req;
  if (auto it = root.find("model"); it != root.end() && !it->is_null()) {
    if (!it->is_string()) return bad_body("model: Input should be a valid string");
    req.model = it->get<std::string>();
  }
  auto input = root.find("input");
  if (input == root.end() || input->is_null()) return bad_body("input: Field required");
  if (!input->is_string() && !input->is_array())
    return bad_body(fmt::format("input: Input should be a valid string or list, got {}", type_name(*input)));
  req.input = *input;
  SGL_TRY(read_string(root, "instructions", req.instructions));
  if (auto it = root.find("max_output_tokens"); it != root.end() && !it->is_null()) {
    if (!it->is_number_integer()) return bad_body("max_output_tokens: Input should be a valid integer");
    req.max_output_tokens = it->get<int64_t>();
    if (*req.max_output_tokens < 1)
      return bad(fmt::format("max_output_tokens must be at least 1, got {}.", *req.max_output_tokens));
  }
  SGL_TRY(read_number(root, "temperature", req.temperature));
  SGL_TRY(read_number(root, "top_p", req.top_p));
  if (auto it = root.find("tools"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return bad_body("tools: Input should be a valid list");
    for (size_t i = 0; i < it->size(); ++i) {
      const RJson& t = (*it)[i];
      if (!t.is_object()) return bad_body(fmt::format("tools[{}]: Input should be a valid dictionary", i));
      std::string type = t.value("type", "");
      if (type != "function")
        return bad(fmt::format("tools[{}]: tool type '{}' is not supported (only function tools)", i, type));
      auto name = t.find("name");
      if (name == t.end() || !name->is_string())
        return bad_body(fmt::format("tools[{}].name: Field required", i));
    }
    req.tools = *it;
  }
  if (auto it = root.find("tool_choice"); it != root.end() && !it->is_null()) {
    if (it->is_string()) {
      std::string c = it->get<std::string>();
      if (c != "none" && c != "auto" && c != "required")
        return bad_body(
            fmt::format("tool_choice: Input should be 'none', 'auto' or 'required', got '{}'", c));
    } else if (it->is_object()) {
      if (it->value("type", "") != "function" || !it->contains("name") || !(*it)["name"].is_string())
        return bad(R"(tool_choice: only {"type":"function","name":...} objects are supported)");
    } else {
      return bad_body("tool_choice: Input should be a valid string or dictionary");
    }
    req.tool_choice = *it;
  }
  SGL_TRY(read_bool(root, "store", req.store));
  SGL_TRY(read_string(root, "previous_response_id", req.previous_response_id));
  SGL_TRY(read_bool(root, "stream", req.stream));
  SGL_TRY(read_bool(root, "background", req.background));
  if (req.background && !req.store) return bad("Background mode requires store to be true.");
  SGL_TRY(read_bool(root, "parallel_tool_calls", req.parallel_tool_calls));
  if (auto it = root.find("metadata"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) return bad_body("metadata: Input should be a valid dictionary");
    req.metadata = *it;
  }
  if (auto it = root.find("user"); it != root.end() && !it->is_null()) {
    if (!it->is_string()) return bad_body("user: Input should be a valid string");
    req.user = *it;
  }
  if (auto it = root.find("reasoning"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) return bad_body("reasoning: Input should be a valid dictionary");
    req.reasoning = *it;
  }
  if (auto it = root.find("text"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) return bad_body("text: Input should be a valid dictionary");
    req.text = *it;
    SGL_TRY(check_text_format(req.text));
  }
  SGL_TRY(read_include(root, req));
  return req;
}

bool ResponsesRequest::wants_output_logprobs() const {
  return std::find(include.begin(), include.end(), "message.output_text.logprobs") != include.end();
}

void attach_output_logprobs(RJson& output, const RJson& entries) {
  for (auto& item : output) {
    if (item.value("type", "") != "message" || !item.contains("content")) continue;
    for (auto& part : item["content"])
      if (part.value("type", "") == "output_text") part["logprobs"] = entries;
  }
}

Result<RJson> input_messages(const RJson& input) {
  RJson messages = RJson::array();
  if (input.is_string()) {
    messages.push_back({{"role", "user"}, {"content", input.get<std::string>()}});
    return messages;
  }
  if (!input.is_array()) return bad_body("input: Input should be a valid string or list");
  for (size_t i = 0; i < input.size(); ++i) {
    const RJson& item = input[i];
    if (!item.is_object()) return bad_body(fmt::format("input[{}]: Input should be a valid dictionary", i));
    std::string type = item.value("type", item.contains("role") ? "message" : "");
    if (type == "message") {
      auto role = item.find("role");
      if (role == item.end() || !role->is_string())
        return bad_body(fmt::format("input[{}].role: Field required", i));
      std::string r = role->get<std::string>();
      if (r == "developer") r = "system";
      if (r != "user" && r != "system" && r != "assistant")
        return bad_body(
            fmt::format("input[{}].role: Input should be 'user', 'assistant', 'system' or 'developer'", i));
      auto content = item.find("content");
      SGL_ASSIGN_OR_RETURN(std::string text, content_text(content == item.end() ? RJson() : *content, i));
      messages.push_back({{"role", r}, {"content", std::move(text)}});
    } else if (type == "function_call") {
      for (const char* key : {"call_id", "name", "arguments"})
        if (!item.contains(key) || !item[key].is_string())
          return bad_body(fmt::format("input[{}].{}: Field required", i, key));
      add_tool_call(messages,
                    chat_tool_call(item["call_id"].get<std::string>(), item["name"].get<std::string>(),
                                   item["arguments"].get<std::string>()));
    } else if (type == "function_call_output") {
      if (!item.contains("call_id") || !item["call_id"].is_string())
        return bad_body(fmt::format("input[{}].call_id: Field required", i));
      auto out = item.find("output");
      if (out == item.end()) return bad_body(fmt::format("input[{}].output: Field required", i));
      std::string text;
      if (out->is_string()) {
        text = out->get<std::string>();
      } else {
        SGL_ASSIGN_OR_RETURN(text, content_text(*out, i));
      }
      messages.push_back({{"role", "tool"}, {"tool_call_id", item["call_id"]}, {"content", std::move(text)}});
    } else if (type == "reasoning") {
      continue;  // earlier chains of thought are not shown to the model again
    } else {
      return bad(fmt::format("input[{}]: item type '{}' is not supported", i, type));
    }
  }
  return messages;
}

RJson output_messages(const RJson& output) {
  RJson messages = RJson::array();
  if (!output.is_array()) return messages;
  for (const auto& item : output) {
    std::string type = item.value("type", "");
    if (type == "message") {
      std::string text;
      if (item.contains("content") && item["content"].is_array())
        for (const auto& p : item["content"])
          if (p.is_object() && p.value("type", "") == "output_text") text += p.value("text", "");
      messages.push_back({{"role", "assistant"}, {"content", std::move(text)}});
    } else if (type == "function_call") {
      add_tool_call(messages, chat_tool_call(item.value("call_id", ""), item.value("name", ""),
                                             item.value("arguments", "")));
    }
  }
  return messages;
}

std::string chat_body(const ResponsesRequest& req, const RJson& messages, std::string_view rid) {
  RJson body = {{"model", req.model}, {"messages", messages}, {"rid", rid}, {"stream", false}};
  if (req.max_output_tokens) body["max_completion_tokens"] = *req.max_output_tokens;
  if (req.temperature) body["temperature"] = *req.temperature;
  if (req.top_p) body["top_p"] = *req.top_p;
  if (req.wants_output_logprobs()) {
    body["logprobs"] = true;
    body["top_logprobs"] = req.top_logprobs;
  }
  // Structured output: the chat API's response_format of the same schema.
  if (req.text.is_object() && req.text.contains("format") && req.text["format"].is_object()) {
    const RJson& f = req.text["format"];
    const std::string type = f.value("type", "text");
    if (type == "json_object") {
      body["response_format"] = {{"type", "json_object"}};
    } else if (type == "json_schema") {
      RJson js = {{"name", f["name"]}, {"schema", f["schema"]}};
      if (f.contains("strict") && f["strict"].is_boolean()) js["strict"] = f["strict"];
      if (f.contains("description") && f["description"].is_string()) js["description"] = f["description"];
      body["response_format"] = {{"type", "json_schema"}, {"json_schema", std::move(js)}};
    }
  }
  if (!req.tools.empty()) {
    RJson tools = RJson::array();
    for (const auto& t : req.tools) {
      RJson f = {{"name", t["name"]}};
      if (t.contains("description")) f["description"] = t["description"];
      f["parameters"] = t.value("parameters", RJson::object());
      if (t.contains("strict") && t["strict"].is_boolean()) f["strict"] = t["strict"];
      tools.push_back({{"type", "function"}, {"function", std::move(f)}});
    }
    body["tools"] = std::move(tools);
    if (req.tool_choice.is_object())
      body["tool_choice"] = {{"type", "function"}, {"function", {{"name", req.tool_choice["name"]}}}};
    else
      body["tool_choice"] = req.tool_choice;
    body["parallel_tool_calls"] = req.parallel_tool_calls;
  }
  return dump(body);
}

std::string new_response_item_id(std::string_view prefix) { return std::string(prefix) + random_hex32(); }

RJson response_object(const ResponsesRequest& req, std::string_view id, int64_t created_at,
                      std::string_view status, const RJson& output, const std::optional<ResponseUsage>& usage,
                      std::optional<std::string> incomplete_reason,
                      std::optional<std::string> error_message) {
  RJson r;
  r["id"] = id;
  r["object"] = "response";
  r["created_at"] = created_at;
  r["status"] = status;
  r["background"] = req.background;
  r["error"] = error_message ? RJson{{"code", "server_error"}, {"message", *error_message}} : RJson(nullptr);
  r["incomplete_details"] = incomplete_reason ? RJson{{"reason", *incomplete_reason}} : RJson(nullptr);
  r["instructions"] = req.instructions ? RJson(*req.instructions) : RJson(nullptr);
  r["max_output_tokens"] = req.max_output_tokens ? RJson(*req.max_output_tokens) : RJson(nullptr);
  r["model"] = req.model;
  r["output"] = output;
  r["parallel_tool_calls"] = req.parallel_tool_calls;
  r["previous_response_id"] = req.previous_response_id ? RJson(*req.previous_response_id) : RJson(nullptr);
  r["reasoning"] = req.reasoning.is_null() ? RJson{{"effort", nullptr}, {"summary", nullptr}} : req.reasoning;
  r["store"] = req.store;
  r["temperature"] = req.temperature ? RJson(*req.temperature) : RJson(1.0);
  r["text"] = req.text.is_null() ? RJson{{"format", {{"type", "text"}}}} : req.text;
  r["tool_choice"] = req.tool_choice;
  r["tools"] = req.tools;
  r["top_p"] = req.top_p ? RJson(*req.top_p) : RJson(1.0);
  r["truncation"] = "disabled";
  if (usage) {
    r["usage"] = {{"input_tokens", usage->input_tokens},
                  {"input_tokens_details", {{"cached_tokens", usage->cached_tokens}}},
                  {"output_tokens", usage->output_tokens},
                  {"output_tokens_details", {{"reasoning_tokens", usage->reasoning_tokens}}},
                  {"total_tokens", usage->input_tokens + usage->output_tokens}};
  } else {
    r["usage"] = nullptr;
  }
  r["user"] = req.user;
  r["metadata"] = req.metadata.is_null() ? RJson::object() : req.metadata;
  return r;
}

// ---- Stream state -------------------------------------------------------------------------------

std::string ResponseStreamState::event(std::string_view type, RJson fields) {
  RJson e = {{"type", type}};
  for (auto& [k, v] : fields.items()) e[k] = std::move(v);
  e["sequence_number"] = seq_++;
  return fmt::format("event: {}\ndata: {}\n\n", type, dump(e));
}

RJson ResponseStreamState::current_item(std::string_view status) const {
  switch (kind_) {
    case Kind::kReasoning:
      return {{"id", id_},
              {"type", "reasoning"},
              {"summary", RJson::array()},
              {"content", RJson::array({{{"type", "reasoning_text"}, {"text", text_}}})},
              {"status", status}};
    case Kind::kMessage:
      return {{"id", id_},
              {"type", "message"},
              {"status", status},
              {"content", status == "in_progress" ? RJson::array()
                                                  : RJson::array({{{"type", "output_text"},
                                                                   {"text", text_},
                                                                   {"annotations", RJson::array()},
                                                                   {"logprobs", RJson::array()}}})},
              {"role", "assistant"}};
    case Kind::kCall:
      return {{"id", id_},          {"type", "function_call"}, {"status", status},
              {"arguments", text_}, {"call_id", call_id_},     {"name", name_}};
    case Kind::kNone:
      break;
  }
  return nullptr;
}

void ResponseStreamState::open(Kind kind, std::vector<std::string>& out, const ToolCallItem* call) {
  kind_ = kind;
  text_.clear();
  const size_t index = output_.size();
  if (kind == Kind::kReasoning) {
    id_ = new_response_item_id("rs_");
  } else if (kind == Kind::kMessage) {
    id_ = new_response_item_id("msg_");
  } else {
    id_ = new_response_item_id("fc_");
    name_ = call->name;
    call_id_ = new_tool_call_id();
    call_index_ = call->index;
  }
  RJson added = current_item("in_progress");
  if (kind == Kind::kReasoning) added["content"] = RJson::array();
  out.push_back(event("response.output_item.added", {{"output_index", index}, {"item", std::move(added)}}));
  if (kind == Kind::kMessage)
    out.push_back(
        event("response.content_part.added",
              {{"item_id", id_},
               {"output_index", index},
               {"content_index", 0},
               {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", RJson::array()}}}}));
  else if (kind == Kind::kReasoning)
    out.push_back(
        event("response.content_part.added", {{"item_id", id_},
                                              {"output_index", index},
                                              {"content_index", 0},
                                              {"part", {{"type", "reasoning_text"}, {"text", ""}}}}));
}

void ResponseStreamState::close_into(std::vector<std::string>& out, std::string_view item_status) {
  if (kind_ == Kind::kNone) return;
  const size_t index = output_.size();
  RJson item = current_item(item_status);
  if (kind_ == Kind::kMessage) {
    out.push_back(event("response.output_text.done", {{"item_id", id_},
                                                      {"output_index", index},
                                                      {"content_index", 0},
                                                      {"text", text_},
                                                      {"logprobs", RJson::array()}}));
    out.push_back(event(
        "response.content_part.done",
        {{"item_id", id_}, {"output_index", index}, {"content_index", 0}, {"part", item["content"][0]}}));
  } else if (kind_ == Kind::kReasoning) {
    out.push_back(event("response.reasoning_text.done",
                        {{"item_id", id_}, {"output_index", index}, {"content_index", 0}, {"text", text_}}));
    out.push_back(event(
        "response.content_part.done",
        {{"item_id", id_}, {"output_index", index}, {"content_index", 0}, {"part", item["content"][0]}}));
  } else {
    out.push_back(event("response.function_call_arguments.done",
                        {{"item_id", id_}, {"output_index", index}, {"name", name_}, {"arguments", text_}}));
  }
  out.push_back(event("response.output_item.done", {{"output_index", index}, {"item", item}}));
  output_.push_back(std::move(item));
  kind_ = Kind::kNone;
  call_index_ = -1;
}

std::vector<std::string> ResponseStreamState::feed(const ChatPieces& pieces) {
  std::vector<std::string> out;
  if (!pieces.reasoning.empty()) {
    if (kind_ != Kind::kReasoning) {
      close_into(out, "completed");
      open(Kind::kReasoning, out);
    }
    text_ += pieces.reasoning;
    out.push_back(event("response.reasoning_text.delta", {{"item_id", id_},
                                                          {"output_index", output_.size()},
                                                          {"content_index", 0},
                                                          {"delta", pieces.reasoning}}));
  }
  if (!pieces.content.empty()) {
    if (kind_ != Kind::kMessage) {
      close_into(out, "completed");
      open(Kind::kMessage, out);
    }
    text_ += pieces.content;
    out.push_back(event("response.output_text.delta", {{"item_id", id_},
                                                       {"output_index", output_.size()},
                                                       {"content_index", 0},
                                                       {"delta", pieces.content},
                                                       {"logprobs", RJson::array()}}));
  }
  for (const auto& call : pieces.calls) {
    // A call's first fragment names it; later ones carry argument text only.
    if (!call.name.empty()) {
      close_into(out, "completed");
      open(Kind::kCall, out, &call);
    } else if (kind_ != Kind::kCall) {
      continue;  // a stray fragment outside any call
    }
    if (call.arguments.empty()) continue;
    text_ += call.arguments;
    out.push_back(event("response.function_call_arguments.delta",
                        {{"item_id", id_}, {"output_index", output_.size()}, {"delta", call.arguments}}));
  }
  return out;
}

std::vector<std::string> ResponseStreamState::close(std::string_view item_status) {
  std::vector<std::string> out;
  close_into(out, item_status);
  return out;
}

RJson output_items(const ChatMessageParts& parts, std::string_view item_status) {
  ResponseStreamState s;
  ChatPieces p;
  p.reasoning = parts.reasoning;
  p.content = parts.content;
  for (size_t i = 0; i < parts.calls.size(); ++i)
    p.calls.push_back({int(i), parts.calls[i].name, parts.calls[i].arguments});
  s.feed(p);
  s.close(item_status);
  return s.output();
}

std::string output_text(const RJson& output) {
  std::string text;
  for (const auto& item : output)
    if (item.value("type", "") == "message" && item.contains("content"))
      for (const auto& p : item["content"])
        if (p.value("type", "") == "output_text") text += p.value("text", "");
  return text;
}

// ---- Store --------------------------------------------------------------------------------------

void ResponseStore::put(const std::string& id, StoredResponse r) {
  std::lock_guard lock(mu_);
  if (map_.insert_or_assign(id, std::move(r)).second) order_.push_back(id);
  while (map_.size() > capacity_ && !order_.empty()) {
    map_.erase(order_.front());
    order_.pop_front();
  }
  // Ids erased by DELETE linger in order_; drop them once they are most of it.
  if (order_.size() > 2 * capacity_ + 16) {
    std::deque<std::string> live;
    for (auto& k : order_)
      if (map_.count(k)) live.push_back(std::move(k));
    order_ = std::move(live);
  }
}

std::optional<StoredResponse> ResponseStore::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = map_.find(id);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

bool ResponseStore::erase(const std::string& id) {
  std::lock_guard lock(mu_);
  return map_.erase(id) > 0;
}

size_t ResponseStore::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

std::string responses_error_body(int status, std::string_view message, std::string_view param) {
  RJson e = {{"object", "error"},
             {"message", message},
             {"type", "invalid_request_error"},
             {"param", param.empty() ? RJson(nullptr) : RJson(param)},
             {"code", status}};
  return dump(e);
}

}  // namespace sgl::server
