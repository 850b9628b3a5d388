// The generated-shared-prefix dataset: groups of requests sharing one long random system prompt,
// the traffic that exercises the server's prefix (radix) cache, as SGLang-JAX generates it.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "bench/serving/dataset.h"

namespace sgl::bench {
namespace {

// SGLang-JAX's gen_prompt: `n` tokens drawn uniformly from the vocabulary, decoded.
std::string random_text(const TokenCodec& codec, std::mt19937_64& rng, int64_t n) {
  std::uniform_int_distribution<int32_t> any_id(0, static_cast<int32_t>(std::max<int64_t>(codec.vocab_size, 1) - 1));
  std::vector<int32_t> ids(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (auto& id : ids) id = any_id(rng);
  return codec.decode(ids);
}

// A prefix unique to this run, so routers never match another run's keys.
std::string run_key_prefix(std::mt19937_64& rng) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
  return fmt::format("{:08x}_{}", static_cast<uint32_t>(rng()), stamp);
}

}  // namespace

std::vector<DatasetRow> generated_shared_prefix_dataset(const TokenCodec& codec, const SharedPrefixOptions& opt,
                                                        SharedPrefixStats* stats) {
  std::mt19937_64 rng(opt.seed);
  const int groups = std::max(opt.num_groups, 0), per_group = std::max(opt.prompts_per_group, 0);
  const int turns = std::max(opt.num_turns, 1);
  const auto system_lens = draw_lengths(rng, groups, opt.system_prompt_len, opt.range_ratio);
  const auto question_lens = draw_lengths(rng, groups * per_group * turns, opt.question_len, opt.range_ratio);
  const auto output_lens = draw_lengths(rng, groups * per_group, opt.output_len, opt.range_ratio);
  std::vector<std::string> systems;
  for (int g = 0; g < groups; ++g) systems.push_back(random_text(codec, rng, system_lens[g]));
  const std::string key_prefix = opt.send_routing_key ? run_key_prefix(rng) : "";
  std::vector<DatasetRow> rows;
  int64_t question_tokens = 0, question_count = 0;
  for (int g = 0; g < groups; ++g) {
    for (int p = 0; p < per_group; ++p) {
      std::vector<std::string> questions;
      for (int t = 0; t < turns; ++t)
        questions.push_back(random_text(codec, rng, question_lens[(static_cast<size_t>(g) * per_group + p) * turns + t]));
      DatasetRow r;
      r.prompt = systems[g] + "\n\n" + questions[0];
      r.next_turns.assign(questions.begin() + 1, questions.end());
      r.prompt_len = opt.fast_prepare ? 1 : static_cast<int64_t>(codec.encode(r.prompt).size());
      r.output_len = output_lens[static_cast<size_t>(g) * per_group + p];
      if (opt.send_routing_key) r.routing_key = fmt::format("{}_{}", key_prefix, g);
      if (stats && !opt.fast_prepare) {
        for (const auto& q : questions) question_tokens += static_cast<int64_t>(codec.encode(q).size());
        question_count += turns;
      }
      rows.push_back(std::move(r));
    }
  }
  if (!opt.ordered) std::shuffle(rows.begin(), rows.end(), rng);
  if (stats) {
    *stats = {};
    for (const auto& r : rows) stats->total_input_tokens += r.prompt_len, stats->total_output_tokens += r.output_len;
    if (!opt.fast_prepare && groups > 0) {
      int64_t sys_tokens = 0;
      for (const auto& s : systems) sys_tokens += static_cast<int64_t>(codec.encode(s).size());
      stats->avg_system_prompt_len = static_cast<double>(sys_tokens) / groups;
      stats->avg_question_len = question_count ? static_cast<double>(question_tokens) / question_count : 0;
    }
  }
  return rows;
}

}  // namespace sgl::bench
