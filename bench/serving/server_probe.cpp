#include "bench/serving/server_probe.h"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/serving/run_requests.h"

namespace sgl::bench {

using Json = nlohmann::json;

Result<ServerModel> wait_for_server(const Endpoint& ep, double timeout_s) {
  double deadline = now_seconds() + timeout_s;
  std::string last_error;
  for (;;) {
    HttpResult r = http_get(ep, "/v1/models", 10);
    if (r.status == 200) {
      ServerModel m;
      Json j = Json::parse(r.body, nullptr, false);
      if (j.is_object() && j.contains("data") && j["data"].is_array() && !j["data"].empty() &&
          j["data"][0].is_object())
        m.id = j["data"][0].value("id", std::string());
      HttpResult info = http_get(ep, "/get_model_info", 10);
      if (info.status == 200) {
        Json ij = Json::parse(info.body, nullptr, false);
        if (ij.is_object()) m.model_path = ij.value("model_path", std::string());
      }
      if (m.id.empty()) m.id = m.model_path;
      return m;
    }
    last_error = r.status == 0 ? r.error : "HTTP " + std::to_string(r.status);
    if (now_seconds() > deadline)
      return Error{ErrorCode::kUnavailable, "server at " + ep.host + ":" + ep.port +
                                                " not ready (GET /v1/models: " + last_error + ")"};
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

std::string fetch_server_info(const Endpoint& ep) {
  HttpResult r = http_get(ep, "/get_server_info", 10);
  if (r.status != 200) return "{}";
  return r.body;
}

namespace {
double internal_state(const std::string& info, const char* key) {
  Json j = Json::parse(info, nullptr, false);
  if (!j.is_object() || !j.contains("internal_states") || !j["internal_states"].is_array() ||
      j["internal_states"].empty())
    return -1;
  const Json& s = j["internal_states"][0];
  if (!s.is_object() || !s.contains(key) || !s[key].is_number()) return -1;
  return s[key].get<double>();
}
}  // namespace

double accept_length_of(const std::string& info) {
  Json j = Json::parse(info, nullptr, false);
  // Only meaningful when a speculative algorithm is on.
  if (j.is_object() && j.contains("speculative_algorithm") && j["speculative_algorithm"].is_null()) return -1;
  if (j.is_object() && !j.contains("speculative_algorithm")) return -1;
  return internal_state(info, "avg_spec_accept_length");
}

double last_gen_throughput_of(const std::string& info) { return internal_state(info, "last_gen_throughput"); }

std::string result_record_json(const Metrics& m, const RecordArgs& a, const std::string& server_info_json,
                               const std::vector<RequestOutput>* details) {
  using OJson = nlohmann::ordered_json;
  OJson j;
  j["tag"] = a.tag ? OJson(*a.tag) : OJson(nullptr);
  j["backend"] = a.backend;
  j["dataset_name"] = a.dataset_name;
  j["request_rate"] = a.trace                           ? OJson("trace")
                      : std::isfinite(a.request_rate) ? OJson(a.request_rate)
                                                      : OJson("inf");
  j["max_concurrency"] = a.max_concurrency > 0 ? OJson(a.max_concurrency) : OJson(nullptr);
  j["sharegpt_output_len"] = a.sharegpt_output_len ? OJson(*a.sharegpt_output_len) : OJson(nullptr);
  j["random_input_len"] = a.random_input_len;
  j["random_output_len"] = a.random_output_len;
  j["random_range_ratio"] = a.random_range_ratio;
  OJson info = OJson::parse(server_info_json, nullptr, false);
  j["server_info"] = info.is_discarded() ? OJson(nullptr) : info;
  j["duration"] = m.duration;
  j["completed"] = m.completed;
  j["total_input_tokens"] = m.total_input;
  j["total_input_text_tokens"] = m.total_input;
  j["total_input_vision_tokens"] = 0;  // no image inputs in sglcpp
  j["total_output_tokens"] = m.total_output;
  j["total_output_tokens_retokenized"] = m.total_output_retokenized;
  j["total_cached_tokens"] = m.total_cached;
  j["cache_hit_rate"] = m.cache_hit_rate;
  j["request_throughput"] = m.request_throughput;
  j["input_throughput"] = m.input_throughput;
  j["output_throughput"] = m.output_throughput;
  j["total_throughput"] = m.total_throughput;
  j["mean_e2e_latency_ms"] = m.mean_e2e;
  j["median_e2e_latency_ms"] = m.median_e2e;
  j["std_e2e_latency_ms"] = m.std_e2e;
  j["p90_e2e_latency_ms"] = m.p90_e2e;
  j["p99_e2e_latency_ms"] = m.p99_e2e;
  j["mean_ttft_ms"] = m.mean_ttft;
  j["median_ttft_ms"] = m.median_ttft;
  j["std_ttft_ms"] = m.std_ttft;
  j["p99_ttft_ms"] = m.p99_ttft;
  j["mean_tpot_ms"] = m.mean_tpot;
  j["median_tpot_ms"] = m.median_tpot;
  j["std_tpot_ms"] = m.std_tpot;
  j["p99_tpot_ms"] = m.p99_tpot;
  j["mean_itl_ms"] = m.mean_itl;
  j["median_itl_ms"] = m.median_itl;
  j["std_itl_ms"] = m.std_itl;
  j["p95_itl_ms"] = m.p95_itl;
  j["p99_itl_ms"] = m.p99_itl;
  j["concurrency"] = m.concurrency;
  j["accept_length"] = m.accept_length >= 0 ? OJson(m.accept_length) : OJson(nullptr);
  j["max_output_tokens_per_s"] = m.max_output_tokens_per_s;
  j["max_concurrent_requests"] = m.max_concurrent_requests;
  if (details) {
    OJson in = OJson::array(), out = OJson::array(), cached = OJson::array(), ttfts = OJson::array(),
          itls = OJson::array(), texts = OJson::array(), errors = OJson::array();
    for (const auto& o : *details) {
      in.push_back(o.prompt_len);
      out.push_back(o.success ? o.output_len : 0);  // SGLang-JAX counts a failed request's output as 0
      cached.push_back(o.cached_tokens);
      ttfts.push_back(o.ttft);
      itls.push_back(o.itl);
      texts.push_back(o.generated_text);
      errors.push_back(o.error);
    }
    j["input_lens"] = std::move(in);
    j["output_lens"] = std::move(out);
    j["cached_tokens"] = std::move(cached);
    j["ttfts"] = std::move(ttfts);
    j["itls"] = std::move(itls);
    j["generated_texts"] = std::move(texts);
    j["errors"] = std::move(errors);
  }
  // Generated text may be cut mid-character: replace rather than throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace sgl::bench
