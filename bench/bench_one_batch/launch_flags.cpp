#include "launch_flags.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "server/dist_node.h"

namespace sgl::bench {

engine::EngineConfig LaunchFlags::engine_config() const { return server::engine_config_from_args(args_); }

std::vector<std::string> LaunchFlags::warnings() const {
  std::vector<std::string> out = table_.warnings();
  // What the engine-only benchmark reads: engine_config_from_args's fields, the KV page size, the
  // LoRA modules of --num-loras, and the tokenizer of --prompt-filename / --correctness-test.
  static const std::set<std::string> used = {"config",
                                             "model_path",
                                             "tokenizer_path",
                                             "load_format",
                                             "dtype",
                                             "device",
                                             "random_seed",
                                             "context_length",
                                             "model_layer_nums",
                                             "tp_size",
                                             "ep_size",
                                             "nnodes",
                                             "node_rank",
                                             "dist_init_addr",
                                             "dist_timeout",
                                             "cuda_graph_max_bs",
                                             "disable_cuda_graph",
                                             "quantization",
                                             "quantization_config_path",
                                             "json_model_override_args",
                                             "enable_nan_detection",
                                             "kv_cache_dtype",
                                             "quantization_param_path",
                                             "page_size",
                                             "lora_target_modules",
                                             "num_threads"};
  std::vector<std::string> unused;
  for (const auto& f : table_.rows())
    if (f.option && f.option->count() > 0 && f.status == server::flags::Status::kHonoured &&
        !used.contains(f.field))
      unused.push_back(f.names.front());
  if (!unused.empty())
    out.push_back(
        fmt::format("{} {} no effect in bench_one_batch: it runs the engine alone, without the server "
                    "and scheduler {} for",
                    fmt::join(unused, ", "), unused.size() == 1 ? "has" : "have",
                    unused.size() == 1 ? "that flag is" : "those flags are"));
  return out;
}

}  // namespace sgl::bench
