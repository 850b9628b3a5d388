// Per-request statistics of a forward's intermediate tensors (SGLang-JAX's precision tracer:
// /start_trace). When ForwardBatch::trace_precision is set, the CPU model records, for each
// segment (request) of the batch, the rows it owns of: the input layernorm's output, the attention
// block's output and the MLP's output of every layer, and the final norm's output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgl::engine {

struct TensorStats {
  int32_t segment = 0;    // the batch segment (request) the rows belong to
  const char* name = "";  // "input_layernorm_output", "self_attn_output", "mlp_output", "transformer_output"
  const char* module = "";  // "INPUT_LAYERNORM", "SELF_ATTN", "MLP", "TRANSFORMER"
  int32_t layer = -1;       // -1: the whole model
  int64_t rows = 0, cols = 0;
  // Over the finite values (NaN and ±Inf are reported by the flags instead of poisoning them).
  double min = 0, max = 0, mean = 0, std = 0;  // std: population (ddof 0), 0 for one value
  bool has_nan = false, has_inf = false;
};

// Appends one TensorStats per segment of `x` ([tokens, cols] fp32, the segments' tokens in
// order, `seg_tokens[i]` of them for segment i).
void append_segment_stats(const float* x, int64_t cols, const std::vector<int64_t>& seg_tokens,
                          const char* name, const char* module, int32_t layer, std::vector<TensorStats>& out);

}  // namespace sgl::engine
