// A checkpoint's quantization as config.json's `quantization_config` describes it (SGLang detects
// the method there), and the --quantization flag checked against it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace sgl::engine {

struct QuantConfig {
  enum class Method { kNone, kFp8, kAwq, kGptq };
  Method method = Method::kNone;
  std::string name;        // quant_method as written ("fp8", "awq", "gptq", "compressed-tensors")
  int bits = 0;            // awq / gptq: 4 or 8
  int64_t group_size = 0;  // awq / gptq: inputs per scale (-1 in the config: one group)
  bool sym = true;         // gptq
  bool desc_act = false;   // gptq: groups over a permutation of the inputs (g_idx)
  int64_t block_n = 128, block_k = 128;  // fp8: weight_block_size
  std::vector<std::string> modules_to_not_convert;
  bool quantized() const { return method != Method::kNone; }
};

// `quantization_config` (a JSON object's text; empty: none). Unknown methods and schemes are
// refused with a message naming them.
Result<QuantConfig> parse_quant_config(std::string_view json_text, const std::string& source);

// The checkpoint's method against --quantization ("" = none given): SGLang's error when they
// disagree (an unquantized checkpoint: see online_quantization).
Status check_quantization_flag(const QuantConfig& checkpoint, const std::string& flag);

}  // namespace sgl::engine
