// bench_one_batch: SGLang's static-batch benchmark on the engine alone (no server, no scheduler).
// After a warmup it runs every (batch size, input len, output len) of the sweep: one prefill of
// batch × input-len random tokens, then output-len − 1 decode steps, printing SGLang's lines and
// appending SGLang's JSONL record. In the same run it measures the machine's read bandwidth and
// reports decode against the bandwidth roofline (weights + KV bytes one step must read /
// bandwidth), re-measured next to each case because these machines are shared and noisy.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>

#include "base/trace.h"
#include "bench/common/parse_flags.h"
#include "cuda_roofline.h"
#include "custom_prompts.h"
#include "engine/dist/tp_runner.h"
#include "engine/engine_config.h"
#include "launch_flags.h"
#include "membw.h"
#include "server/flags/config_file.h"
#include "server/text/tokenizer.h"

namespace {

using namespace sgl::engine;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Case {
  int bs = 1, input_len = 0, output_len = 0;
  // --prompt-filename: the batch's prompts (their own lengths; input_len still scales the
  // throughput, as SGLang-JAX's); empty: random ids of input_len.
  std::vector<std::vector<int32_t>> prompts = {};
  int prompt_len(int r) const { return prompts.empty() ? input_len : static_cast<int>(prompts[r].size()); }
};

// --num-loras N adapters of --lora-rank: request r runs adapter r % N (slot r % N).
struct LoraSetup {
  int num = 0;
  std::vector<LoraSlotLoad> pending;  // put into the slots by the first step that runs
  int64_t bytes_each = 0;             // one adapter's A and B in the compute dtype
  int32_t slot_of(int r) const { return num > 0 ? r % num : -1; }
};

struct Layout {  // request r owns pages [r * pages_per_req, (r + 1) * pages_per_req)
  int64_t pages_per_req = 0;
  int page_size = 1;
  int32_t slot(int r, int64_t pos) const { return static_cast<int32_t>(r * pages_per_req * page_size + pos); }
};

StepInput prefill_input(const Case& c, const Layout& kv, int64_t vocab, uint64_t seed, LoraSetup& lora) {
  // Random ids below 10000, as SGLang's synthetic inputs.
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(std::min<int64_t>(vocab, 10000) - 1));
  StepInput in;
  in.lora_loads = std::move(lora.pending);
  lora.pending.clear();
  for (int r = 0; r < c.bs; ++r) {
    Segment s;
    s.lora_slot = lora.slot_of(r);
    s.new_len = c.prompt_len(r);
    s.slot_offset = static_cast<int64_t>(in.batch.kv_slots.size());
    s.logits_start = s.new_len - 1;
    for (int i = 0; i < s.new_len; ++i) {
      in.batch.input_ids.push_back(c.prompts.empty() ? tok(rng) : c.prompts[r][i]);
      in.batch.positions.push_back(i);
      in.batch.kv_slots.push_back(kv.slot(r, i));
    }
    in.batch.segments.push_back(s);
    RowSampling rs;  // greedy, as SGLang's temperature 0
    rs.req_slot = r;
    in.sampling.push_back(rs);
  }
  return in;
}

// Decode step `step` (0-based): each request's input is the token it sampled last, passed by
// placeholder as the overlap scheduler does.
StepInput decode_input(const Case& c, const Layout& kv, int step, const LoraSetup& lora) {
  StepInput in;
  for (int r = 0; r < c.bs; ++r) {
    const int pos = c.prompt_len(r) + step;
    Segment s;
    s.lora_slot = lora.slot_of(r);
    s.prefix_len = pos;
    s.new_len = 1;
    s.slot_offset = static_cast<int64_t>(in.batch.kv_slots.size());
    s.logits_start = 0;
    in.batch.input_ids.push_back(placeholder_token(r));
    in.batch.positions.push_back(pos);
    for (int i = 0; i <= pos; ++i) in.batch.kv_slots.push_back(kv.slot(r, i));
    in.batch.segments.push_back(s);
    RowSampling rs;
    rs.req_slot = r;
    rs.step = step + 1;
    in.sampling.push_back(rs);
  }
  return in;
}

