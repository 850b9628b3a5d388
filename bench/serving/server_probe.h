// What the benchmark clients ask the server besides generating: readiness, the served model, and
// the server's own figures for the result record.
#pragma once

#include <cstdint>
#include <string>

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

// The JSONL record bench_serving appends to --output-file (SGLang's keys).
std::string result_record_json(const Metrics& m, const std::string& backend, const std::string& dataset,
                               double request_rate, int max_concurrency, int64_t random_input_len,
                               int64_t random_output_len, double random_range_ratio,
                               const std::string& server_info_json);

}  // namespace sgl::bench
