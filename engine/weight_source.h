// Where a model's weights come from (a checkpoint directory or --load-format dummy) and the online
// quantization applied after loading: enough to fill freshly allocated weights again, which is how
// /resume_memory_occupation brings back weights that /release_memory_occupation freed.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "engine/quant/online_quant.h"

namespace sgl::engine {

class DecoderModel;

struct WeightSource {
  bool dummy = false;  // --load-format dummy: deterministic random weights from `seed`
  std::string path;    // the checkpoint directory (safetensors)
  uint64_t seed = 0;
  OnlineQuant online = OnlineQuant::kNone;
  std::string quantization;  // the --quantization flag, for the log line
};

// Allocates every weight of `model` and fills it from `source` (then quantizes online). With
// `log_progress` the checkpoint's load progress is logged (one rank of a tensor-parallel group).
Status fill_weights(DecoderModel& model, const WeightSource& source, bool log_progress);

}  // namespace sgl::engine
