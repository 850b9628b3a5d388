#include "bench/serving/dataset.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sgl::bench {

std::vector<int64_t> draw_lengths(std::mt19937_64& rng, int n, int64_t len, double ratio) {
  int64_t lo = std::max<int64_t>(static_cast<int64_t>(static_cast<double>(len) * ratio), 1);
  int64_t hi = std::max<int64_t>(len, lo);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::vector<int64_t> out(n);
  for (auto& v : out) v = dist(rng);
  return out;
}

std::optional<std::string> text_of_exact_length(const TokenCodec& codec, std::vector<int32_t> ids,
                                                int64_t target) {
  // Decoding then encoding merges or splits tokens at boundaries; trim or extend the ids and retry.
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::string text = codec.decode(ids);
    std::vector<int32_t> re = codec.encode(text);
    auto n = static_cast<int64_t>(re.size());
    if (n == target) return text;
    if (n > target) {
      re.resize(static_cast<size_t>(target));
    } else {
      for (int64_t k = n; k < target; ++k)
        re.push_back(re.empty() ? 0 : re[static_cast<size_t>(k) % re.size()]);
    }
    ids = std::move(re);
  }
  return std::nullopt;
}

std::vector<DatasetRow> random_ids_dataset(const TokenCodec& codec, const RandomDatasetOptions& opt) {
  std::mt19937_64 rng(opt.seed);
  auto in_lens = draw_lengths(rng, opt.num_prompts, opt.input_len, opt.range_ratio);
  auto out_lens = draw_lengths(rng, opt.num_prompts, opt.output_len, opt.range_ratio);
  std::uniform_int_distribution<int64_t> offset_dist(0, std::max<int64_t>(codec.vocab_size - 1, 0));
  std::vector<DatasetRow> rows;
  for (int i = 0; i < opt.num_prompts; ++i) {
    int64_t offset = offset_dist(rng);
    std::vector<int32_t> ids(static_cast<size_t>(in_lens[i]));
    for (int64_t j = 0; j < in_lens[i]; ++j)
      ids[static_cast<size_t>(j)] = static_cast<int32_t>((offset + i + j) % codec.vocab_size);
    if (auto text = text_of_exact_length(codec, std::move(ids), in_lens[i]))
      rows.push_back({std::move(*text), in_lens[i], out_lens[i]});
  }
  return rows;
}

namespace {

Result<std::vector<std::pair<std::string, std::string>>> load_sharegpt(const std::string& path) {
  std::ifstream f(path);
  if (!f) return not_found("cannot open ShareGPT file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_array()) return corrupt(path + ": not a JSON list of conversations");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& conv : j) {
    if (!conv.is_object() || !conv.contains("conversations") || !conv["conversations"].is_array()) continue;
    const auto& turns = conv["conversations"];
    if (turns.size() < 2 || !turns[0].is_object() || !turns[1].is_object()) continue;
    auto first = turns[0].value("value", std::string());
    auto second = turns[1].value("value", std::string());
    if (first.empty()) continue;
    out.emplace_back(std::move(first), std::move(second));
  }
  if (out.empty()) return corrupt(path + ": no conversation with two turns");
  return out;
}

}  // namespace

Result<std::vector<DatasetRow>> random_sharegpt_dataset(const TokenCodec& codec, const std::string& path,
                                                        const RandomDatasetOptions& opt) {
  SGL_ASSIGN_OR_RETURN(auto convs, load_sharegpt(path));
  std::mt19937_64 rng(opt.seed);
  auto in_lens = draw_lengths(rng, opt.num_prompts, opt.input_len, opt.range_ratio);
  auto out_lens = draw_lengths(rng, opt.num_prompts, opt.output_len, opt.range_ratio);
  std::shuffle(convs.begin(), convs.end(), rng);
  std::vector<DatasetRow> rows;
  for (int i = 0; i < opt.num_prompts; ++i) {
    std::vector<int32_t> src = codec.encode(convs[static_cast<size_t>(i) % convs.size()].first);
    if (src.empty()) continue;
    std::vector<int32_t> ids(static_cast<size_t>(in_lens[i]));
    for (size_t j = 0; j < ids.size(); ++j) ids[j] = src[j % src.size()];
    if (auto text = text_of_exact_length(codec, std::move(ids), in_lens[i]))
      rows.push_back({std::move(*text), in_lens[i], out_lens[i]});
  }
  return rows;
}

Result<std::vector<DatasetRow>> sharegpt_dataset(const TokenCodec& codec, const std::string& path,
                                                 int num_prompts, int64_t fixed_output_len, uint64_t seed) {
  SGL_ASSIGN_OR_RETURN(auto convs, load_sharegpt(path));
  std::mt19937_64 rng(seed);
  std::shuffle(convs.begin(), convs.end(), rng);
  std::vector<DatasetRow> rows;
  for (const auto& [prompt, reply] : convs) {
    if (static_cast<int>(rows.size()) >= num_prompts) break;
    auto p = static_cast<int64_t>(codec.encode(prompt).size());
    int64_t o = fixed_output_len > 0 ? fixed_output_len : static_cast<int64_t>(codec.encode(reply).size());
    // SGLang's filter: drop too short or too long pairs.
    if (p < 2 || o < 2 || p > 1024 || p + o > 2048) continue;
    rows.push_back({prompt, p, o});
  }
  return rows;
}

}  // namespace sgl::bench