// Bytes one decode step must read: every weight once (of the embedding table only the batch's
// rows, which is negligible, so none of it; a tied LM head is its own packed copy and counts in
// full) plus each request's KV so far, at the median step.
int64_t decode_step_bytes(const ModelInfo& info, const Case& c, const LoraSetup& lora) {
  const int64_t dtype_bytes =
      info.kv_bytes_per_token / (2LL * info.num_layers * info.num_kv_heads * info.head_dim);
  const int64_t embed_bytes = info.vocab_size * info.hidden_size * dtype_bytes;
  const int64_t ctx = c.input_len + c.output_len / 2;
  // MoE: a step reads the experts its tokens pick — with uniform routing, E·(1 − (1 − k/E)^bs) of
  // each layer's E in expectation (k of them at batch 1), not all of them.
  double experts_read = static_cast<double>(info.routed_expert_bytes);
  if (info.num_experts > 0) {
    const double e = info.num_experts, k = info.num_experts_per_tok;
    experts_read *= 1.0 - std::pow(1.0 - k / e, static_cast<double>(c.bs));
  }
  // LoRA: each adapter the batch uses, once.
  const int64_t lora_bytes = std::min(lora.num, c.bs) * lora.bytes_each;
  return info.weight_bytes - info.routed_expert_bytes + static_cast<int64_t>(experts_read) - embed_bytes +
         static_cast<int64_t>(c.bs) * ctx * info.kv_bytes_per_token + lora_bytes;
}

// A step as the server's forward worker records it for --profile (sched/step_worker.cpp).
sgl::Result<StepOutput> traced_step(ModelRunner& runner, const StepInput& in, const char* kind) {
  sgl::trace::note_forward();
  sgl::trace::Span span("forward", kind);
  span.set_args([&] {
    return sgl::trace::Args()
        .add("batch_size", static_cast<int64_t>(in.batch.segments.size()))
        .add("num_tokens", in.batch.num_tokens());
  });
  return runner.step(in);
}

nlohmann::json run_once(ModelRunner& runner, const Case& c, const Layout& kv, uint64_t seed,
                        int log_decode_step, const std::string& run_name, LoraSetup& lora) {
  nlohmann::json m = {
      {"run_name", run_name}, {"batch_size", c.bs}, {"input_len", c.input_len}, {"output_len", c.output_len}};
  const StepInput prefill = prefill_input(c, kv, runner.info().vocab_size, seed, lora);
  auto t0 = std::chrono::steady_clock::now();
  auto p = traced_step(runner, prefill, "prefill");
  const double prefill_s = seconds_since(t0);
  if (!p.ok()) throw std::runtime_error(p.error().message);
  double total_s = prefill_s;
  fmt::print("Prefill. latency: {:6.5f} s, throughput: {:9.2f} token/s\n", prefill_s,
             c.input_len * c.bs / prefill_s);
  m["prefill_latency"] = prefill_s;
  m["prefill_throughput"] = c.input_len * c.bs / prefill_s;
  std::vector<double> lat;
  dist::reset_tp_collective_stats(runner);  // tensor parallel: collective time of the decode steps
  for (int i = 0; i < c.output_len - 1; ++i) {
    const StepInput d = decode_input(c, kv, i, lora);
    auto t1 = std::chrono::steady_clock::now();
    auto o = traced_step(runner, d, "decode");
    lat.push_back(seconds_since(t1));
    if (!o.ok()) throw std::runtime_error(o.error().message);
    total_s += lat.back();
    if (i < 5 || (log_decode_step > 0 && i % log_decode_step == 0))
      fmt::print("Decode {}. Batch size: {}, latency: {:6.5f} s, throughput: {:9.2f} token/s\n", i, c.bs,
                 lat.back(), c.bs / lat.back());
  }
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    const size_t n = lat.size();  // numpy's median: mean of the middle two for even counts
    const double med = n % 2 ? lat[n / 2] : 0.5 * (lat[n / 2 - 1] + lat[n / 2]);
    fmt::print("Decode.  median latency: {:6.5f} s, median throughput: {:9.2f} token/s\n", med, c.bs / med);
    m["median_decode_latency"] = med;
    m["median_decode_throughput"] = c.bs / med;
    if (auto cs = dist::tp_collective_stats(runner)) {
      const double steps = static_cast<double>(n);
      fmt::print(
          "Decode collectives (rank 0): {:.1f} calls, {:.1f} KB, {:6.5f} s per step "
          "({:.1f} % of the mean step)\n",
          cs->calls / steps, cs->bytes / steps / 1e3, cs->seconds / steps,
          100.0 * cs->seconds / std::accumulate(lat.begin(), lat.end(), 0.0));
      m["decode_collective_seconds_per_step"] = cs->seconds / steps;
      m["decode_collective_calls_per_step"] = cs->calls / steps;
    }
  }
  const double tput = static_cast<double>(c.input_len + c.output_len) * c.bs / total_s;
  fmt::print("Total. latency: {:6.3f} s, throughput: {:9.2f} token/s\n", total_s, tput);
  m["total_latency"] = total_s;
  m["overall_throughput"] = tput;
  return m;
}

