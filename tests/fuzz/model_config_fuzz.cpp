// A malicious config.json (engine/model_config.h): arbitrary JSON through the common keys, every
// family's own reader, quantization_config, the registry's family options and the size figures the
// server plans memory with. The answer is a config or a load error — never an exception, a crash,
// an overflowing size or a loop the file's numbers can stretch without bound.
#include "engine/model_config.h"
#include "engine/models/model_size.h"
#include "engine/models/registry.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = sgl::engine::parse_model_config(text, "config.json");
  if (!config.ok()) {
    FUZZ_CHECK(config.error().code == sgl::ErrorCode::kCorrupt ||
                   config.error().code == sgl::ErrorCode::kUnsupported,
               config.error().message);
    return 0;
  }
  const sgl::engine::ModelConfig& c = *config;
  FUZZ_CHECK(c.vocab_size > 0 && c.hidden_size > 0 && c.num_layers > 0 && c.num_heads > 0 &&
                 c.num_kv_heads > 0 && c.head_dim > 0,
             "sizes");
  auto options = sgl::engine::family_options(c);
  if (!options.ok()) return 0;
  const int64_t params = sgl::engine::parameter_count(c, *options);
  const int64_t bytes = sgl::engine::planned_weight_bytes(c, *options, c.dtype);
  FUZZ_CHECK(params > 0 && bytes > 0,
             std::to_string(params) + " parameters, " + std::to_string(bytes) + " bytes");
  return 0;
}
