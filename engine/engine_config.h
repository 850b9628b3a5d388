// How to build a model runner: what the server's launch flags say about the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "engine/model_runner.h"

namespace sgl::engine {

struct EngineConfig {
  std::string model_path;            // HF model dir, or a preset name/path under conf/models
  std::string load_format = "auto";  // auto | safetensors | dummy
  std::string dtype = "auto";        // auto | float32 | bfloat16 | float16 (compute dtype)
  std::string device = "cpu";        // cpu | cuda
  uint64_t random_seed = 0;          // dummy weights and unseeded sampling
  int64_t context_length = 0;        // 0 = from config.json
  int num_threads = 0;               // 0 = all cores (oneTBB)
};

// Resolves the architecture through the model registry and loads the weights.
Result<std::unique_ptr<ModelRunner>> create_model_runner(const EngineConfig& config);

}  // namespace sgl::engine
