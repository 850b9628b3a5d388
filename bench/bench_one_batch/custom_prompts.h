// bench_one_batch's text inputs: --prompt-filename (one prompt per line) for the latency sweep and
// the --correctness-test, which SGLang-JAX's bench_one_batch runs on its engine alone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/model_runner.h"
#include "server/text/tokenizer.h"

namespace sgl::bench {

// The file's lines; empty (with SGLang-JAX's message) when the file does not exist.
std::vector<std::string> read_prompt_file(const std::string& path);

// The batch of a sweep case from the file's prompts: the first `bs`, or padded with the last one
// (SGLang-JAX's messages when the counts differ).
std::vector<std::vector<int32_t>> align_to_batch(const std::vector<std::vector<int32_t>>& prompts, int bs);

// SGLang-JAX's correctness test: each prompt's first `cut_len` tokens prefilled, then the rest on
// top of that KV cache, then greedy decoding to `output_len` tokens; prints the input ids, the
// logits of both prefills and every prompt's text. Needs a fresh runner (it sizes the KV pool).
Status run_correctness_test(engine::ModelRunner& runner, const text::Tokenizer& tok,
                            std::vector<std::string> prompts, int cut_len, int output_len, int page_size);

}  // namespace sgl::bench
