#include "bench/serving/dataset_mooncake.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

namespace sgl::bench {
namespace {

using Json = nlohmann::json;

std::string repeated(std::string_view word, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += word;
  }
  return s;
}

// "{hash_id}hi hi … hi" per hash id (`his` words each), as SGLang-JAX builds a session's context.
std::string context_of(const Json& record, int his) {
  std::string s;
  if (record.contains("hash_ids") && record["hash_ids"].is_array())
    for (const auto& h : record["hash_ids"]) s += h.dump() + repeated("hi", his);
  return s;
}

int64_t int_field(const Json& record, const char* key, int64_t fallback) {
  return record.contains(key) && record[key].is_number_integer() ? record[key].get<int64_t>() : fallback;
}

}  // namespace

Result<MooncakeTrace> mooncake_dataset(const TokenCodec& codec, const std::string& path,
                                       const MooncakeOptions& opt) {
  std::ifstream f(path);
  if (!f)
    return not_found("mooncake trace " + path +
                     " not found, and nothing can be downloaded here: pass --dataset-path to a local copy");
  std::vector<Json> records;
  for (std::string line; std::getline(f, line) && static_cast<int>(records.size()) < opt.num_prompts;) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_object()) return corrupt(path + ": a line is not a JSON object");
    records.push_back(std::move(j));
  }
  if (records.empty()) return corrupt(path + ": no trace records");
  MooncakeTrace out;
  out.warmup.prompt = context_of(records[0], 512) + "Can you tell me a detailed story in 1000 words?";
  out.warmup.prompt_len = static_cast<int64_t>(codec.encode(out.warmup.prompt).size());
  out.warmup.output_len = int_field(records[0], "output_length", 32);
  std::stable_sort(records.begin(), records.end(), [](const Json& a, const Json& b) {
    return a.value("timestamp", 0.0) < b.value("timestamp", 0.0);
  });
  const double t0 = records[0].value("timestamp", 0.0);
  for (const auto& rec : records) {
    const double arrival = (rec.value("timestamp", 0.0) - t0) / 1000.0 * opt.slowdown_factor;
    const std::string base = context_of(rec, 128) + "Tell me a story based on this context.";
    const int64_t out_len = int_field(rec, "output_length", 256);
    std::vector<std::pair<std::string, std::string>> history;
    for (int round = 0; round < std::max(opt.num_rounds, 1); ++round) {
      history.emplace_back("user", "Round " + std::to_string(round + 1) + ": " + base);
      DatasetRow r;
      if (codec.render_chat) {
        r.prompt = codec.render_chat(history);
      } else {  // SGLang-JAX's fallback without a chat template
        for (const auto& [role, content] : history) r.prompt += (r.prompt.empty() ? "" : "\n") + role + ": " + content;
      }
      r.prompt_len = static_cast<int64_t>(codec.encode(r.prompt).size());
      r.output_len = out_len;
      out.rows.push_back(std::move(r));
      out.arrival_s.push_back(arrival);
      // The next round's context holds a placeholder reply: the real one is not known in advance.
      history.emplace_back("assistant", repeated("story", static_cast<int>(out_len)));
    }
  }
  return out;
}

}  // namespace sgl::bench
