// A model's size from its config alone, without allocating it: the server plans memory (and the
// tests shape-check the 480B preset) before any weight exists.
#pragma once

#include <cstdint>

#include "engine/dtype.h"
#include "engine/model_config.h"
#include "engine/models/decoder.h"

namespace sgl::engine {

// Parameters of the HF checkpoint (every tensor it holds, norms and biases included; a tied LM
// head counted once) — the figure model cards publish.
int64_t parameter_count(const ModelConfig& config, const FamilyOptions& options);

// Bytes DecoderModel::allocate() makes resident for the GEMM weights and embeddings at `compute`
// (equals DecoderModel::weight_bytes() after allocate()).
int64_t planned_weight_bytes(const ModelConfig& config, const FamilyOptions& options, DType compute);

}  // namespace sgl::engine
