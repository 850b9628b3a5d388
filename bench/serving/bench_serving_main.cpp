// bench_serving: SGLang's online serving benchmark (same flags, traffic, summary and JSONL record),
// pointed at sglcpp or any SGLang / OpenAI-compatible server.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <thread>

#include "bench/common/parse_flags.h"
#include "bench/serving/codec.h"
#include "bench/serving/dataset.h"
#include "bench/serving/run_requests.h"
#include "bench/serving/server_probe.h"

namespace {

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }

struct Args {
  std::string backend = "sglang";
  std::string base_url, host = "127.0.0.1";
  int port = 30000;
  std::string model, tokenizer;
  std::string dataset_name = "sharegpt", dataset_path;
  int num_prompts = 1000;
  int64_t random_input_len = 1024, random_output_len = 1024;
  double random_range_ratio = 0.0;
  int64_t sharegpt_output_len = 0;
  std::string request_rate = "inf";
  int max_concurrency = 0;
  int warmup_requests = 1;
  bool disable_ignore_eos = false, disable_stream = false, disable_tqdm = false;
  bool apply_chat_template = false;
  uint64_t seed = 1;
  std::string output_file, extra_request_body;
  std::vector<std::string> lora_names;
  std::string lora_request_distribution = "uniform";
  double lora_zipf_alpha = 1.5;
};

