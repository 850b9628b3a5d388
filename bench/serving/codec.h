// The project's tokenizer as the benchmark datasets see it.
#pragma once

#include <string>

#include "base/result.h"
#include "bench/serving/dataset.h"

namespace sgl::bench {

// Loads tokenizer.json (+ tokenizer_config.json for the chat template) from a model directory.
Result<TokenCodec> load_codec(const std::string& dir);

bool is_directory(const std::string& path);

}  // namespace sgl::bench
