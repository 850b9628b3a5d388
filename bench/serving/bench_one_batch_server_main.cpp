// bench_one_batch_server: one batch of fixed-length requests against a running server, per case of
// the (batch size × input len × output len) cross product — SGLang's tool, same flags and records.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "bench/common/parse_flags.h"
#include "bench/serving/run_requests.h"
#include "bench/serving/server_probe.h"

namespace {

using sgl::bench::Endpoint;
using Json = nlohmann::json;

struct Args {
  std::string base_url, host = "127.0.0.1";
  int port = 30000;
  std::string model_path, tokenizer_path;
  std::vector<int64_t> batch_size = {1}, input_len = {1024}, output_len = {16};
  std::string run_name = "default", result_filename = "result.jsonl";
  double temperature = 0.0;
  bool return_logprob = false, skip_warmup = false, show_report = false;
  int client_stream_interval = 1;
  std::string api_type = "native";
  uint64_t seed = 42;
};

struct CaseResult {
  int64_t bs = 0, in = 0, out = 0;
  double latency = 0, ttft = 0, last_gen_throughput = -1;
  double input_throughput = 0, output_throughput = 0, overall_throughput = 0;
  double accept_length = -1;
  std::string error;
};

int64_t vocab_limit(const std::string& model_path) {
  // Random ids stay below 10000 as SGLang draws them, and below the model's vocabulary.
  std::ifstream f(model_path + "/config.json");
  if (!f) return 10000;
  Json j = Json::parse(f, nullptr, false);
  if (j.is_object() && j.contains("vocab_size") && j["vocab_size"].is_number_integer())
    return std::min<int64_t>(10000, j["vocab_size"].get<int64_t>() - 1);
  return 10000;
}

CaseResult run_case(const Endpoint& ep, const Args& a, int64_t bs, int64_t in, int64_t out,
                    std::mt19937_64& rng, int64_t max_id) {
  using namespace sgl::bench;
  CaseResult r;
  r.bs = bs, r.in = in, r.out = out;
  std::uniform_int_distribution<int64_t> id(0, max_id);
  Json ids = Json::array();
  for (int64_t b = 0; b < bs; ++b) {
    Json row = Json::array();
    for (int64_t i = 0; i < in; ++i) row.push_back(id(rng));
    ids.push_back(std::move(row));
  }
  Json body;
  std::string path;
  if (a.api_type == "openai") {
    path = "/v1/completions";
    body = {{"model", a.model_path},        {"prompt", ids},      {"max_tokens", out},
            {"temperature", a.temperature}, {"ignore_eos", true}, {"stream", true}};
  } else {
    path = "/generate";
    body = {{"input_ids", ids},
            {"sampling_params",
             {{"temperature", a.temperature},
              {"max_new_tokens", out},
              {"ignore_eos", true},
              {"json_schema", nullptr},
              {"stream_interval", a.client_stream_interval}}},
            {"return_logprob", a.return_logprob},
            {"stream", true}};
  }
  http_post(ep, "/flush_cache", "");
  double st = now_seconds();
  bool first_seen = false;
  auto on_data = [&](std::string_view data) {
    if (data == "[DONE]" || !r.error.empty()) return;
    Json j = Json::parse(data.begin(), data.end(), nullptr, false);
    if (!j.is_object()) {
      r.error = "malformed event";
      return;
    }
    if (j.contains("error")) {
      r.error = j["error"].dump();
      return;
    }
    if (a.api_type == "openai") {
      if (!first_seen) r.ttft = now_seconds() - st, first_seen = true;
      return;
    }
    const Json& mi = j.value("meta_info", Json::object());
    // SGLang takes TTFT when a chunk reports its first completion token (the last such chunk).
    if (mi.value("completion_tokens", 0) == 1) r.ttft = now_seconds() - st;
    if (mi.contains("finish_reason") && !mi["finish_reason"].is_null()) {
      const Json& fr = mi["finish_reason"];
      std::string type = fr.is_object() ? fr.value("type", std::string()) : "";
      if (type != "length") r.error = "unexpected finish_reason " + fr.dump();
    }
  };
  HttpResult h = http_post(ep, path, body.dump(), on_data);
  r.latency = now_seconds() - st;
  if (h.status != 200)
    r.error = h.status == 0 ? h.error : fmt::format("HTTP {}: {}", h.status, h.body.substr(0, 300));
  if (!r.error.empty()) return r;
  std::string info = fetch_server_info(ep);
  r.last_gen_throughput = last_gen_throughput_of(info);
  r.accept_length = accept_length_of(info);
  r.input_throughput = r.ttft > 0 ? static_cast<double>(bs * in) / r.ttft : 0;
  r.output_throughput = r.latency > r.ttft ? static_cast<double>(bs * out) / (r.latency - r.ttft) : 0;
  r.overall_throughput = static_cast<double>(bs * (in + out)) / r.latency;
  return r;
}

void print_case(const CaseResult& r) {
  std::cout << fmt::format(
      "batch size: {}\ninput_len: {}\noutput_len: {}\nlatency: {:.2f} s\nttft: {:.2f} s\n"
      "last generation throughput: {:.2f} tok/s\ninput throughput: {:.2f} tok/s\noutput throughput: {:.2f} "
      "tok/s\n"
      "overall throughput: {:.2f} tok/s\n",
      r.bs, r.in, r.out, r.latency, r.ttft, r.last_gen_throughput, r.input_throughput, r.output_throughput,
      r.overall_throughput);
  if (r.accept_length >= 0) std::cout << fmt::format("accept length: {:.2f}\n", r.accept_length);
  std::cout << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sgl::bench;
  Args a;
  CLI::App app{
      "bench_one_batch_server: latency/throughput of one batch against a running server (SGLang-compatible)"};
  app.add_option("--base-url", a.base_url);
  app.add_option("--host", a.host);
  app.add_option("--port", a.port);
  app.add_option("--model-path", a.model_path);
  app.add_option("--tokenizer-path", a.tokenizer_path,
                 "Accepted for compatibility: random ids need no tokenizer");
  app.add_option("--batch-size", a.batch_size)->expected(1, -1);
  app.add_option("--input-len", a.input_len)->expected(1, -1);
  app.add_option("--output-len", a.output_len)->expected(1, -1);
  app.add_option("--run-name", a.run_name);
  app.add_option("--result-filename", a.result_filename);
  app.add_option("--temperature", a.temperature);
  app.add_flag("--return-logprob", a.return_logprob);
  app.add_option("--client-stream-interval", a.client_stream_interval);
  app.add_flag("--skip-warmup", a.skip_warmup);
  app.add_flag("--show-report", a.show_report);
  app.add_option("--api-type", a.api_type)->check(CLI::IsMember({"native", "openai"}));
  app.add_option("--seed", a.seed);
  if (const int rc = sgl::bench::parse_flags(app, argc, argv); rc >= 0) return rc;

  Endpoint ep = endpoint_from_flags(a.base_url, a.host, a.port);
  auto ready = wait_for_server(ep, 600);
  if (!ready.ok()) {
    std::cerr << ready.error().message << "\n";
    return 1;
  }
  if (a.model_path.empty()) a.model_path = ready->model_path;
  int64_t max_id = vocab_limit(a.model_path);
  std::mt19937_64 rng(a.seed);
  if (!a.skip_warmup) {
    std::cout << "======== Warmup Begin ========\n" << std::flush;
    CaseResult w = run_case(ep, a, std::min<int64_t>(16, a.batch_size[0]), a.input_len[0], 16, rng, max_id);
    if (!w.error.empty()) {
      std::cerr << "warmup failed: " << w.error << "\n";
      return 1;
    }
    std::cout << "======== Warmup End   ========\n\n" << std::flush;
  }
  std::vector<CaseResult> results;
  int failures = 0;
  for (int64_t bs : a.batch_size) {
    for (int64_t in : a.input_len) {
      for (int64_t out : a.output_len) {
        CaseResult r = run_case(ep, a, bs, in, out, rng, max_id);
        if (!r.error.empty()) {
          std::cerr << fmt::format("case bs={} in={} out={} failed: {}\n", bs, in, out, r.error);
          ++failures;
          continue;
        }
        print_case(r);
        results.push_back(r);
        if (!a.result_filename.empty()) {
          Json rec = {{"run_name", a.run_name},
                      {"batch_size", bs},
                      {"input_len", in},
                      {"output_len", out},
                      {"latency", r.latency},
                      {"ttft", r.ttft},
                      {"input_throughput", r.input_throughput},
                      {"output_throughput", r.output_throughput},
                      {"overall_throughput", r.overall_throughput},
                      {"last_gen_throughput", r.last_gen_throughput}};
          std::ofstream(a.result_filename, std::ios::app) << rec.dump() << "\n";
        }
      }
    }
  }
  if (a.show_report && !results.empty()) {
    std::cout << "\n| batch size | input len | output len | latency (s) | input throughput (tok/s) | "
                 "output throughput (tok/s) | accept length | ITL (ms) | cost / 1M tokens |\n"
              << "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (const auto& r : results) {
      double itl_ms = r.out > 1 ? (r.latency - r.ttft) / static_cast<double>(r.out - 1) * 1000 : 0;
      std::cout << fmt::format("| {} | {} | {} | {:.2f} | {:.2f} | {:.2f} | {} | {:.2f} | n/a |\n", r.bs,
                               r.in, r.out, r.latency, r.input_throughput, r.output_throughput,
                               r.accept_length >= 0 ? fmt::format("{:.2f}", r.accept_length) : "n/a", itl_ms);
    }
  }
  return failures == 0 ? 0 : 1;
}
