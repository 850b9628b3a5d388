// Cost of structured output in the sampler: sampling one token from a Qwen3-vocabulary logits row
// with a JSON-schema constraint vs without, over the tokens of a forced tool call. The logits
// imitate a model that knows JSON: the intended next token leads by `--lead` logits over a
// Zipf-like tail (logit = -zipf * ln(rank), ranks shuffled), so sampled rows see a realistic
// long tail. Prints µs per token (median of rounds) for greedy and temperature-1 rows, and the
// ratio to unconstrained sampling of the same rows. Usage:
//   bench_grammar [--tokenizer ../shared/models/qwen3-tokenizer] [--rounds 5] [--lead 6] [--zipf 1.1]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_timing.h"
#include "engine/sampling.h"
#include "server/grammar/grammar_constraint.h"
#include "server/text/tokenizer.h"

namespace {

constexpr const char* kSchema =
    R"({"type":"array","minItems":1,"maxItems":1,"items":{"type":"object","anyOf":[
  {"properties":{"name":{"type":"string","enum":["str_replace_editor"]},"parameters":{"type":"object","properties":{
    "command":{"type":"string","enum":["view","create","str_replace"]},"path":{"type":"string"},
    "old_str":{"type":"string"},"new_str":{"type":"string"}},"required":["command","path"]}},"required":["name","parameters"]}]}})";
constexpr const char* kAnswer =
    R"([{"name": "str_replace_editor", "parameters": {"command": "str_replace", "path": "/src/loop.cpp", )"
    R"("old_str": "for (int i = 0; i <= n; ++i) total += x[i];", "new_str": "for (int i = 0; i < n; ++i) total += x[i];"}}])";

struct Row {
  std::vector<float> logits;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"structured-output sampling cost"};
  std::string tok_dir = "../shared/models/qwen3-tokenizer";
  int rounds = 5;
  float lead = 6.0f, zipf = 1.1f;
  cli.add_option("--tokenizer", tok_dir);
  cli.add_option("--rounds", rounds);
  cli.add_option("--lead", lead, "logits by which the intended token leads the tail's best");
  cli.add_option("--zipf", zipf, "tail logit = -zipf * ln(rank)");
  CLI11_PARSE(cli, argc, argv);

  auto tok = sgl::text::Tokenizer::from_dir(tok_dir);
  if (!tok.ok()) {
    fmt::print(stderr, "{}\n", tok.error().message);
    return 1;
  }
  auto texts = std::make_shared<const sgl::server::TokenTexts>(**tok);
  sgl::server::GrammarCompiler compiler(texts);
  auto grammar = compiler.compile(sgl::server::GrammarKind::kJsonSchema, kSchema);
  if (!grammar.ok()) {
    fmt::print(stderr, "{}\n", grammar.error().message);
    return 1;
  }
  auto ids = (*tok)->encode(kAnswer);
  const int64_t vocab = (*tok)->vocab_size();
  const int32_t eos = (*tok)->token_to_id("<|im_end|>");
  ids->push_back(eos);

  // One logits row per answer token: a shuffled Zipf tail with the intended token in the lead.
  std::mt19937 rng(1);
  std::vector<float> tail(static_cast<size_t>(vocab));
  for (int64_t r = 0; r < vocab; ++r) tail[r] = -zipf * std::log(static_cast<float>(r + 1));
  std::vector<Row> rows;
  for (int32_t id : *ids) {
    std::shuffle(tail.begin(), tail.end(), rng);
    Row row{tail};
    row.logits[id] = lead;
    rows.push_back(std::move(row));
  }

  fmt::print("{} answer tokens, vocabulary {}, lead {} logits, zipf {}\n", ids->size(), vocab, lead, zipf);
  fmt::print("{:<12} {:>16} {:>16} {:>8}\n", "rows", "free µs/token", "schema µs/token", "ratio");
  const int32_t stop[] = {eos};
  for (float temperature : {0.0f, 1.0f}) {
    sgl::engine::SamplingParams p;
    p.temperature = temperature;
    auto run = [&](bool constrained) {
      std::vector<double> per_round;
      for (int round = 0; round < rounds; ++round) {
        auto constraint = (*grammar)->make(stop);
        sgl::engine::Sampler sampler(7);
        std::vector<float> scratch;
        double total_us = 0;
        for (size_t i = 0; i < rows.size(); ++i) {
          scratch = rows[i].logits;
          sgl::engine::RowSampling rs;
          rs.params = &p;
          rs.step = static_cast<int64_t>(i);
          rs.constraint = constrained ? constraint.get() : nullptr;
          const double t0 = sgl::bench::thread_cpu_us();
          auto out = sampler.sample(scratch.data(), vocab, std::span(&rs, 1));
          total_us += sgl::bench::thread_cpu_us() - t0;
          // Follow the intended answer whatever was drawn, so every round sees the same states.
          if (constrained && out[0].token != (*ids)[i]) {
            constraint = (*grammar)->make(stop);
            for (size_t j = 0; j <= i; ++j)
              if (texts->is_text((*ids)[j])) constraint->accept((*ids)[j]);
          }
        }
        per_round.push_back(total_us / static_cast<double>(rows.size()));
      }
      return sgl::bench::median(per_round);
    };
    const double free_us = run(false), schema_us = run(true);
    fmt::print("{:<12} {:>16.1f} {:>16.1f} {:>7.2f}x\n", temperature == 0 ? "greedy" : "temperature 1",
               free_us, schema_us, schema_us / free_us);
  }
  return 0;
}
