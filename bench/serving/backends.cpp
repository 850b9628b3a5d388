#include "bench/serving/backends.h"

#include <nlohmann/json.hpp>

namespace sgl::bench {

using Json = nlohmann::json;

Result<Api> api_of_backend(std::string_view b) {
  if (b == "sglang" || b == "sgl-jax" || b == "sglang-native") return Api::kNativeGenerate;
  if (b == "sglang-oai" || b == "vllm" || b == "lmdeploy" || b == "openai") return Api::kCompletions;
  if (b == "sglang-oai-chat" || b == "vllm-chat" || b == "lmdeploy-chat" || b == "openai-chat")
    return Api::kChatCompletions;
  if (b == "trt" || b == "truss" || b == "gserver")
    return unsupported("--backend " + std::string(b) +
                       ": sglcpp's bench_serving has no client for that server's protocol (" +
                       (b == "trt"     ? "TensorRT-LLM's Triton /v2/models/ensemble/generate_stream"
                        : b == "truss" ? "Truss's /v1/models/model:predict"
                                       : "gserver, which SGLang-JAX does not implement either") +
                       "); use an SGLang or OpenAI-compatible backend");
  return invalid_argument("unknown --backend '" + std::string(b) +
                          "' (sglang, sgl-jax, sglang-native, sglang-oai, sglang-oai-chat, vllm, vllm-chat, "
                          "lmdeploy, lmdeploy-chat, openai, openai-chat)");
}

std::string_view route_of(Api api) {
  switch (api) {
    case Api::kNativeGenerate:
      return "/generate";
    case Api::kCompletions:
      return "/v1/completions";
    case Api::kChatCompletions:
      return "/v1/chat/completions";
  }
  return "/generate";
}

std::string build_request_body(Api api, const RequestSpec& s) {
  Json body;
  switch (api) {
    case Api::kNativeGenerate:
      if (!s.input_ids.empty()) {
        body["input_ids"] = s.input_ids;
      } else {
        body["text"] = s.prompt;
      }
      body["sampling_params"] = {
          {"temperature", 0.0}, {"max_new_tokens", s.output_len}, {"ignore_eos", s.ignore_eos}};
      body["stream"] = s.stream;
      // SGLang-JAX's native client sends these on every request.
      body["return_logprob"] = s.return_logprob;
      body["return_routed_experts"] = s.return_routed_experts;
      body["logprob_start_len"] = -1;
      break;
    case Api::kCompletions:
      body["model"] = s.model;
      body["prompt"] = s.prompt;
      body["temperature"] = 0.0;
      body["max_tokens"] = s.output_len;
      body["stream"] = s.stream;
      body["ignore_eos"] = s.ignore_eos;
      if (s.stream) body["stream_options"] = {{"include_usage", true}};
      break;
    case Api::kChatCompletions:
      body["model"] = s.model;
      if (s.messages.empty()) {
        body["messages"] = Json::array({{{"role", "user"}, {"content", s.prompt}}});
      } else {
        body["messages"] = Json::array();
        for (const auto& m : s.messages) body["messages"].push_back({{"role", m.role}, {"content", m.content}});
      }
      body["temperature"] = 0.0;
      body["max_tokens"] = s.output_len;
      body["stream"] = s.stream;
      body["ignore_eos"] = s.ignore_eos;
      if (s.stream) body["stream_options"] = {{"include_usage", true}};
      break;
  }
  // SGLang's lora_path (a registered adapter name); its OpenAI routes take it as an extra field.
  if (!s.lora_name.empty()) body["lora_path"] = s.lora_name;
  if (!s.extra_body_json.empty()) {
    Json extra = Json::parse(s.extra_body_json, nullptr, false);
    if (extra.is_object()) {
      for (auto& [k, v] : extra.items()) body[k] = v;
    }
  }
  return body.dump();
}

namespace {

std::string error_text(const Json& j) {
  if (j.contains("error")) {
    const Json& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string())
      return e["message"].get<std::string>();
    return e.dump();
  }
  if (j.value("object", "") == "error") return j.value("message", std::string("error"));
  return "";
}

void read_usage(const Json& j, StreamEvent& ev) {
  if (!j.contains("usage") || !j["usage"].is_object()) return;
  const Json& u = j["usage"];
  if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
    ev.completion_tokens = u["completion_tokens"].get<int64_t>();
  if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer())
    ev.prompt_tokens = u["prompt_tokens"].get<int64_t>();
  if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object()) {
    const Json& d = u["prompt_tokens_details"];
    if (d.contains("cached_tokens") && d["cached_tokens"].is_number_integer())
      ev.cached_tokens = d["cached_tokens"].get<int64_t>();
  }
}

}  // namespace

StreamEvent StreamReader::parse(std::string_view data) {
  StreamEvent ev;
  Json j = Json::parse(data.begin(), data.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    ev.error = "malformed event: " + std::string(data.substr(0, 200));
    return ev;
  }
  ev.error = error_text(j);
  if (!ev.error.empty()) return ev;
  if (api_ == Api::kNativeGenerate) {
    std::string text = j.value("text", std::string());
    // Cumulative text: the delta is what extends the previous one.
    ev.text_delta = text.size() >= native_text_.size() ? text.substr(native_text_.size()) : text;
    native_text_ = std::move(text);
    if (j.contains("meta_info") && j["meta_info"].is_object()) {
      const Json& mi = j["meta_info"];
      if (mi.contains("completion_tokens") && mi["completion_tokens"].is_number_integer())
        ev.completion_tokens = mi["completion_tokens"].get<int64_t>();
      if (mi.contains("cached_tokens") && mi["cached_tokens"].is_number_integer())
        ev.cached_tokens = mi["cached_tokens"].get<int64_t>();
      if (mi.contains("prompt_tokens") && mi["prompt_tokens"].is_number_integer())
        ev.prompt_tokens = mi["prompt_tokens"].get<int64_t>();
      if (mi.contains("finish_reason") && mi["finish_reason"].is_object())
        ev.finish_reason = mi["finish_reason"].value("type", std::string());
    }
    return ev;
  }
  read_usage(j, ev);
  if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
    const Json& c = j["choices"][0];
    if (api_ == Api::kCompletions) {
      if (c.contains("text") && c["text"].is_string()) ev.text_delta = c["text"].get<std::string>();
    } else if (c.contains("delta") && c["delta"].is_object()) {
      const Json& d = c["delta"];
      if (d.contains("content") && d["content"].is_string()) ev.text_delta = d["content"].get<std::string>();
      if (d.contains("reasoning_content") && d["reasoning_content"].is_string())
        ev.text_delta += d["reasoning_content"].get<std::string>();
    } else if (c.contains("message") && c["message"].is_object()) {
      const Json& msg = c["message"];
      if (msg.contains("content") && msg["content"].is_string())
        ev.text_delta = msg["content"].get<std::string>();
    }
    if (c.contains("finish_reason") && c["finish_reason"].is_string())
      ev.finish_reason = c["finish_reason"].get<std::string>();
  }
  return ev;
}

StreamEvent StreamReader::parse_whole(std::string_view body) { return parse(body); }

}  // namespace sgl::bench
