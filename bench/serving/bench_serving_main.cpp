// bench_serving: SGLang-JAX's online serving benchmark (same flags, traffic, summary and JSONL
// record), pointed at sglcpp or any SGLang / OpenAI-compatible server.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <thread>

#include "bench/common/parse_flags.h"
#include "bench/serving/bench_serving_args.h"
#include "bench/serving/codec.h"
#include "bench/serving/dataset.h"
#include "bench/serving/dataset_mooncake.h"
#include "bench/serving/profile_client.h"
#include "bench/serving/run_requests.h"
#include "bench/serving/server_probe.h"

namespace {

using namespace sgl::bench;

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }

// SGLang's --lora-request-distribution: which adapter each request names, in request order.
std::vector<std::string> assign_loras(const ServingArgs& a, size_t n) {
  std::vector<std::string> out(n);
  if (!a.lora_name || a.lora_name->empty()) return out;
  const auto& names = *a.lora_name;
  std::mt19937_64 rng(static_cast<uint64_t>(a.seed));
  std::vector<double> weights;
  for (size_t i = 0; i < names.size(); ++i)
    weights.push_back(a.lora_request_distribution == "skewed" ? std::pow(a.lora_zipf_alpha, -static_cast<double>(i))
                                                              : 1.0);
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  for (size_t i = 0; i < n; ++i)
    out[i] = a.lora_request_distribution == "distinct" ? names[i % names.size()] : names[pick(rng)];
  return out;
}

// SGLang-JAX's default port per backend when --port is not given.
int default_port(const std::string& backend) {
  if (backend == "lmdeploy") return 23333;
  if (backend == "vllm" || backend == "trt") return 8000;
  if (backend == "gserver") return 9988;
  if (backend == "truss") return 8080;
  return 30000;
}

// SGLang-JAX's output file when --output-file is not given.
std::string default_output_file(const ServingArgs& a) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char mmdd[8];
  std::strftime(mmdd, sizeof(mmdd), "%m%d", &tm);
  if (a.dataset_name.starts_with("random"))
    return fmt::format("{}_{}_{}_{}_{}.jsonl", a.backend, mmdd, a.num_prompts, a.random_input_len,
                       a.random_output_len);
  return fmt::format("{}_{}_{}_{}.jsonl", a.backend, mmdd, a.num_prompts, a.dataset_name);
}

struct Dataset {
  std::vector<DatasetRow> rows;
  std::vector<double> arrival_s;     // mooncake: the trace's schedule
  std::optional<DatasetRow> warmup;  // mooncake: its own warmup request
};