// SGLang's --lora-request-distribution: which adapter each request names, in request order.
std::vector<std::string> assign_loras(const Args& a, size_t n) {
  std::vector<std::string> out(n);
  if (a.lora_names.empty()) return out;
  std::mt19937_64 rng(a.seed);
  std::vector<double> weights;
  for (size_t i = 0; i < a.lora_names.size(); ++i)
    weights.push_back(
        a.lora_request_distribution == "skewed" ? std::pow(a.lora_zipf_alpha, -static_cast<double>(i)) : 1.0);
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  for (size_t i = 0; i < n; ++i)
    out[i] = a.lora_request_distribution == "distinct" ? a.lora_names[i % a.lora_names.size()]
                                                       : a.lora_names[pick(rng)];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sgl::bench;
  Args a;
  CLI::App app{"bench_serving: online serving benchmark compatible with SGLang's bench_serving"};
  app.add_option(
      "--backend", a.backend,
      "sglang | sgl-jax | sglang-native | sglang-oai | vllm | openai | openai-chat | sglang-oai-chat");
  app.add_option("--base-url", a.base_url, "Server URL (overrides --host/--port)");
  app.add_option("--host", a.host);
  app.add_option("--port", a.port);
  app.add_option("--model", a.model, "Model name sent in requests (default: from /v1/models)");
  app.add_option("--tokenizer", a.tokenizer,
                 "Tokenizer directory (default: --model if it is a directory, else the server's model path)");
  app.add_option("--dataset-name", a.dataset_name, "sharegpt | random | random-ids");
  app.add_option("--dataset-path", a.dataset_path, "ShareGPT JSON file");
  app.add_option("--num-prompts", a.num_prompts);
  app.add_option("--random-input-len,--random-input", a.random_input_len);
  app.add_option("--random-output-len,--random-output", a.random_output_len);
  app.add_option("--random-range-ratio", a.random_range_ratio);
  app.add_option("--sharegpt-output-len", a.sharegpt_output_len);
  app.add_option("--request-rate", a.request_rate,
                 "Requests per second (Poisson arrivals); inf sends all at once");
  app.add_option("--max-concurrency", a.max_concurrency);
  app.add_option("--warmup-requests", a.warmup_requests);
  app.add_flag("--disable-ignore-eos", a.disable_ignore_eos);
  app.add_flag("--disable-stream", a.disable_stream);
  app.add_flag("--disable-tqdm", a.disable_tqdm);
  app.add_flag("--apply-chat-template", a.apply_chat_template);
  app.add_option("--seed", a.seed);
  app.add_option("--output-file", a.output_file, "Append a JSON line with the results");
  app.add_option("--extra-request-body", a.extra_request_body, "JSON object merged into every request body");
  app.add_option("--lora-name", a.lora_names, "LoRA adapter names; each request names one (lora_path)")
      ->expected(0, -1);
  app.add_option("--lora-request-distribution", a.lora_request_distribution,
                 "uniform (random), distinct (round robin) or skewed (Zipf over the listed order)")
      ->check(CLI::IsMember({"uniform", "distinct", "skewed"}));
  app.add_option("--lora-zipf-alpha", a.lora_zipf_alpha, "Zipf exponent of the skewed distribution");
  if (const int rc = sgl::bench::parse_flags(app, argc, argv); rc >= 0) return rc;
  if (a.model == "None") a.model.clear();  // argparse users pass Python's None: ask /v1/models

  auto api = api_of_backend(a.backend);
  if (!api.ok()) {
    std::cerr << api.error().message << "\n";
    return 2;
  }
  double rate = std::numeric_limits<double>::infinity();
  if (a.request_rate != "inf") {
    try {
      rate = std::stod(a.request_rate);
    } catch (...) {
      std::cerr << "--request-rate must be a number or inf\n";
      return 2;
    }
  }
  if (!a.extra_request_body.empty() &&
      !nlohmann::json::parse(a.extra_request_body, nullptr, false).is_object()) {
    std::cerr << "--extra-request-body must be a JSON object\n";
    return 2;
  }
  Endpoint ep = endpoint_from_flags(a.base_url, a.host, a.port);

  auto ready = wait_for_server(ep, 600);
  if (!ready.ok()) {
    std::cerr << ready.error().message << "\n";
    return 1;
  }
  ServerModel served = *ready;
  if (a.model.empty()) a.model = served.id;
  std::string tok_path = a.tokenizer;
  if (tok_path.empty()) tok_path = is_directory(a.model) ? a.model : served.model_path;
  auto codec = load_codec(tok_path);
  if (!codec.ok()) {
    std::cerr << "cannot load a tokenizer (pass --tokenizer): " << codec.error().message << "\n";
    return 1;
  }

  if (a.apply_chat_template && !codec->apply_chat_template) {
    std::cerr << "--apply-chat-template: the tokenizer has no chat template\n";
    return 2;
  }
  RandomDatasetOptions ro{a.num_prompts, a.random_input_len, a.random_output_len, a.random_range_ratio,
                          a.seed};
  std::vector<DatasetRow> rows;
  std::string dataset = a.dataset_name;
  if (dataset == "random" && a.dataset_path.empty()) {
    std::cerr << "--dataset-name random needs ShareGPT prompts (--dataset-path) and nothing can be "
                 "downloaded here; "
                 "falling back to random-ids\n";
    dataset = "random-ids";
  }
  if (dataset == "random-ids") {
    rows = random_ids_dataset(*codec, ro);
  } else if (dataset == "random" || dataset == "sharegpt") {
    if (a.dataset_path.empty()) {
      std::cerr << "--dataset-name sharegpt needs --dataset-path (a ShareGPT JSON file)\n";
      return 2;
    }
    auto r = dataset == "random"
                 ? random_sharegpt_dataset(*codec, a.dataset_path, ro)
                 : sharegpt_dataset(*codec, a.dataset_path, a.num_prompts, a.sharegpt_output_len, a.seed);
    if (!r.ok()) {
      std::cerr << r.error().message << "\n";
      return 1;
    }
    rows = std::move(*r);
  } else {
    std::cerr << "unknown --dataset-name " << dataset << " (sharegpt, random, random-ids)\n";
    return 2;
  }
  std::vector<RequestSpec> specs;
  std::vector<int64_t> lens;
  const std::vector<std::string> loras = assign_loras(a, rows.size());
  for (auto& r : rows) {
    RequestSpec s;
    s.prompt = a.apply_chat_template && *api != Api::kChatCompletions ? codec->apply_chat_template(r.prompt)
                                                                      : r.prompt;
    s.output_len = r.output_len;
    s.ignore_eos = !a.disable_ignore_eos;
    s.stream = !a.disable_stream;
    s.model = a.model;
    s.extra_body_json = a.extra_request_body;
    s.lora_name = loras[specs.size()];
    specs.push_back(std::move(s));
    lens.push_back(r.prompt_len);
  }
  std::cerr << fmt::format("#Input tokens: {}\n#Output tokens: {}\n",
                           std::accumulate(lens.begin(), lens.end(), int64_t{0}),
                           std::accumulate(rows.begin(), rows.end(), int64_t{0},
                                           [](int64_t s, const DatasetRow& r) { return s + r.output_len; }));
  if (a.warmup_requests > 0 && !specs.empty()) {
    std::cerr << "Starting warmup with " << a.warmup_requests << " sequences...\n";
    for (int i = 0; i < a.warmup_requests; ++i) {
      RequestSpec w = specs[0];
      w.output_len = std::min<int64_t>(w.output_len, 16);
      RequestOutput o = send_one(ep, *api, w, lens[0], now_seconds());
      if (!o.success) {
        std::cerr << "Warmup failed: " << o.error << "\n";
        return 1;
      }
    }
    std::cerr << "Warmup completed. Starting main benchmark run...\n";
  }
  http_post(ep, "/flush_cache", "");

  std::signal(SIGINT, on_sigint);
  RunOptions opt;
  opt.api = *api;
  opt.request_rate = rate;
  opt.max_concurrency = a.max_concurrency;
  opt.seed = a.seed;
  opt.progress = !a.disable_tqdm;
  opt.interrupted = &g_interrupted;
  RunResult run = run_requests(ep, specs, lens, opt);
  if (g_interrupted) std::cerr << "\nInterrupted: reporting the requests that finished.\n";

  std::vector<int64_t> retok;
  for (const auto& o : run.outputs)
    retok.push_back(o.success ? static_cast<int64_t>(codec->encode(o.generated_text).size()) : 0);
  Metrics m = compute_metrics(run.outputs, retok, run.duration);
  std::string server_info = fetch_server_info(ep);
  m.accept_length = accept_length_of(server_info);
  int failed_shown = 0;
  for (const auto& o : run.outputs) {
    if (!o.success && o.error != "not sent" && failed_shown++ < 5)
      std::cerr << "request failed: " << o.error << "\n";
  }
  if (m.failed > 0) std::cerr << m.failed << " requests failed\n";
  std::cout << format_summary({a.backend, a.request_rate, a.max_concurrency}, m) << std::flush;
  if (!a.output_file.empty()) {
    std::ofstream f(a.output_file, std::ios::app);
    f << result_record_json(m, a.backend, a.dataset_name, rate, a.max_concurrency, a.random_input_len,
                            a.random_output_len, a.random_range_ratio, server_info)
      << "\n";
  }
  std::fflush(stdout);
  if (g_interrupted) std::_Exit(130);  // abandoned request threads may still be running
  return m.completed > 0 ? 0 : 1;
}
