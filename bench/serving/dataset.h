// Benchmark prompts built as SGLang's bench_serving builds them, so an sglcpp run and an SGLang
// run with the same flags send the same traffic shape.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace sgl::bench {

// The tokenizer as the datasets need it (an adapter over sgl::text::Tokenizer in the tools;
// a fake in tests).
struct TokenCodec {
  std::function<std::vector<int32_t>(std::string_view)> encode;  // no special tokens added
  std::function<std::string(std::span<const int32_t>)> decode;
  int64_t vocab_size = 0;  // ids below this are ordinary tokens
  // The model's chat template around one user message (--apply-chat-template); identity if none.
  std::function<std::string(const std::string&)> apply_chat_template;
};

struct DatasetRow {
  std::string prompt;
  int64_t prompt_len = 0;
  int64_t output_len = 0;
};

struct RandomDatasetOptions {
  int num_prompts = 1000;
  int64_t input_len = 1024;
  int64_t output_len = 1024;
  double range_ratio = 0.0;
  uint64_t seed = 1;
};

// Lengths uniform in [max(int(len * ratio), 1), len].
std::vector<int64_t> draw_lengths(std::mt19937_64& rng, int n, int64_t len, double ratio);

// `random-ids`: ids (offset + i + j) mod vocab from a random offset per prompt, decoded to text and
// adjusted until re-encoding gives the drawn length; prompts that cannot be adjusted are skipped.
std::vector<DatasetRow> random_ids_dataset(const TokenCodec& codec, const RandomDatasetOptions& opt);

// `random`: first turns of ShareGPT conversations, tokenized and truncated/repeated to the drawn
// length. Error when the file is missing or malformed.
Result<std::vector<DatasetRow>> random_sharegpt_dataset(const TokenCodec& codec, const std::string& path,
                                                        const RandomDatasetOptions& opt);

// `sharegpt`: the conversations as they are (prompt = first turn, output_len = the reply's token
// count, or `fixed_output_len` when > 0).
Result<std::vector<DatasetRow>> sharegpt_dataset(const TokenCodec& codec, const std::string& path,
                                                 int num_prompts, int64_t fixed_output_len, uint64_t seed);

// Text whose encoding is exactly `target` tokens, starting from `ids`; nullopt when the text keeps
// re-tokenizing to another length.
std::optional<std::string> text_of_exact_length(const TokenCodec& codec, std::vector<int32_t> ids,
                                                int64_t target);

}  // namespace sgl::bench