sgl::Result<Dataset> build_dataset(const ServingArgs& a, const TokenCodec& codec) {
  Dataset d;
  std::string name = a.dataset_name;
  RandomDatasetOptions ro{a.num_prompts,
                          a.random_input_len,
                          a.random_output_len,
                          a.random_range_ratio,
                          static_cast<uint64_t>(a.seed),
                          a.adjust_prompt_max_retry,
                          a.tokenize_prompt};
  if (name == "random" && a.dataset_path.empty()) {
    std::cerr << "--dataset-name random needs ShareGPT prompts (--dataset-path) and nothing can be downloaded "
                 "here; falling back to random-ids\n";
    name = "random-ids";
  }
  if (name == "random-ids") {
    d.rows = random_ids_dataset(codec, ro);
  } else if (name == "random") {
    SGL_ASSIGN_OR_RETURN(d.rows, random_sharegpt_dataset(codec, a.dataset_path, ro));
  } else if (name == "sharegpt" || name == "custom") {
    if (a.dataset_path.empty())
      return sgl::invalid_argument("--dataset-name " + name + " needs --dataset-path (" +
                                   (name == "custom" ? "a JSONL file of conversations"
                                                     : "a ShareGPT JSON file: nothing can be downloaded here") +
                                   ")");
    ConversationDatasetOptions co;
    co.num_prompts = a.num_prompts;
    co.fixed_output_len = a.sharegpt_output_len;
    co.context_len = a.sharegpt_context_len;
    co.prompt_suffix = a.prompt_suffix;
    co.apply_chat_template = a.apply_chat_template;
    co.json_lines = name == "custom";
    co.seed = static_cast<uint64_t>(a.seed);
    SGL_ASSIGN_OR_RETURN(d.rows, conversation_dataset(codec, a.dataset_path, co));
  } else if (name == "generated-shared-prefix") {
    SharedPrefixOptions go;
    go.num_groups = a.gsp_num_groups;
    go.prompts_per_group = a.gsp_prompts_per_group;
    go.system_prompt_len = a.gsp_system_prompt_len;
    go.question_len = a.gsp_question_len;
    go.output_len = a.gsp_output_len;
    go.range_ratio = a.gsp_range_ratio;
    go.fast_prepare = a.gsp_fast_prepare;
    go.send_routing_key = a.gsp_send_routing_key;
    go.num_turns = a.gsp_num_turns;
    go.ordered = a.gsp_ordered;
    go.seed = static_cast<uint64_t>(a.seed);
    SharedPrefixStats st;
    d.rows = generated_shared_prefix_dataset(codec, go, &st);
    std::cerr << fmt::format(
        "\nGenerated shared prefix dataset statistics:\nNumber of groups: {}\nPrompts per group: {}\nNumber of "
        "turns: {}\nTotal prompts: {}\n",
        go.num_groups, go.prompts_per_group, go.num_turns, d.rows.size());
    if (!go.fast_prepare)
      std::cerr << fmt::format(
          "Total input tokens: {}\nTotal output tokens: {}\nAverage system prompt length: {:.1f} tokens\nAverage "
          "question length: {:.1f} tokens\n\n",
          st.total_input_tokens, st.total_output_tokens, st.avg_system_prompt_len, st.avg_question_len);
  } else if (name == "mooncake") {
    const std::string path =
        a.dataset_path.empty() ? "/tmp/" + a.mooncake_workload + "_trace.jsonl" : a.dataset_path;
    SGL_ASSIGN_OR_RETURN(auto trace, mooncake_dataset(codec, path,
                                                      {a.num_prompts, a.mooncake_slowdown_factor,
                                                       a.mooncake_num_rounds}));
    std::cerr << fmt::format(
        "Using time-based Mooncake request scheduler, ignoring --request-rate.\nStarting Mooncake trace replay. "
        "Sessions: {}, Rounds per session: {}. Slowdown factor: {}\n",
        trace.rows.size() / static_cast<size_t>(std::max(a.mooncake_num_rounds, 1)), a.mooncake_num_rounds,
        a.mooncake_slowdown_factor);
    d.rows = std::move(trace.rows);
    d.arrival_s = std::move(trace.arrival_s);
    d.warmup = std::move(trace.warmup);
  } else {
    return sgl::invalid_argument("unknown --dataset-name " + name);
  }
  return d;
}

RequestSpec spec_of(const ServingArgs& a, const DatasetRow& r, const std::string& model_id) {
  RequestSpec s;
  s.prompt = r.prompt;
  s.input_ids = r.input_ids;
  s.next_turns = r.next_turns;
  s.routing_key = r.routing_key;
  s.output_len = r.output_len;
  s.ignore_eos = !a.disable_ignore_eos;
  s.stream = !a.disable_stream;
  s.model = model_id;
  s.extra_body_json = a.extra_request_body.value_or("");
  s.return_logprob = a.return_logprob;
  s.return_routed_experts = a.return_routed_experts;
  return s;
}