void add_roofline(nlohmann::json& m, const ModelInfo& info, const Case& c, double bandwidth,
                  const LoraSetup& lora) {
  if (!m.contains("median_decode_latency")) return;
  const int64_t bytes = decode_step_bytes(info, c, lora);
  const double roof_s = static_cast<double>(bytes) / bandwidth;
  const double ratio = roof_s / m["median_decode_latency"].get<double>();
  fmt::print("Decode roofline: {:.1f} MB/step at {:.1f} GB/s = {:6.5f} s; achieved {:.1f} % of roofline\n",
             bytes / 1e6, bandwidth / 1e9, roof_s, 100.0 * ratio);
  m["decode_step_bytes"] = bytes;
  m["memory_bandwidth_gbps"] = bandwidth / 1e9;
  m["decode_roofline_latency"] = roof_s;
  m["decode_roofline_ratio"] = ratio;
}

// Prefill against the GPU's measured GEMM peak: FLOPs of the linear layers only (2 per weight per
// token; the embedding and the LM head, which runs on one row per request, excluded; attention's
// FLOPs not counted, so the ratio understates long prompts slightly).
void add_prefill_roofline(nlohmann::json& m, const ModelInfo& info, const Case& c, double gemm_flops) {
  const int64_t dtype_bytes =
      info.kv_bytes_per_token / (2LL * info.num_layers * info.num_kv_heads * info.head_dim);
  const double params = static_cast<double>(info.weight_bytes) / static_cast<double>(dtype_bytes) -
                        2.0 * static_cast<double>(info.vocab_size * info.hidden_size);
  const double flops = 2.0 * params * c.input_len * c.bs / m["prefill_latency"].get<double>();
  fmt::print(
      "Prefill roofline: {:.1f} TFLOP/s in the linear layers; {:.1f} % of the measured GEMM peak ({:.1f} "
      "TFLOP/s)\n",
      flops / 1e12, 100.0 * flops / gemm_flops, gemm_flops / 1e12);
  m["prefill_linear_tflops"] = flops / 1e12;
  m["gemm_peak_tflops"] = gemm_flops / 1e12;
  m["prefill_gemm_peak_ratio"] = flops / gemm_flops;
}

