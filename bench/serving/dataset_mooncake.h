// The mooncake dataset: a Mooncake trace (JSON lines of {timestamp ms, hash_ids, output_length})
// replayed at its own timestamps, each session's rounds sent as one burst, as SGLang-JAX does.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "bench/serving/dataset.h"

namespace sgl::bench {

struct MooncakeOptions {
  int num_prompts = 1000;        // sessions: the first lines of the file
  double slowdown_factor = 1.0;  // --mooncake-slowdown-factor
  int num_rounds = 1;            // --mooncake-num-rounds
};

struct MooncakeTrace {
  std::vector<DatasetRow> rows;  // in arrival order, a session's rounds together
  std::vector<double> arrival_s;  // per row: seconds after the start
  DatasetRow warmup;              // SGLang-JAX's warmup request of the file's first session
};

// `path` is --dataset-path, or /tmp/<workload>_trace.jsonl where SGLang-JAX caches its download.
Result<MooncakeTrace> mooncake_dataset(const TokenCodec& codec, const std::string& path,
                                       const MooncakeOptions& opt);

}  // namespace sgl::bench