// SGLang-JAX's warmup: --warmup-requests copies of the first request (at most 32 output tokens)
// at once; the run goes on when any of them succeeded.
bool warm_up(const Endpoint& ep, Api api, const RequestSpec& first, int64_t len, int n, bool print) {
  RequestSpec w = first;
  w.output_len = std::min<int64_t>(w.output_len, 32);
  std::vector<std::vector<RequestOutput>> outs(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] { outs[i] = send_conversation(ep, api, w, len, now_seconds(), print); });
  for (auto& t : threads) t.join();
  for (const auto& o : outs)
    for (const auto& turn : o)
      if (turn.success) return true;
  std::cerr << "Warmup failed - Please make sure benchmark arguments are correctly specified. Error: "
            << (outs.empty() || outs[0].empty() ? "" : outs[0][0].error) << "\n";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  ServingArgs a;
  CLI::App app{"bench_serving: online serving benchmark, SGLang-JAX's bench_serving flags and output"};
  add_serving_flags(app, a);
  if (const int rc = parse_flags(app, argc, argv); rc >= 0) return rc;
  // argparse users write Python's None for "not set": ask the server instead.
  for (auto* o : {&a.model, &a.served_model_name, &a.tokenizer})
    if (*o == "None") o->reset();

  const FlagCheck check = check_serving_flags(a);
  for (const auto& r : check.refusals) std::cerr << r << "\n";
  if (!check.refusals.empty()) return 2;
  for (const auto& w : check.warnings) std::cerr << w << "\n";
  const Api api = *api_of_backend(a.backend);
  const double rate = *request_rate_value(a.request_rate);
  nlohmann::json extra = nlohmann::json::object();
  if (a.extra_request_body) {
    extra = nlohmann::json::parse(*a.extra_request_body, nullptr, false);
    if (!extra.is_object()) {
      std::cerr << "--extra-request-body must be a JSON object\n";
      return 2;
    }
  }
  Endpoint ep = endpoint_from_flags(a.base_url.value_or(""), a.host, a.port.value_or(default_port(a.backend)));
  if (a.header)
    for (const auto& h : *a.header)
      if (auto eq = h.find('='); eq != std::string::npos && eq > 0 && eq + 1 < h.size())
        ep.headers.emplace_back(h.substr(0, eq), h.substr(eq + 1));

  auto ready = wait_for_server(ep, 600);
  if (!ready.ok()) {
    std::cerr << ready.error().message << "\n";
    return 1;
  }
  const ServerModel served = *ready;
  const std::string model = a.model.value_or(served.id);
  const std::string model_id = a.served_model_name.value_or(model);
  std::string tok_path = a.tokenizer.value_or("");
  if (tok_path.empty()) tok_path = is_directory(model) ? model : served.model_path;
  auto codec = load_codec(tok_path);
  if (!codec.ok()) {
    std::cerr << "cannot load a tokenizer (pass --tokenizer): " << codec.error().message << "\n";
    return 1;
  }
  if (a.apply_chat_template && !codec->apply_chat_template) {
    std::cerr << "--apply-chat-template: the tokenizer has no chat template\n";
    return 2;
  }
  auto dataset = build_dataset(a, *codec);
  if (!dataset.ok()) {
    std::cerr << dataset.error().message << "\n";
    return dataset.error().code == sgl::ErrorCode::kInvalidArgument ? 2 : 1;
  }
  const std::vector<DatasetRow>& rows = dataset->rows;
  if (rows.empty()) {
    std::cerr << "the dataset gave no requests\n";
    return 1;
  }
  std::vector<RequestSpec> specs;
  std::vector<int64_t> lens;
  const std::vector<std::string> loras = assign_loras(a, rows.size());
  for (const auto& r : rows) {
    specs.push_back(spec_of(a, r, model_id));
    specs.back().lora_name = loras[specs.size() - 1];
    lens.push_back(r.prompt_len);
  }
  std::cerr << fmt::format("#Input tokens: {}\n#Output tokens: {}\n",
                           std::accumulate(lens.begin(), lens.end(), int64_t{0}),
                           std::accumulate(rows.begin(), rows.end(), int64_t{0},
                                           [](int64_t s, const DatasetRow& r) { return s + r.output_len; }));

  std::cerr << "Starting warmup with " << a.warmup_requests << " sequences...\n";
  if (a.warmup_requests > 0) {
    RequestSpec first = dataset->warmup ? spec_of(a, *dataset->warmup, model_id) : specs[0];
    if (a.lora_name && !a.lora_name->empty()) first.lora_name = a.lora_name->front();
    const int64_t len = dataset->warmup ? dataset->warmup->prompt_len : lens[0];
    if (!warm_up(ep, api, first, len, a.warmup_requests, a.print_requests)) return 1;
  }
  std::cerr << "Warmup completed with " << a.warmup_requests << " sequences. Starting main benchmark run...\n";
  const char* in_ci = std::getenv("SGLANG_JAX_IS_IN_CI");
  const bool ci = in_ci && (std::string(in_ci) == "true" || std::string(in_ci) == "1");
  if (a.flush_cache || (a.backend.find("sgl-jax") != std::string::npos && ci)) {
    HttpResult f = http_post(ep, "/flush_cache", "");
    if (f.status != 200)
      std::cerr << "warning: --flush-cache: POST /flush_cache answered "
                << (f.status ? std::to_string(f.status) : f.error) << "\n";
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // as SGLang-JAX: let the flush settle

  bool profiling = false;
  if (a.profile) {
    ProfileRequest pr;
    pr.activities = a.profile_activities;
    if (a.profile_num_steps) pr.num_steps = std::to_string(*a.profile_num_steps);
    pr.profile_by_stage = a.profile_by_stage;
    pr.profile_stages = a.profile_stages;
    std::cerr << "Starting profiler...\n";
    ProfileReply r = start_profile(ep, pr);
    if (r.outcome == ProfileOutcome::kOk) {
      std::cerr << "Profiler started\n";
      profiling = true;
    } else if (r.outcome == ProfileOutcome::kNoProfiler) {
      std::cerr << no_profiler_warning("--profile", ep, r) << "\n";
    } else {
      std::cerr << "warning: --profile: starting the profiler failed: " << r.message << "\n";
    }
  }

  std::signal(SIGINT, on_sigint);
  RunOptions opt;
  opt.api = api;
  opt.request_rate = rate;
  opt.arrival_s = dataset->arrival_s;
  opt.max_concurrency = a.max_concurrency.value_or(0);
  opt.seed = static_cast<uint64_t>(a.seed);
  opt.progress = !a.disable_tqdm;
  opt.interrupted = &g_interrupted;
  opt.print_requests = a.print_requests;
  RunResult run = run_requests(ep, specs, lens, opt);
  if (g_interrupted) std::cerr << "\nInterrupted: reporting the requests that finished.\n";
  if (profiling && !a.profile_num_steps) {
    std::cerr << "Stopping profiler...\n";
    ProfileReply r = stop_profile(ep);
    if (r.outcome == ProfileOutcome::kOk) {
      std::cerr << "Profiler stopped\n";
    } else {
      std::cerr << "warning: --profile: stopping the profiler failed: " << r.message << "\n";
    }
  }

  std::vector<int64_t> retok;
  for (const auto& o : run.outputs)
    retok.push_back(o.success ? static_cast<int64_t>(codec->encode(o.generated_text).size()) : 0);
  Metrics m = compute_metrics(run.outputs, retok, run.duration);
  const std::string server_info = fetch_server_info(ep);
  m.accept_length = accept_length_of(server_info);
  int failed_shown = 0;
  for (const auto& o : run.outputs)
    if (!o.success && o.error != "not sent" && failed_shown++ < 5) std::cerr << "request failed: " << o.error << "\n";
  if (m.failed > 0) std::cerr << m.failed << " requests failed\n";
  const bool trace = a.use_trace_timestamps;
  std::cout << format_summary({a.backend, trace ? "trace" : python_float(rate), opt.max_concurrency}, m)
            << std::flush;
  RecordArgs rec{a.tag,
                 a.backend,
                 a.dataset_name,
                 rate,
                 trace,
                 opt.max_concurrency,
                 a.sharegpt_output_len,
                 a.random_input_len,
                 a.random_output_len,
                 a.random_range_ratio};
  const std::string out_file = a.output_file.value_or(default_output_file(a));
  std::ofstream(out_file, std::ios::app)
      << result_record_json(m, rec, server_info, a.output_details ? &run.outputs : nullptr) << "\n";
  std::fflush(stdout);
  if (g_interrupted) std::_Exit(130);  // abandoned request threads may still be running
  return m.completed > 0 ? 0 : 1;
}
