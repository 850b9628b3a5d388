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
  std::vector<int64_t> out(std::max(n, 0));
  for (auto& v : out) v = dist(rng);
  return out;
}

std::optional<ExactPrompt> adjust_to_exact_length(const TokenCodec& codec, std::vector<int32_t> ids,
                                                  int64_t target, int max_retry, std::mt19937_64& rng) {
  // Decoding then encoding merges or splits tokens at boundaries; trim or pad the ids and retry.
  std::uniform_int_distribution<int32_t> any_id(0, static_cast<int32_t>(std::max<int64_t>(codec.vocab_size, 1) - 1));
  for (int remaining = max_retry;; --remaining) {
    std::string text = codec.decode(ids);
    ids = codec.encode(text);
    const auto n = static_cast<int64_t>(ids.size());
    if (n == target) return ExactPrompt{std::move(text), std::move(ids)};
    if (remaining <= 0) return std::nullopt;
    if (n > target) {
      ids.resize(static_cast<size_t>(target));
    } else {
      for (int64_t k = n; k < target; ++k) ids.push_back(any_id(rng));
    }
  }
}

std::optional<std::string> text_of_exact_length(const TokenCodec& codec, std::vector<int32_t> ids,
                                                int64_t target) {
  std::mt19937_64 rng(0);
  auto p = adjust_to_exact_length(codec, std::move(ids), target, 10, rng);
  if (!p) return std::nullopt;
  return std::move(p->text);
}

namespace {

DatasetRow exact_row(ExactPrompt p, int64_t in_len, int64_t out_len, bool return_ids) {
  DatasetRow r;
  if (return_ids) {
    r.input_ids = std::move(p.ids);
  } else {
    r.prompt = std::move(p.text);
  }
  r.prompt_len = in_len;
  r.output_len = out_len;
  return r;
}

}  // namespace

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
    if (auto p = adjust_to_exact_length(codec, std::move(ids), in_lens[i], opt.max_retry, rng))
      rows.push_back(exact_row(std::move(*p), in_lens[i], out_lens[i], opt.return_ids));
  }
  return rows;
}

namespace {

// A conversation's first user turn and first reply; "conversations" or "conversation", each turn's
// text under "value" (ShareGPT) or "content" (custom).
std::optional<std::pair<std::string, std::string>> first_exchange(const nlohmann::json& conv) {
  if (!conv.is_object()) return std::nullopt;
  const char* key = conv.contains("conversations") ? "conversations" : "conversation";
  if (!conv.contains(key) || !conv[key].is_array() || conv[key].size() < 2) return std::nullopt;
  auto text = [](const nlohmann::json& turn) {
    if (!turn.is_object()) return std::string();
    for (const char* k : {"content", "value"})
      if (turn.contains(k) && turn[k].is_string()) return turn[k].get<std::string>();
    return std::string();
  };
  return std::make_pair(text(conv[key][0]), text(conv[key][1]));
}

Result<std::vector<std::pair<std::string, std::string>>> load_conversations(const std::string& path,
                                                                            bool json_lines) {
  std::ifstream f(path);
  if (!f) return not_found("cannot open dataset file " + path);
  std::vector<std::pair<std::string, std::string>> out;
  if (json_lines) {
    std::string line;
    while (std::getline(f, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;  // SGLang-JAX skips lines that are not JSON
      if (auto e = first_exchange(j)) out.push_back(std::move(*e));
    }
  } else {
    std::stringstream ss;
    ss << f.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_array()) return corrupt(path + ": not a JSON list of conversations");
    for (const auto& conv : j)
      if (auto e = first_exchange(conv)) out.push_back(std::move(*e));
  }
  if (out.empty()) return corrupt(path + ": no conversation with two turns");
  return out;
}

}  // namespace

Result<std::vector<DatasetRow>> random_sharegpt_dataset(const TokenCodec& codec, const std::string& path,
                                                        const RandomDatasetOptions& opt) {
  SGL_ASSIGN_OR_RETURN(auto convs, load_conversations(path, false));
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
    if (auto p = adjust_to_exact_length(codec, std::move(ids), in_lens[i], opt.max_retry, rng))
      rows.push_back(exact_row(std::move(*p), in_lens[i], out_lens[i], opt.return_ids));
  }
  return rows;
}

Result<std::vector<DatasetRow>> conversation_dataset(const TokenCodec& codec, const std::string& path,
                                                     const ConversationDatasetOptions& opt) {
  SGL_ASSIGN_OR_RETURN(auto convs, load_conversations(path, opt.json_lines));
  std::mt19937_64 rng(opt.seed);
  std::shuffle(convs.begin(), convs.end(), rng);
  constexpr std::string_view kAssistant = "Assistant:";  // SGLang-JAX's ASSISTANT_SUFFIX
  std::vector<DatasetRow> rows;
  for (auto& [prompt, reply] : convs) {
    if (static_cast<int>(rows.size()) >= opt.num_prompts) break;
    if (!opt.prompt_suffix.empty()) {
      if (prompt.ends_with(kAssistant)) prompt.resize(prompt.size() - kAssistant.size());
      prompt += opt.prompt_suffix;
      prompt += kAssistant;
    }
    if (opt.apply_chat_template && codec.apply_chat_template) {
      prompt = codec.apply_chat_template(prompt);
      if (!codec.bos_token.empty())
        for (size_t p; (p = prompt.find(codec.bos_token)) != std::string::npos;)
          prompt.erase(p, codec.bos_token.size());
    }
    auto p = static_cast<int64_t>(codec.encode(prompt).size());
    int64_t o = opt.fixed_output_len ? *opt.fixed_output_len : static_cast<int64_t>(codec.encode(reply).size());
    // SGLang-JAX's filter: too short pairs always, too long ones only against a context length.
    if (p < 2 || o < 2) continue;
    if (opt.context_len && *opt.context_len > 0 && p + o > *opt.context_len) continue;
    DatasetRow r;
    r.prompt = std::move(prompt);
    r.prompt_len = p;
    r.output_len = o;
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<DatasetRow>> sharegpt_dataset(const TokenCodec& codec, const std::string& path,
                                                 int num_prompts, int64_t fixed_output_len, uint64_t seed) {
  ConversationDatasetOptions opt;
  opt.num_prompts = num_prompts;
  if (fixed_output_len > 0) opt.fixed_output_len = fixed_output_len;
  opt.seed = seed;
  return conversation_dataset(codec, path, opt);
}

}  // namespace sgl::bench
