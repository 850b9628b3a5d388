// Benchmark prompts built as SGLang-JAX's bench_serving builds them, so an sglcpp run and an
// SGLang run with the same flags send the same traffic shape.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
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
  // The template over a whole conversation of (role, content) turns, generation prompt added;
  // empty when the tokenizer has no template.
  std::function<std::string(const std::vector<std::pair<std::string, std::string>>&)> render_chat;
  std::string bos_token;  // removed from templated prompts, as SGLang-JAX does
};

struct DatasetRow {
  std::string prompt;
  int64_t prompt_len = 0;
  int64_t output_len = 0;
  std::vector<int32_t> input_ids;       // --tokenize-prompt: the prompt as ids (prompt left empty)
  std::vector<std::string> next_turns;  // multi-turn rows: the later user turns
  std::string routing_key;              // --gsp-send-routing-key
};

struct RandomDatasetOptions {
  int num_prompts = 1000;
  int64_t input_len = 1024;
  int64_t output_len = 1024;
  double range_ratio = 0.0;
  uint64_t seed = 1;
  int max_retry = 10;       // --adjust-prompt-max-retry
  bool return_ids = false;  // --tokenize-prompt: rows carry input_ids instead of text
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

// `sharegpt` (a JSON list) and `custom` (JSON lines): the first two turns of each conversation as
// prompt and reply ("value" or "content"), shuffled.
struct ConversationDatasetOptions {
  int num_prompts = 1000;
  std::optional<int64_t> fixed_output_len;  // --sharegpt-output-len (else the reply's length)
  std::optional<int64_t> context_len;       // --sharegpt-context-len: longer pairs are dropped
  std::string prompt_suffix;                // --prompt-suffix, before a trailing "Assistant:"
  bool apply_chat_template = false;
  bool json_lines = false;  // `custom`
  uint64_t seed = 1;
};
Result<std::vector<DatasetRow>> conversation_dataset(const TokenCodec& codec, const std::string& path,
                                                     const ConversationDatasetOptions& opt);
// `sharegpt` with only a fixed output length (0: the reply's).
Result<std::vector<DatasetRow>> sharegpt_dataset(const TokenCodec& codec, const std::string& path,
                                                 int num_prompts, int64_t fixed_output_len, uint64_t seed);

// `generated-shared-prefix`: num_groups random system prompts, each shared by prompts_per_group
// random questions ("{system}\n\n{question}"), shuffled unless `ordered`.
struct SharedPrefixOptions {
  int num_groups = 64;
  int prompts_per_group = 16;
  int64_t system_prompt_len = 2048;
  int64_t question_len = 128;
  int64_t output_len = 256;
  double range_ratio = 1.0;
  bool fast_prepare = false;  // prompt_len 1 instead of encoding every prompt
  bool send_routing_key = false;
  int num_turns = 1;  // > 1: each row is a conversation of that many questions
  bool ordered = false;
  uint64_t seed = 1;
};
struct SharedPrefixStats {
  int64_t total_input_tokens = 0, total_output_tokens = 0;
  double avg_system_prompt_len = 0, avg_question_len = 0;
};
std::vector<DatasetRow> generated_shared_prefix_dataset(const TokenCodec& codec, const SharedPrefixOptions& opt,
                                                        SharedPrefixStats* stats = nullptr);

// Text whose encoding is exactly `target` tokens, starting from `ids` (SGLang-JAX's
// adjust_prompt_decode_to_target_len: decode, re-encode, truncate or pad with random ids, up to
// `max_retry` times); nullopt when it still re-tokenizes to another length.
struct ExactPrompt {
  std::string text;
  std::vector<int32_t> ids;  // the re-encoded ids (`target` of them)
};
std::optional<ExactPrompt> adjust_to_exact_length(const TokenCodec& codec, std::vector<int32_t> ids,
                                                  int64_t target, int max_retry, std::mt19937_64& rng);
std::optional<std::string> text_of_exact_length(const TokenCodec& codec, std::vector<int32_t> ids,
                                                int64_t target);

}  // namespace sgl::bench
