// The findings about devices: the CPU's extensions against this build's, --tp-size against the
// CPUs or GPUs present, --device cuda against the driver and GPUs, and the tokenizer every start
// loads. Pure functions of the flags and the probes.
#pragma once

#include <optional>
#include <vector>

#include "engine/dtype.h"
#include "server/args.h"
#include "server/check_env/check_env.h"
#include "server/check_env/report.h"

namespace sgl::server::check_env {

// `compute`: the model's compute dtype when --model-path was estimated (the bf16 notes need it).
std::vector<Finding> check_devices(const ServerArgs& args, const Probes& probes,
                                   std::optional<engine::DType> compute);

// server/text's Tokenizer::from_dir needs tokenizer.json, qwen.tiktoken or tokenizer.tok.json.
std::optional<Finding> check_tokenizer(const ServerArgs& args);

}  // namespace sgl::server::check_env
