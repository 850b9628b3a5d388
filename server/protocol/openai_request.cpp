#include "server/protocol/openai_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/protocol/api_error.h"
#include "server/protocol/lora_specs.h"
#include "server/protocol/tool_choice_schema.h"

namespace sgl::server {
namespace {

using simdjson::dom::element_type;

Error invalid(std::string msg) { return invalid_argument(std::move(msg)); }

constexpr int64_t kMaxTopLogprobs = 20;

// max_tokens (and chat's max_completion_tokens) must be positive when given.
Status read_max_tokens(json::Object obj, std::string_view key, std::optional<int64_t>& out) {
  SGL_TRY(json::read(obj, key, "", out));
  if (out && *out <= 0) return invalid(fmt::format("{} must be positive, got {}.", key, *out));
  return ok_status();
}

Status read_stream_options(json::Object obj, StreamOptions& so) {
  auto el = json::find(obj, "stream_options");
  if (!el) return ok_status();
  SGL_ASSIGN_OR_RETURN(json::Object o, json::as_object(*el, "stream_options"));
  SGL_TRY(json::read(o, "include_usage", "stream_options", so.include_usage));
  SGL_TRY(json::read(o, "continuous_usage_stats", "stream_options", so.continuous_usage_stats));
  return ok_status();
}

// prompt: str | [str] | [int] | [[int]]
Status read_completion_prompts(json::Object obj, const RequestLimits& limits,
                               std::vector<PromptInput>& prompts) {
  auto el = json::find(obj, "prompt");
  if (!el) return bad_body("prompt: Field required");
  auto check_ids = [&](json::Element e, std::string path) -> Status {
    SGL_ASSIGN_OR_RETURN(std::vector<int64_t> raw, json::as_int_list(e, path));
    if (raw.empty()) return invalid("The prompt cannot be empty.");
    PromptInput p{true, {}, {}};
    for (int64_t v : raw) {
      if (v < 0 || v >= limits.vocab_size)
        return invalid(
            fmt::format("Token id {} in {} is outside the vocabulary [0, {}).", v, path, limits.vocab_size));
      p.ids.push_back(int32_t(v));
    }
    prompts.push_back(std::move(p));
    return ok_status();
  };
  if (el->type() == element_type::STRING) {
    std::string s(el->get_string().value_unsafe());
    if (s.empty()) return invalid("The prompt cannot be empty.");
    prompts.push_back({false, std::move(s), {}});
    return ok_status();
  }
  if (el->type() != element_type::ARRAY)
    return json::type_error("prompt", "a string, a list of strings or token ids");
  auto arr = el->get_array().value_unsafe();
  if (arr.size() == 0) return invalid("The prompt cannot be empty.");
  auto first_type = arr.at(0).value_unsafe().type();
  if (first_type == element_type::INT64 || first_type == element_type::UINT64 ||
      first_type == element_type::DOUBLE)
    return check_ids(*el, "prompt");
  size_t i = 0;
  for (json::Element item : arr) {
    std::string path = fmt::format("prompt.{}", i++);
    if (item.type() == element_type::ARRAY) {
      SGL_TRY(check_ids(item, path));
    } else {
      SGL_ASSIGN_OR_RETURN(std::string s, json::as_string(item, path));
      if (s.empty()) return invalid("The prompt cannot be empty.");
      prompts.push_back({false, std::move(s), {}});
    }
  }
  return ok_status();
}

// Validates message i and adds the bytes of its text that any chat template renders (every role's
// but the assistant's, whose earlier reasoning a template may drop) to `rendered_bytes`.
Status validate_message(json::Element el, size_t i, size_t& rendered_bytes) {
  std::string path = fmt::format("messages.{}", i);
  SGL_ASSIGN_OR_RETURN(json::Object m, json::as_object(el, path));
  auto role_el = json::find(m, "role");
  if (!role_el) return bad_body(path + ".role: Field required");
  SGL_ASSIGN_OR_RETURN(std::string role, json::as_string(*role_el, path + ".role"));
  std::transform(role.begin(), role.end(), role.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  static constexpr std::string_view kRoles[] = {"system",    "developer", "user",
                                                "assistant", "tool",      "function"};
  if (std::find(std::begin(kRoles), std::end(kRoles), role) == std::end(kRoles))
    return bad_body(
        fmt::format("{}.role: Input should be 'system', 'developer', 'user', 'assistant' or 'tool', got '{}'",
                    path, role));
  auto content = json::find(m, "content");
  const bool rendered = role != "assistant";
  if (content && content->type() == element_type::STRING && rendered)
    rendered_bytes += content->get_string().value_unsafe().size();
  // null content: an assistant turn that only made tool calls.
  if (!content || content->type() == element_type::STRING || content->type() == element_type::NULL_VALUE)
    return ok_status();
  if (content->type() != element_type::ARRAY)
    return json::type_error(path + ".content", "a valid string or list of content parts");
  size_t j = 0;
  for (json::Element part : json::Array(content->get_array().value_unsafe())) {
    std::string ppath = fmt::format("{}.content.{}", path, j++);
    SGL_ASSIGN_OR_RETURN(json::Object p, json::as_object(part, ppath));
    std::string type;
    SGL_TRY(json::read(p, "type", ppath, type));
    if (type == "text") {
      std::string text;
      SGL_TRY(json::read(p, "text", ppath, text));
      if (rendered) rendered_bytes += text.size();
    } else if (type == "image_url" || type == "video_url" || type == "audio_url" || type == "input_audio") {
      return invalid(
          fmt::format("{}: {} content is not supported: this server serves text-only models.", ppath, type));
    } else {
      return bad_body(fmt::format(
          "{}.type: Input should be 'text', 'image_url', 'video_url' or 'audio_url', got '{}'", ppath, type));
    }
  }
  return ok_status();
}

Status read_messages(json::Object obj, ChatRequest& req) {
  auto el = json::find(obj, "messages");
  if (!el) return bad_body("messages: Field required");
  if (el->type() != element_type::ARRAY) return json::type_error("messages", "a valid list");
  auto arr = el->get_array().value_unsafe();
  if (arr.size() == 0) return invalid("Messages cannot be empty.");
  size_t i = 0;
  for (json::Element m : arr) SGL_TRY(validate_message(m, i++, req.message_text_bytes));
  req.messages_json = json::to_json(*el);
  return ok_status();
}

Status read_tools(json::Object obj, ChatRequest& req) {
  std::vector<std::string> names;
  if (auto el = json::find(obj, "tools")) {
    if (el->type() != element_type::ARRAY) return json::type_error("tools", "a valid list");
    size_t i = 0;
    for (json::Element t : json::Array(el->get_array().value_unsafe())) {
      std::string path = fmt::format("tools.{}", i++);
      SGL_ASSIGN_OR_RETURN(json::Object to, json::as_object(t, path));
      auto fn = json::find(to, "function");
      if (!fn) return bad_body(path + ".function: Field required");
      SGL_ASSIGN_OR_RETURN(json::Object fo, json::as_object(*fn, path + ".function"));
      std::string name;
      SGL_TRY(json::read(fo, "name", path + ".function", name));
      if (name.empty()) return bad_body(path + ".function.name: Field required");
      bool strict = false;  // pydantic's Function.strict: a bool
      SGL_TRY(json::read(fo, "strict", path + ".function", strict));
      names.push_back(std::move(name));
    }
    req.tools_json = json::to_json(*el);
  }
  req.tool_choice = names.empty() ? "none" : "auto";
  auto tc = json::find(obj, "tool_choice");
  if (!tc) return ok_status();
  if (tc->type() == element_type::STRING) {
    std::string choice(tc->get_string().value_unsafe());
    if (choice != "none" && choice != "auto" && choice != "required")
      return bad_body(
          fmt::format("tool_choice: Input should be 'none', 'auto' or 'required', got '{}'", choice));
    if (choice == "required" && names.empty())
      return invalid("Tools cannot be empty if tool choice is set to required.");
    req.tool_choice = choice;
    return ok_status();
  }
  SGL_ASSIGN_OR_RETURN(json::Object o, json::as_object(*tc, "tool_choice"));
  auto fn = json::find(o, "function");
  if (!fn) return bad_body("tool_choice.function: Field required");
  SGL_ASSIGN_OR_RETURN(json::Object fo, json::as_object(*fn, "tool_choice.function"));
  std::string name;
  SGL_TRY(json::read(fo, "name", "tool_choice.function", name));
  if (names.empty()) return invalid("Tools cannot be empty if tool choice is set to a specific tool.");
  if (std::find(names.begin(), names.end(), name) == names.end())
    return invalid(fmt::format("Tool '{}' not found in tools list.", name));
  req.tool_choice = name;
  return ok_status();
}

Status read_response_format(json::Object obj, SamplingParams& sp) {
  auto el = json::find(obj, "response_format");
  if (!el) return ok_status();
  SGL_ASSIGN_OR_RETURN(json::Object rf, json::as_object(*el, "response_format"));
  std::string type;
  SGL_TRY(json::read(rf, "type", "response_format", type));
  if (type == "text") return ok_status();
  if (type == "json_object") {
    sp.json_schema = R"({"type": "object"})";
  } else if (type == "json_schema") {
    auto js = json::find(rf, "json_schema");
    if (!js) return bad_body("response_format.json_schema: Field required");
    SGL_ASSIGN_OR_RETURN(json::Object jo, json::as_object(*js, "response_format.json_schema"));
    auto schema = json::find(jo, "schema");
    sp.json_schema = schema ? json::to_json(*schema) : std::string("{}");
  } else if (type == "structural_tag") {
    sp.structural_tag = json::to_json(*el);
  } else {
    return bad_body(
        fmt::format("response_format.type: Input should be 'text', 'json_object', 'json_schema' or "
                    "'structural_tag', got '{}'",
                    type));
  }
  return ok_status();
}

Status read_rid_list(json::Object obj, std::vector<std::string>& rids) {
  if (auto el = json::find(obj, "rid")) {
    SGL_ASSIGN_OR_RETURN(rids, json::as_string_or_list(*el, "rid"));
  }
  return ok_status();
}

}  // namespace

Result<CompletionRequest> parse_completion_request(std::string_view body, const RequestLimits& limits,
                                                   const SamplingParams& defaults) {
  thread_local simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  CompletionRequest req;
  SGL_TRY(json::read(obj, "model", "", req.model));
  SGL_TRY(read_completion_prompts(obj, limits, req.prompts));
  if (json::find(obj, "suffix")) return invalid("suffix is not supported.");
  SamplingParams sp = defaults;
  sp.max_new_tokens = 16;
  SGL_TRY(read_max_tokens(obj, "max_tokens", sp.max_new_tokens));
  SGL_TRY(read_openai_sampling_fields(obj, sp));
  SGL_TRY(json::read(obj, "stream", "", req.stream));
  SGL_TRY(read_stream_options(obj, req.stream_options));
  SGL_TRY(json::read(obj, "echo", "", req.echo));
  SGL_TRY(json::read(obj, "logprobs", "", req.logprobs));
  LogprobOptions lp;
  if (req.logprobs) {
    if (*req.logprobs < 0 || *req.logprobs > kMaxTopLogprobs)
      return invalid(fmt::format("logprobs must be in [0, {}], got {}.", kMaxTopLogprobs, *req.logprobs));
    lp.return_logprob = true;
    lp.top_logprobs_num = *req.logprobs;
    if (req.echo) lp.logprob_start_len = 0;
  }
  std::vector<std::string> rids;
  SGL_TRY(read_rid_list(obj, rids));
  if (!rids.empty() && rids.size() != req.prompts.size())
    return invalid("The specified rids length mismatch with the batch_size for batch processing.");
  std::vector<SamplingParams> per_prompt(req.prompts.size(), sp);
  // SGLang's extra body field; a "base:adapter" model overrides it (the route applies that).
  SGL_ASSIGN_OR_RETURN(auto lora_paths, read_lora_paths(obj, req.prompts.size()));
  SGL_ASSIGN_OR_RETURN(req.items, expand_items(req.prompts.size(), per_prompt, rids, lp, limits));
  assign_lora_paths(lora_paths, req.items);
  // SGLang-JAX's extra: choices[i].routed_experts (not streamed).
  bool routed = false;
  SGL_TRY(json::read(obj, "return_routed_experts", "", routed));
  if (routed && req.stream) return invalid("return_routed_experts is not supported with stream=true.");
  for (auto& it : req.items) it.return_routed_experts = routed;
  return req;
}

Result<ChatRequest> parse_chat_request(std::string_view body, const RequestLimits& limits,
                                       const SamplingParams& defaults) {
  thread_local simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  ChatRequest req;
  SGL_TRY(json::read(obj, "model", "", req.model));
  SGL_TRY(read_messages(obj, req));
  SGL_TRY(read_tools(obj, req));
  SamplingParams sp = defaults;
  sp.max_new_tokens = std::nullopt;  // chat default: the rest of the context
  std::optional<int64_t> max_tokens, max_completion_tokens;
  SGL_TRY(read_max_tokens(obj, "max_tokens", max_tokens));
  SGL_TRY(read_max_tokens(obj, "max_completion_tokens", max_completion_tokens));
  // Upstream SGLang prefers max_completion_tokens (the newer OpenAI name).
  if (max_completion_tokens)
    sp.max_new_tokens = max_completion_tokens;
  else if (max_tokens)
    sp.max_new_tokens = max_tokens;
  SGL_TRY(read_openai_sampling_fields(obj, sp));
  SGL_TRY(read_response_format(obj, sp));
  SGL_TRY(json::read(obj, "parallel_tool_calls", "", req.parallel_tool_calls));
  const bool constrained = sp.json_schema || sp.regex || sp.ebnf || sp.structural_tag;
  if (req.tools_json && req.tool_choice != "none" && req.tool_choice != "auto" && !constrained) {
    // SGLang: a forced call is decoded under the JSON schema of an array of calls (a request's own
    // constraint wins: SGLang-JAX warns "Constrained decoding is not compatible with tool calls").
    auto schema = forced_tool_call_schema(*req.tools_json, req.tool_choice, req.parallel_tool_calls);
    if (!schema.ok()) return invalid(schema.error().message);
    sp.json_schema = std::move(schema).value();
  }
  SGL_TRY(json::read(obj, "stream", "", req.stream));
  SGL_TRY(read_stream_options(obj, req.stream_options));
  SGL_TRY(json::read(obj, "logprobs", "", req.logprobs));
  SGL_TRY(json::read(obj, "top_logprobs", "", req.top_logprobs));
  if (req.top_logprobs < 0 || req.top_logprobs > kMaxTopLogprobs)
    return invalid(
        fmt::format("top_logprobs must be in [0, {}], got {}.", kMaxTopLogprobs, req.top_logprobs));
  SGL_TRY(json::read(obj, "continue_final_message", "", req.continue_final_message));
  SGL_TRY(json::read(obj, "separate_reasoning", "", req.separate_reasoning));
  SGL_TRY(json::read(obj, "stream_reasoning", "", req.stream_reasoning));
  if (auto el = json::find(obj, "chat_template_kwargs")) {
    SGL_ASSIGN_OR_RETURN(json::Object kw, json::as_object(*el, "chat_template_kwargs"));
    (void)kw;
    req.chat_template_kwargs_json = json::to_json(*el);
  }
  // With tools the special tokens that frame calls must reach the parser.
  if (req.tools_json && req.tool_choice != "none") sp.skip_special_tokens = false;
  LogprobOptions lp;
  lp.return_logprob = req.logprobs;
  lp.top_logprobs_num = req.logprobs ? req.top_logprobs : 0;
  std::vector<std::string> rids;
  SGL_TRY(read_rid_list(obj, rids));
  if (rids.size() > 1)
    return invalid("The specified rids length mismatch with the batch_size for batch processing.");
  SGL_ASSIGN_OR_RETURN(auto lora_paths, read_lora_paths(obj, 1));
  SGL_ASSIGN_OR_RETURN(req.items, expand_items(1, {sp}, rids, lp, limits));
  assign_lora_paths(lora_paths, req.items);
  return req;
}

namespace {

using OJson = nlohmann::ordered_json;

// SGLang-JAX hands the template each tool as pydantic `Tool.model_dump()`: {"type", "function":
// {"description", "name", "parameters", "strict"}} in that key order, absent fields as their
// defaults (null, false); only the named tool when tool_choice names a function. Upstream SGLang
// passes the bare `function` objects instead; Qwen's templates print each tool with tojson, so the
// wrapper changes the prompt (and its token count) and follows OpenAI's and Qwen's own format.
OJson template_tools(const ChatRequest& req) {
  OJson tools = OJson::array();
  OJson given = OJson::parse(*req.tools_json, nullptr, false);
  if (!given.is_array()) return tools;
  const bool named = req.tool_choice != "auto" && req.tool_choice != "required";
  for (const auto& t : given) {
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
    const OJson& f = t["function"];
    if (named && f.value("name", "") != req.tool_choice) continue;
    OJson function = {{"description", f.value("description", OJson(nullptr))},
                      {"name", f.value("name", OJson(nullptr))},
                      {"parameters", f.value("parameters", OJson(nullptr))},
                      {"strict", f.value("strict", OJson(false))}};
    const bool typed = t.contains("type") && t["type"].is_string();
    tools.push_back({{"type", typed ? t["type"] : OJson("function")}, {"function", std::move(function)}});
  }
  return tools;
}

// What SGLang does to each message before templating: null content becomes "", and an
// assistant's tool-call arguments (a JSON string in OpenAI's format) become the object the
// templates iterate over.
void prepare_message(OJson& m) {
  if (!m.contains("content") || m["content"].is_null()) m["content"] = "";
  if (m.value("role", "") != "assistant" || !m.contains("tool_calls") || !m["tool_calls"].is_array()) return;
  for (auto& call : m["tool_calls"]) {
    if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
    auto& f = call["function"];
    if (f.contains("arguments") && f["arguments"].is_string()) {
      OJson args = OJson::parse(f["arguments"].get<std::string>(), nullptr, false);
      if (!args.is_discarded()) f["arguments"] = std::move(args);
    }
  }
}

}  // namespace

ChatTemplateInput build_chat_template_context(const ChatRequest& req, std::string_view bos_token,
                                              std::string_view eos_token) {
  ChatTemplateInput out;
  // ordered: the template's tojson must print keys in the client's order, as Python does.
  OJson ctx = OJson::parse(req.chat_template_kwargs_json, nullptr, false);
  if (!ctx.is_object()) ctx = OJson::object();
  OJson messages = OJson::parse(req.messages_json, nullptr, false);
  if (req.continue_final_message && messages.is_array() && !messages.empty() &&
      messages.back().value("role", "") == "assistant") {
    const OJson& content = messages.back()["content"];
    if (content.is_string()) {
      out.append = content.get<std::string>();
    } else if (content.is_array()) {
      for (const auto& part : content)
        if (part.is_object() && part.value("type", "") == "text") out.append += part.value("text", "");
    }
    messages.erase(messages.end() - 1);
  }
  if (messages.is_array())
    for (auto& m : messages)
      if (m.is_object()) prepare_message(m);
  ctx["messages"] = std::move(messages);
  if (req.tools_json && req.tool_choice != "none") ctx["tools"] = template_tools(req);
  if (!ctx.contains("add_generation_prompt")) ctx["add_generation_prompt"] = true;
  ctx["bos_token"] = bos_token;
  ctx["eos_token"] = eos_token;
  out.context_json = ctx.dump(-1, ' ', false, OJson::error_handler_t::replace);
  return out;
}

void apply_strict_tool_constraint(ChatRequest& req, std::string_view tool_call_parser) {
  if (!req.tools_json || req.tool_choice != "auto") return;
  auto tag = strict_tool_structural_tag(*req.tools_json, tool_call_parser);
  if (!tag) return;
  // The grammar blocks the <think> the model would open itself: SGLang-JAX turns thinking off
  // unless the client set it, so the template writes the empty block instead.
  auto kw = nlohmann::ordered_json::parse(req.chat_template_kwargs_json, nullptr, false);
  if (!kw.is_object()) kw = nlohmann::ordered_json::object();
  if (!kw.contains("enable_thinking")) kw["enable_thinking"] = false;
  req.chat_template_kwargs_json = kw.dump();
  for (auto& item : req.items) {
    SamplingParams& sp = item.sampling;
    if (sp.json_schema || sp.regex || sp.ebnf || sp.structural_tag) continue;
    sp.structural_tag = *tag;
  }
}

std::optional<bool> enable_thinking(const ChatRequest& req) {
  auto kw = nlohmann::json::parse(req.chat_template_kwargs_json, nullptr, false);
  if (kw.is_object() && kw.contains("enable_thinking") && kw["enable_thinking"].is_boolean())
    return kw["enable_thinking"].get<bool>();
  return std::nullopt;
}

}  // namespace sgl::server
