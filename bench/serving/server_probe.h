// What the benchmark clients ask the server besides generating: readiness, the served model, and
// the server's own figures for the result record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "bench/serving/metrics.h"
#include "bench/serving/transport.h"

namespace sgl::bench {

struct ServerModel {
  std::string id;          // /v1/models data[0].id
  std::string model_path;  // /get_model_info model_path ("" when the server has no such route)
};

// Polls GET /v1/models until it answers 200 (or the timeout passes).
Result<ServerModel> wait_for_server(const Endpoint& ep, double timeout_s);

// GET /get_server_info body ("{}" when unavailable).
std::string fetch_server_info(const Endpoint& ep);
// internal_states[0].avg_spec_accept_length when speculative decoding ran; -1 otherwise.
double accept_length_of(const std::string& server_info_json);
// internal_states[0].last_gen_throughput; -1 when absent.
double last_gen_throughput_of(const std::string& server_info_json);

// The run's parameters as SGLang-JAX's record names them.
struct RecordArgs {
  std::optional<std::string> tag;  // --tag
  std::string backend, dataset_name;
  double request_rate = 0;  // inf allowed
  bool trace = false;       // --use-trace-timestamps: request_rate "trace"
  int max_concurrency = 0;  // 0: null
  std::optional<int64_t> sharegpt_output_len;
  int64_t random_input_len = 0, random_output_len = 0;
  double random_range_ratio = 0;
};

// The JSONL record bench_serving appends to its output file (SGLang-JAX's keys, in its order);
// `details` (--output-details) adds the per-request lists: input_lens, output_lens, cached_tokens,
// ttfts, itls, generated_texts, errors.
std::string result_record_json(const Metrics& m, const RecordArgs& args, const std::string& server_info_json,
                               const std::vector<RequestOutput>* details = nullptr);

}  // namespace sgl::bench
