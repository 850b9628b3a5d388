// A PEFT LoRA adapter in host memory: per decoder layer and projection, A [r, in] and B [out, r]
// in float32 with PEFT's scale, checked against the base model it will run on. The scheduler's
// slot table decides which adapters sit in the runner's slots (engine/models/decoder_lora.h).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/model_config.h"

namespace sgl::engine {

// The projections an adapter may target (PEFT's module names), in this order everywhere.
enum class LoraModule : int { kQ, kK, kV, kO, kGate, kUp, kDown };
constexpr int kNumLoraModules = 7;
std::string_view lora_module_name(LoraModule m);  // "q_proj" ...
// A set of modules as bits (1 << module).
using LoraModuleSet = uint32_t;
constexpr LoraModuleSet kAllLoraModules = (1u << kNumLoraModules) - 1;
// SGLang's --lora-target-modules names: the seven projections, qkv_proj, gate_up_proj, all.
Result<LoraModuleSet> parse_lora_target_modules(const std::vector<std::string>& names);
std::vector<std::string> lora_module_names(LoraModuleSet set);

struct LoraModuleWeights {
  int32_t rank = 0;      // 0: the adapter does not touch this module in this layer
  float scale = 0.0f;    // alpha / r, or alpha / √r with use_rslora (PEFT's definition)
  std::vector<float> a;  // [rank, in]
  std::vector<float> b;  // [out, rank]
};

struct LoraAdapter {
  std::string name;  // the registered name requests use
  std::string path;  // the directory it was read from
  // Identity: a fresh value for every load, so a name loaded again never meets KV (or a slot)
  // computed with the old weights.
  uint64_t uid = 0;
  bool pinned = false;  // keeps its slot once loaded (SGLang's pinned adapters)
  int32_t max_rank = 0;
  LoraModuleSet modules = 0;  // modules with weights in any layer
  float lora_alpha = 0.0f;
  bool use_rslora = false;
  std::vector<std::array<LoraModuleWeights, kNumLoraModules>> layers;  // one per base layer

  int64_t bytes() const;  // host memory of A and B
};

// The module's [out, in] shape on the whole base model (its dense MLP for gate/up/down).
struct LoraModuleShape {
  int64_t out = 0, in = 0;
};
LoraModuleShape lora_module_shape(const ModelConfig& base, LoraModule m);

// What the server allows (--max-lora-rank, --lora-target-modules); 0 / kAllLoraModules = no limit.
struct LoraLimits {
  int32_t max_rank = 0;
  LoraModuleSet target_modules = kAllLoraModules;
};

// Reads `dir` (adapter_config.json + adapter_model.safetensors, as PEFT's save_pretrained writes
// them) for `base`. Refuses, naming the cause: a non-LoRA PEFT type, DoRA, bias training,
// modules_to_save, fan_in_fan_out, targets other than the seven projections (embeddings, LM head,
// MoE experts, fused projections), shapes that do not match the base, a rank over the limit, or
// modules outside the allowed set. `uid` becomes the adapter's identity.
Result<std::shared_ptr<LoraAdapter>> load_peft_adapter(const std::string& dir, const ModelConfig& base,
                                                       const LoraLimits& limits, std::string name,
                                                       uint64_t uid);

// A fresh adapter identity (process-wide, never 0 — 0 is the base model).
uint64_t next_lora_uid();

// Deterministic random adapter of `rank` on every module in `modules` (benchmarks: the weights'
// values do not matter, their bytes and FLOPs do).
std::shared_ptr<LoraAdapter> dummy_lora_adapter(const ModelConfig& base, int32_t rank, LoraModuleSet modules,
                                                uint64_t seed, std::string name);

}  // namespace sgl::engine
