// bench_one_batch: SGLang's static-batch benchmark on the engine alone (no server, no scheduler):
// one prefill of batch × input-len tokens, then output-len decode steps. In the same run it
// measures the machine's read bandwidth and reports decode against the bandwidth roofline
// (weights + KV bytes one step must read / bandwidth).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>

#include "engine/engine_config.h"
#include "membw.h"

namespace {

using namespace sgl::engine;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct CaseResult {
  double prefill_s = 0, median_decode_s = 0, total_s = 0, roofline_s = 0;
  int64_t step_bytes = 0;
};

CaseResult run_case(ModelRunner& runner, int bs, int in_len, int out_len, int page_size, double bandwidth,
                    uint64_t seed) {
  const ModelInfo& info = runner.info();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> tok(
      0, static_cast<int32_t>(std::min<int64_t>(info.vocab_size, 10000) - 1));
  // Each request owns whole pages: ceil((in + out) / page) of them, laid out one request after another.
  const int64_t pages_per_req = (in_len + out_len + page_size - 1) / page_size;
  auto slot = [&](int r, int64_t pos) { return static_cast<int32_t>(r * pages_per_req * page_size + pos); };
  StepInput prefill;
  for (int r = 0; r < bs; ++r) {
    Segment s;
    s.new_len = in_len;
    s.slot_offset = static_cast<int64_t>(prefill.batch.kv_slots.size());
    s.logits_start = in_len - 1;
    for (int i = 0; i < in_len; ++i) {
      prefill.batch.input_ids.push_back(tok(rng));
      prefill.batch.positions.push_back(i);
      prefill.batch.kv_slots.push_back(slot(r, i));
    }
    prefill.batch.segments.push_back(s);
    RowSampling rs;
    rs.req_slot = r;
    prefill.sampling.push_back(rs);
  }
  CaseResult res;
  auto t0 = std::chrono::steady_clock::now();
  auto p = runner.step(prefill);
  res.prefill_s = seconds_since(t0);
  if (!p.ok()) throw std::runtime_error(p.error().message);
  fmt::print("Prefill. latency: {:.5f} s, throughput: {:9.2f} token/s\n", res.prefill_s,
             bs * in_len / res.prefill_s);
  std::vector<double> lat;
  for (int step = 0; step < out_len - 1; ++step) {
    StepInput d;
    const int pos = in_len + step;
    for (int r = 0; r < bs; ++r) {
      Segment s;
      s.prefix_len = pos;
      s.new_len = 1;
      s.slot_offset = static_cast<int64_t>(d.batch.kv_slots.size());
      s.logits_start = 0;
      d.batch.input_ids.push_back(placeholder_token(r));  // the token this request sampled last
      d.batch.positions.push_back(pos);
      for (int i = 0; i <= pos; ++i) d.batch.kv_slots.push_back(slot(r, i));
      d.batch.segments.push_back(s);
      RowSampling rs;
      rs.req_slot = r;
      rs.step = step + 1;
      d.sampling.push_back(rs);
    }
    auto t1 = std::chrono::steady_clock::now();
    auto o = runner.step(d);
    lat.push_back(seconds_since(t1));
    if (!o.ok()) throw std::runtime_error(o.error().message);
    if (step < 5 || step % 100 == 0)
      fmt::print("Decode {}. Batch size: {}, latency: {:.5f} s, throughput: {:9.2f} token/s\n", step, bs,
                 lat.back(), bs / lat.back());
  }
  res.total_s = res.prefill_s;
  for (double l : lat) res.total_s += l;
  std::vector<double> sorted = lat;
  std::sort(sorted.begin(), sorted.end());
  res.median_decode_s = sorted.empty() ? 0 : sorted[sorted.size() / 2];
  // One decode step reads every weight once (the embedding table only for bs rows) plus each
  // request's KV so far (at the median step).
  const int64_t embed_bytes =
      info.vocab_size * info.hidden_size *
      (info.kv_bytes_per_token / (2LL * info.num_layers * info.num_kv_heads * info.head_dim));
  const int64_t ctx = in_len + out_len / 2;
  res.step_bytes = info.weight_bytes - embed_bytes + static_cast<int64_t>(bs) * ctx * info.kv_bytes_per_token;
  res.roofline_s = static_cast<double>(res.step_bytes) / bandwidth;
  fmt::print("Decode.  median latency: {:.5f} s, median throughput: {:9.2f} token/s\n", res.median_decode_s,
             bs / res.median_decode_s);
  fmt::print("Total. latency: {:.3f} s, throughput: {:9.2f} token/s\n", res.total_s,
             bs * (in_len + out_len) / res.total_s);
  fmt::print("Decode roofline: {:.1f} MB/step at {:.1f} GB/s = {:.5f} s; achieved {:.1f} % of roofline\n",
             res.step_bytes / 1e6, bandwidth / 1e9, res.roofline_s,
             100.0 * res.roofline_s / res.median_decode_s);
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  EngineConfig cfg;
  std::vector<int> batch_sizes = {1};
  int input_len = 1024, output_len = 16, page_size = 16;
  CLI::App app{
      "bench_one_batch: static-batch prefill/decode latency of the engine (as SGLang's bench_one_batch)"};
  app.add_option("--model-path", cfg.model_path, "Model directory, config file or conf/models preset name")
      ->required();
  app.add_option("--load-format", cfg.load_format, "auto | safetensors | dummy");
  app.add_option("--dtype", cfg.dtype, "auto | float32 | bfloat16");
  app.add_option("--device", cfg.device);
  app.add_option("--batch-size", batch_sizes)->expected(1, -1);
  app.add_option("--input-len", input_len);
  app.add_option("--output-len", output_len);
  app.add_option("--page-size", page_size);
  app.add_option("--random-seed", cfg.random_seed);
  app.add_option("--num-threads", cfg.num_threads, "0 = all cores");
  CLI11_PARSE(app, argc, argv);
  if (input_len < 1 || output_len < 1 || page_size < 1) {
    std::cerr << "--input-len, --output-len and --page-size must be positive\n";
    return 2;
  }

  fmt::print("Measuring memory read bandwidth...\n");
  const double bw = sgl::bench::measure_read_bandwidth();
  fmt::print("Memory read bandwidth: {:.2f} GB/s\n", bw / 1e9);
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
  const int64_t pages = (input_len + output_len + page_size - 1) / page_size;
  if (auto st = (*runner)->init_kv_cache(max_bs * pages * page_size, page_size); !st.ok()) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  try {
    for (int bs : batch_sizes) {
      fmt::print("\n==== batch size {} | input {} | output {} ====\n", bs, input_len, output_len);
      // The machine is shared and noisy: measure the roofline right next to each case.
      const double bw_case = std::max(bw, sgl::bench::measure_read_bandwidth(int64_t{1} << 30, 3));
      run_case(**runner, bs, input_len, output_len, page_size, bw_case,
               cfg.random_seed + static_cast<uint64_t>(bs));
    }
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