// --profile: the case's capture as SGLang's bench_one_batch names its trace.
void write_profile(const std::string& prefix, const Case& c) {
  std::optional<sgl::trace::Capture> cap = sgl::trace::stop();
  if (!cap) return;
  const std::string path =
      fmt::format("{}_batch{}_input{}_output{}.trace.json.gz", prefix, c.bs, c.input_len, c.output_len);
  std::error_code ec;
  const auto parent = std::filesystem::absolute(path).parent_path();
  std::filesystem::create_directories(parent, ec);
  if (sgl::Status st = sgl::trace::write_chrome_trace_gz(*cap, path, "bench_one_batch"); !st.ok())
    std::cerr << "--profile: " << st.error().message << "\n";
  else
    fmt::print("Chrome trace ({} forwards, {} events) saved to {}\n", cap->forwards, cap->events.size(),
               path);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> batch_sizes = {1}, input_lens = {1024}, output_lens = {16};
  int log_decode_step = 0, cut_len = 4;
  std::string run_name = "default", result_filename = "result.jsonl", prompt_filename;
  std::string profile_filename_prefix = "profile";
  bool skip_warmup = false, correctness_test = false, profile = false;
  int lora_rank = 0, num_loras = 0;
  CLI::App app{
      "bench_one_batch: static-batch prefill/decode latency of the engine (SGLang-JAX's bench_one_batch); "
      "takes every launch flag, as SGLang-JAX's"};
  app.option_defaults()->always_capture_default(false);
  sgl::bench::LaunchFlags launch(app);  // every launch flag, as SGLang-JAX's ServerArgs.add_cli_args
  auto bench = [](CLI::Option* o) { return o->group("Benchmark"); };
  bench(app.add_option("--run-name", run_name));
  bench(app.add_option("--batch-size", batch_sizes)->expected(1, CLI::detail::expected_max_vector_size));
  bench(app.add_option("--input-len", input_lens)->expected(1, CLI::detail::expected_max_vector_size));
  bench(app.add_option("--output-len", output_lens)->expected(1, CLI::detail::expected_max_vector_size));
  bench(app.add_option("--prompt-filename", prompt_filename,
                       "Prompts, one per line (tokenized with --tokenizer-path), instead of random ids"));
  bench(app.add_option("--result-filename", result_filename, "JSONL records appended here ('' = none)"));
  bench(app.add_flag(
      "--correctness-test", correctness_test,
      "Prefill --cut-len tokens, extend with the rest, decode greedily; print logits and texts"));
  bench(app.add_option("--cut-len", cut_len, "Tokens of the first prefill of the correctness test"));
  bench(app.add_option("--log-decode-step", log_decode_step, "also print every n-th decode step"));
  bench(app.add_flag("--profile", profile,
                     "Write a Chrome trace of each case's run (forwards, layers, kernels): "
                     "<prefix>_batch<bs>_input<in>_output<out>.trace.json.gz"));
  bench(app.add_option("--profile-filename-prefix", profile_filename_prefix,
                       "Path prefix of the --profile traces"));
  bench(app.add_flag("--skip-warmup", skip_warmup));
  bench(app.add_option("--lora-rank", lora_rank, "Rank of the dummy LoRA adapters (with --num-loras)"));
  bench(app.add_option("--num-loras", num_loras,
                       "Dummy LoRA adapters; request r runs adapter r % N (0 = base only)"));
  std::vector<std::string> args = sgl::bench::expand_flags(app, argc, argv);
  if (auto merged = sgl::server::flags::expand_config_file(std::move(args), launch.table()); merged.ok()) {
    args = std::move(merged).value();
  } else {
    std::cerr << "error: " << merged.error().message << "\n";
    return 2;
  }
  if (const int rc = sgl::bench::parse_expanded(app, std::move(args)); rc >= 0) return rc;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows up line by line when piped to a log
  for (const auto& r : launch.refusals()) std::cerr << r << "\n";
  if (!launch.refusals().empty()) return 2;
  for (const auto& w : launch.warnings()) std::cerr << "warning: " << w << "\n";
  EngineConfig cfg = launch.engine_config();  // --num-threads among them
  const int page_size = launch.args().page_size;
  std::vector<std::string> lora_targets = launch.args().lora_target_modules;
  if (lora_targets.empty()) lora_targets = {"all"};
  auto positive = [](const std::vector<int>& v) {
    return std::all_of(v.begin(), v.end(), [](int x) { return x > 0; });
  };
  if (!positive(batch_sizes) || !positive(input_lens) || !positive(output_lens) || page_size < 1) {
    std::cerr << "--batch-size, --input-len, --output-len and --page-size must be positive\n";
    return 2;
  }
  // Text prompts (--prompt-filename, --correctness-test) need the model's tokenizer.
  std::shared_ptr<const sgl::text::Tokenizer> tokenizer;
  const std::vector<std::string> prompt_lines = sgl::bench::read_prompt_file(prompt_filename);
  if (correctness_test || !prompt_lines.empty()) {
    const auto& la = launch.args();
    auto t = sgl::text::Tokenizer::from_dir(la.tokenizer_path.empty() ? la.model_path : la.tokenizer_path);
    if (!t.ok()) {
      std::cerr << (correctness_test ? "--correctness-test" : "--prompt-filename")
                << " needs the model's tokenizer (--tokenizer-path): " << t.error().message << "\n";
      return 2;
    }
    tokenizer = *t;
  }
  std::vector<std::vector<int32_t>> custom_inputs;
  for (const auto& line : prompt_lines) {
    std::string p = line;
    p.erase(0, p.find_first_not_of(" \t\r\n"));
    p.erase(p.find_last_not_of(" \t\r\n") + 1);
    auto ids = tokenizer->encode(p, /*add_special_tokens=*/true);
    if (!ids.ok() || ids->empty()) {
      std::cerr << "--prompt-filename: cannot tokenize the line \"" << line << "\"\n";
      return 2;
    }
    custom_inputs.push_back(std::move(*ids));
  }
  if (correctness_test) {
    auto runner = create_model_runner(cfg);
    if (!runner.ok()) {
      std::cerr << runner.error().message << "\n";
      return 1;
    }
    auto st = sgl::bench::run_correctness_test(**runner, *tokenizer, prompt_lines, cut_len, output_lens[0],
                                               page_size);
    if (!st.ok()) {
      std::cerr << "correctness test failed: " << st.error().message << "\n";
      return 1;
    }
    return 0;
  }

  // --device cuda: the GPU's copy bandwidth and GEMM peak; otherwise the host's read bandwidth.
  std::optional<sgl::bench::CudaRoofline> gpu;
  std::optional<sgl::bench::ReadBandwidthProbe> probe;
  double bw = 0;
  if (cfg.device == "cuda") {
    fmt::print("Measuring device-to-device copy bandwidth and bf16 GEMM peak...\n");
    gpu = sgl::bench::measure_cuda_roofline();
    if (!gpu) {
      std::cerr << "--device cuda: no CUDA device visible (or this binary has no CUDA backend)\n";
      return 1;
    }
    bw = gpu->copy_bandwidth;
    fmt::print("Device copy bandwidth: {:.1f} GB/s (read + write); bf16 GEMM 8192^3: {:.1f} TFLOP/s\n",
               bw / 1e9, gpu->gemm_flops / 1e12);
  } else {
    fmt::print("Measuring memory read bandwidth...\n");
    probe.emplace();
    bw = probe->measure();
    fmt::print("Memory read bandwidth: {:.2f} GB/s\n", bw / 1e9);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto runner = create_model_runner(cfg);
  if (!runner.ok()) {
    std::cerr << runner.error().message << "\n";
    return 1;
  }
  const ModelInfo& info = (*runner)->info();
  fmt::print("Loaded {} ({} layers, {:.1f} MB of weights) in {:.1f} s\n", info.architecture, info.num_layers,
             info.weight_bytes / 1e6, seconds_since(t0));
  const int max_bs = *std::max_element(batch_sizes.begin(), batch_sizes.end());
  int longest_prompt = *std::max_element(input_lens.begin(), input_lens.end());
  for (const auto& p : custom_inputs) longest_prompt = std::max(longest_prompt, static_cast<int>(p.size()));
  const int max_len = longest_prompt + *std::max_element(output_lens.begin(), output_lens.end());
  Layout kv{(max_len + page_size - 1) / page_size, page_size};
  const int64_t slots = max_bs * kv.pages_per_req * page_size;
  if (auto st = (*runner)->init_kv_cache(slots, page_size); !st.ok()) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  fmt::print("max_total_num_tokens={}\n", slots);
  LoraSetup lora;
  if (num_loras > 0) {
    auto modules = parse_lora_target_modules(lora_targets);
    if (!modules.ok() || lora_rank < 1 || !info.config) {
      std::cerr << (modules.ok() ? "--num-loras needs --lora-rank >= 1 and a model config"
                                 : modules.error().message)
                << "\n";
      return 2;
    }
    LoraPoolConfig lc;
    lc.num_slots = num_loras;
    lc.max_rank = lora_rank;
    lc.modules = *modules;
    if (auto st = (*runner)->init_lora(lc); !st.ok()) {
      std::cerr << st.error().message << "\n";
      return 1;
    }
    lora.num = num_loras;
    const int64_t elem =
        info.kv_bytes_per_token / (2LL * info.num_layers * info.num_kv_heads * info.head_dim);
    for (int i = 0; i < num_loras; ++i) {
      auto a = dummy_lora_adapter(*info.config, lora_rank, *modules, cfg.random_seed + 1000 + i,
                                  "lora" + std::to_string(i));
      lora.bytes_each = a->bytes() / 4 * elem;  // held in the compute dtype
      lora.pending.push_back({i, std::move(a)});
    }
    fmt::print("LoRA: {} adapters of rank {} on {}, {:.1f} MB each\n", num_loras, lora_rank,
               fmt::join(lora_module_names(*modules), ","), lora.bytes_each / 1e6);
  }
  std::vector<nlohmann::json> results;
  try {
    if (!skip_warmup) {
      fmt::print("Warmup ...\n");
      const Case w{batch_sizes[0], input_lens[0], std::min(32, output_lens[0])};
      (void)run_once(**runner, w, kv, cfg.random_seed, 0, run_name, lora);
    }
    fmt::print("Benchmark ...\n");
    for (int bs : batch_sizes)
      for (int il : input_lens)
        for (int ol : output_lens) {
          const Case c{bs, il, ol,
                       custom_inputs.empty() ? std::vector<std::vector<int32_t>>{}
                                             : sgl::bench::align_to_batch(custom_inputs, bs)};
          fmt::print("\n==== batch size {} | input {} | output {} ====\n", bs, il, ol);
          if (profile) (void)sgl::trace::start({}, nullptr);
          auto m = run_once(**runner, c, kv, cfg.random_seed + static_cast<uint64_t>(bs), log_decode_step,
                            run_name, lora);
          if (profile) write_profile(profile_filename_prefix, c);
          if (lora.num > 0) {
            m["num_loras"] = lora.num;
            m["lora_rank"] = lora_rank;
          }
          const double bw_case = gpu ? bw : std::max(bw, probe->measure(3));
          add_roofline(m, info, c, bw_case, lora);
          if (gpu) add_prefill_roofline(m, info, c, gpu->gemm_flops);
          results.push_back(std::move(m));
        }
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << "\n";
    return 1;
  }
  if (!result_filename.empty()) {
    std::ofstream out(result_filename, std::ios::app);
    for (const auto& m : results) out << m.dump() << "\n";
    if (!out) std::cerr << "could not write " << result_filename << "\n";
  }
  return 0;
}
