// bench_eagle3: decode throughput of plain decoding vs EAGLE3 speculation on the same CPU engine,
// per batch size, with the prompts of the EAGLE3 reference file (or random ids) and greedy
// decoding. Prints one line per (mode, batch size): decode tok/s, accept length, speed-up.
//   bench_eagle3 --model-path ../shared/models/tiny-qwen3 --draft-model-path
//   ../shared/models/tiny-qwen3-eagle3
#include <fmt/format.h>
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <random>

#include "engine/engine_config.h"
#include "engine/spec/eagle3_draft.h"
#include "sched/spec/batch_generator.h"

using namespace sgl;

namespace {

struct Run {
  double decode_tok_s = 0;
  double accept = 0;
};

Result<Run> run(const std::string& model, const std::string& draft_dir, const std::string& dtype,
                sched::spec::SpecConfig cfg, int bs, int in_len, int out_len, int repeats) {
  engine::EngineConfig ec;
  ec.model_path = model;
  ec.dtype = dtype;
  SGL_ASSIGN_OR_RETURN(auto target, engine::create_model_runner(ec));
  std::unique_ptr<engine::spec::Eagle3Draft> draft;
  if (!draft_dir.empty()) {
    SGL_ASSIGN_OR_RETURN(draft, engine::spec::Eagle3Draft::load(
                                    draft_dir, model, target->info(),
                                    dtype == "float32" ? engine::DType::kF32 : engine::DType::kBF16));
  }
  SGL_ASSIGN_OR_RETURN(auto gen,
                       sched::spec::BatchGenerator::create(*target, draft.get(), cfg, 1,
                                                           int64_t{bs} * (in_len + out_len + 64) + 1024));
  // Prompts: a Python-like prefix the tiny models were trained on, then random ids (varied per request).
  const std::vector<int32_t> head = {474, 2643, 198, 474, 5708, 1406, 750, 1887, 3932};
  std::mt19937 rng(1);
  std::vector<sched::spec::GenRequest> reqs(static_cast<size_t>(bs));
  for (auto& r : reqs) {
    r.prompt = head;
    while (static_cast<int>(r.prompt.size()) < in_len)
      r.prompt.push_back(static_cast<int32_t>(rng() % 150000));
    r.prompt.resize(static_cast<size_t>(std::max<int>(in_len, 1)));
    std::swap(r.prompt.back(), r.prompt[head.size() - 1 < r.prompt.size() ? head.size() - 1 : 0]);
    r.params.temperature = 0;
    r.max_new_tokens = out_len;
  }
  // Prefill-only pass to subtract prefill time: the same requests with one output token.
  auto prefill_reqs = reqs;
  for (auto& r : prefill_reqs) r.max_new_tokens = 1;
  SGL_TRY(gen->generate(prefill_reqs).ok() ? ok_status() : internal_error("warm-up failed"));
  double best = 0;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    SGL_TRY(gen->generate(prefill_reqs).ok() ? ok_status() : internal_error("prefill failed"));
    auto t1 = std::chrono::steady_clock::now();
    SGL_ASSIGN_OR_RETURN(auto out, gen->generate(reqs));
    auto t2 = std::chrono::steady_clock::now();
    const double decode_s =
        std::chrono::duration<double>(t2 - t1).count() - std::chrono::duration<double>(t1 - t0).count();
    const double tok_s = static_cast<double>(bs) * (out_len - 1) / std::max(decode_s, 1e-9);
    best = std::max(best, tok_s);
  }
  Run r;
  r.decode_tok_s = best;
  if (auto* st = gen->spec_stats()) r.accept = st->avg_accept_length();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_eagle3: plain vs EAGLE3 speculative decoding on the CPU engine"};
  std::string model, draft, dtype = "bfloat16";
  std::vector<int> batch_sizes = {1, 8, 32};
  int in_len = 64, out_len = 128, steps = 3, topk = 1, draft_tokens = 4, repeats = 2;
  app.add_option("--model-path", model)->required();
  app.add_option("--draft-model-path", draft)->required();
  app.add_option("--dtype", dtype);
  app.add_option("--batch-size", batch_sizes);
  app.add_option("--input-len", in_len);
  app.add_option("--output-len", out_len);
  app.add_option("--speculative-num-steps", steps);
  app.add_option("--speculative-eagle-topk", topk);
  app.add_option("--speculative-num-draft-tokens", draft_tokens);
  app.add_option("--repeats", repeats);
  std::string only;
  app.add_option("--only", only, "Run one mode alone (for profiling): plain or spec")
      ->check(CLI::IsMember({"plain", "spec"}));
  bool keep_heap = false;
  app.add_flag("--keep-heap", keep_heap,
               "Keep freed large blocks in the heap (glibc mmap/trim thresholds at 1 GiB): per-step logits "
               "buffers above 32 MB are otherwise fresh, page-faulting memory every step");
  CLI11_PARSE(app, argc, argv);
  if (keep_heap) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
  const sched::spec::SpecConfig cfg{steps, topk, draft_tokens};
  fmt::print("| batch | plain decode tok/s | EAGLE3 ({},{},{}) decode tok/s | accept length | speed-up |\n",
             steps, topk, draft_tokens);
  fmt::print("|---|---|---|---|---|\n");
  for (int bs : batch_sizes) {
    const Result<Run> skipped = Run{};
    auto plain = only == "spec" ? skipped : run(model, "", dtype, cfg, bs, in_len, out_len, repeats);
    auto spec = only == "plain" ? skipped : run(model, draft, dtype, cfg, bs, in_len, out_len, repeats);
    if (!plain.ok() || !spec.ok()) {
      fmt::print(stderr, "error: {}\n", !plain.ok() ? plain.error().message : spec.error().message);
      return 1;
    }
    fmt::print("| {} | {:.1f} | {:.1f} | {:.2f} | {:.2f}x |\n", bs, plain->decode_tok_s, spec->decode_tok_s,
               spec->accept, spec->decode_tok_s / std::max(plain->decode_tok_s, 1e-9));
  }
  return 0;
}
