#include "custom_prompts.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace sgl::bench {

std::vector<std::string> read_prompt_file(const std::string& path) {
  if (path.empty()) return {};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    fmt::print("Custom prompt file {} not found. Using default inputs...\n", path);
    return {};
  }
  std::ifstream f(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  return lines;
}

std::vector<std::vector<int32_t>> align_to_batch(const std::vector<std::vector<int32_t>>& prompts, int bs) {
  const int n = static_cast<int>(prompts.size());
  if (n == bs) return prompts;
  if (n > bs) {
    fmt::print("Custom input size ({}) is larger than batch_size ({}). Using the first {} prompts.\n", n, bs, bs);
    return {prompts.begin(), prompts.begin() + bs};
  }
  fmt::print("Custom input size ({}) is smaller than batch_size ({}). Pad to the desired batch_size with the last "
             "prompt.\n",
             n, bs);
  std::vector<std::vector<int32_t>> out = prompts;
  out.resize(static_cast<size_t>(bs), prompts.back());
  return out;
}

namespace {

using namespace engine;

// Row-abbreviated like torch prints a large tensor: three values each side of "...".
std::string logits_text(const StepOutput& o) {
  std::vector<std::string> rows;
  const auto v = static_cast<size_t>(o.vocab_size);
  for (size_t r = 0; v > 0 && r < o.logits.size() / v; ++r) {
    const float* row = o.logits.data() + r * v;
    std::vector<std::string> cells;
    for (size_t i = 0; i < v; ++i) {
      if (v > 6 && i == 3) {
        cells.emplace_back("...");
        i = v - 4;
        continue;
      }
      cells.push_back(fmt::format("{:8.4f}", row[i]));
    }
    rows.push_back(fmt::format("[{}]", fmt::join(cells, ", ")));
  }
  return fmt::format("[{}]", fmt::join(rows, ",\n "));
}

// One forward over every prompt's tokens [from, to), on top of [0, from) already cached; request
// i owns KV slots [i * stride, (i + 1) * stride).
StepInput extend_input(const std::vector<std::vector<int32_t>>& ids, size_t from, int64_t stride) {
  StepInput in;
  in.return_logits = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    Segment s;
    s.prefix_len = static_cast<int32_t>(from);
    s.new_len = static_cast<int32_t>(ids[i].size() - from);
    s.slot_offset = static_cast<int64_t>(in.batch.kv_slots.size());
    s.logits_start = s.new_len - 1;
    for (size_t p = 0; p < ids[i].size(); ++p) {
      if (p >= from) {
        in.batch.input_ids.push_back(ids[i][p]);
        in.batch.positions.push_back(static_cast<int32_t>(p));
      }
      in.batch.kv_slots.push_back(static_cast<int32_t>(static_cast<int64_t>(i) * stride + static_cast<int64_t>(p)));
    }
    in.batch.segments.push_back(s);
    RowSampling rs;  // greedy, as SGLang-JAX's temperature 0
    rs.req_slot = static_cast<int32_t>(i);
    in.sampling.push_back(rs);
  }
  return in;
}

}  // namespace

Status run_correctness_test(ModelRunner& runner, const text::Tokenizer& tok, std::vector<std::string> prompts,
                            int cut_len, int output_len, int page_size) {
  if (prompts.empty())
    prompts = {"The capital of France is", "The capital of the United Kindom is", "Today is a sunny day and I like"};
  std::vector<std::vector<int32_t>> ids;
  size_t longest = 0;
  for (const auto& p : prompts) {
    SGL_ASSIGN_OR_RETURN(auto enc, tok.encode(p, /*add_special_tokens=*/true));
    if (static_cast<int64_t>(enc.size()) <= cut_len)
      return invalid_argument(fmt::format("--cut-len {}: the prompt \"{}\" has only {} tokens", cut_len, p, enc.size()));
    longest = std::max(longest, enc.size());
    ids.push_back(std::move(enc));
  }
  std::vector<std::string> shown;
  for (const auto& v : ids) shown.push_back(fmt::format("[{}]", fmt::join(v, ", ")));
  fmt::print("\ninput_ids=[{}]\n\n", fmt::join(shown, ", "));
  const int64_t stride =
      (static_cast<int64_t>(longest) + output_len + page_size - 1) / page_size * page_size;  // whole pages
  SGL_TRY(runner.init_kv_cache(stride * static_cast<int64_t>(ids.size()), page_size));
  if (cut_len > 0) {
    std::vector<std::vector<int32_t>> heads;
    for (const auto& v : ids) heads.emplace_back(v.begin(), v.begin() + cut_len);
    SGL_ASSIGN_OR_RETURN(auto first, runner.step(extend_input(heads, 0, stride)));
    fmt::print("prefill logits (first half): {} \n\n", logits_text(first));
  }
  SGL_ASSIGN_OR_RETURN(auto out, runner.step(extend_input(ids, static_cast<size_t>(cut_len), stride)));
  fmt::print("prefill logits (final): {} \n\n", logits_text(out));
  std::vector<std::vector<int32_t>> outputs = ids;
  for (size_t i = 0; i < ids.size(); ++i) outputs[i].push_back(out.rows[i].token);
  for (int step = 0; step + 1 < output_len; ++step) {
    StepInput in;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const auto pos = static_cast<int32_t>(outputs[i].size() - 1);
      Segment s;
      s.prefix_len = pos;
      s.new_len = 1;
      s.slot_offset = static_cast<int64_t>(in.batch.kv_slots.size());
      s.logits_start = 0;
      in.batch.input_ids.push_back(outputs[i].back());
      in.batch.positions.push_back(pos);
      for (int32_t p = 0; p <= pos; ++p)
        in.batch.kv_slots.push_back(static_cast<int32_t>(static_cast<int64_t>(i) * stride + p));
      in.batch.segments.push_back(s);
      RowSampling rs;
      rs.req_slot = static_cast<int32_t>(i);
      rs.step = step + 1;
      in.sampling.push_back(rs);
    }
    SGL_ASSIGN_OR_RETURN(auto d, runner.step(in));
    for (size_t i = 0; i < outputs.size(); ++i) outputs[i].push_back(d.rows[i].token);
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    fmt::print("========== Prompt {} ==========\n{} \n\n", i, tok.decode(outputs[i]));
  return ok_status();
}

}  // namespace sgl::bench
