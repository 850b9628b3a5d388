// bench_sampler: cost of Sampler::sample per logits row over a realistic vocabulary, for each
// kind of sampling knob (the decode step pays it once per request). Logits are Gaussian with a
// wide spread — a flatter distribution than a trained model's, so top-p here is a worst case.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <random>

#include "engine/sampling.h"

using namespace sgl::engine;

int main(int argc, char** argv) {
  int64_t vocab = 151936;
  int rows = 32, reps = 5;
  float sigma = 2.5f;
  CLI::App app{"bench_sampler: Sampler::sample cost per row"};
  app.add_option("--vocab", vocab);
  app.add_option("--rows", rows, "rows per call (one per request of a decode batch)");
  app.add_option("--reps", reps, "calls per case; the fastest is reported");
  app.add_option("--sigma", sigma, "standard deviation of the random logits");
  CLI11_PARSE(app, argc, argv);

  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> base(static_cast<size_t>(rows * vocab));
  for (float& v : base) v = normal(rng);

  struct Case {
    const char* name;
    SamplingParams params;
    int top_logprobs = 0;
  };
  std::vector<Case> cases(8);
  cases[0].name = "greedy";
  cases[0].params.temperature = 0;
  cases[1].name = "temperature 1";
  cases[2].name = "top_k 20";
  cases[2].params.top_k = 20;
  cases[3].name = "top_p 0.9";
  cases[3].params.top_p = 0.9f;
  cases[4].name = "min_p 0.1";
  cases[4].params.min_p = 0.1f;
  cases[5].name = "T 0.6, top_k 20, top_p 0.95";  // Qwen3's generation_config
  cases[5].params.temperature = 0.6f;
  cases[5].params.top_p = 0.95f;
  cases[5].params.top_k = 20;
  cases[6].name = "penalties (64 output ids)";
  cases[6].params.frequency_penalty = 0.5f;
  cases[6].params.presence_penalty = 0.5f;
  cases[6].params.repetition_penalty = 1.1f;
  cases[7].name = "temperature 1 + top-5 logprobs";
  cases[7].top_logprobs = 5;
  std::vector<int32_t> output_ids(64);
  for (size_t i = 0; i < output_ids.size(); ++i) output_ids[i] = static_cast<int32_t>(i * 997 % vocab);

  Sampler sampler(1);
  fmt::print("vocab {}, {} rows per call, logits ~ N(0, {})\n", vocab, rows, sigma);
  for (const Case& c : cases) {
    std::vector<RowSampling> rs(static_cast<size_t>(rows));
    for (auto& r : rs) {
      r.params = &c.params;
      r.output_ids = &output_ids;
      r.return_logprob = c.top_logprobs > 0;
      r.top_logprobs_num = c.top_logprobs;
    }
    double best = 1e30;
    for (int rep = 0; rep < reps; ++rep) {
      std::vector<float> x = base;  // sampling works in place
      auto t0 = std::chrono::steady_clock::now();
      auto out = sampler.sample(x.data(), vocab, rs);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    fmt::print("{:<34} {:8.3f} ms per call, {:7.1f} us per row\n", c.name, best * 1e3, best * 1e6 / rows);
  }
  return 0;
}
