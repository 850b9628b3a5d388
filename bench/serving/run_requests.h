// Sends a list of benchmark requests with SGLang's arrival process (Poisson at --request-rate,
// all at once for inf) under a concurrency cap, timing every streamed token.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "bench/serving/backends.h"
#include "bench/serving/metrics.h"
#include "bench/serving/transport.h"

namespace sgl::bench {

struct RunOptions {
  Api api = Api::kNativeGenerate;
  double request_rate = 0;  // <= 0 or inf: all at once
  // When set (trace replay): request i is sent `arrival_s[i]` seconds after the start instead of by
  // the Poisson process; requests must be in arrival order.
  std::vector<double> arrival_s;
  int max_concurrency = 0;  // 0: unbounded
  uint64_t seed = 1;
  bool progress = true;                            // progress bar on stderr
  const std::atomic<bool>* interrupted = nullptr;  // Ctrl-C: stop sending, keep what finished
  bool print_requests = false;                     // --print-requests: a line as each starts and ends
};

// Sends one request and measures it. `spec.stream` false → one timing point at the end.
RequestOutput send_one(const Endpoint& ep, Api api, const RequestSpec& spec, int64_t prompt_len,
                       double bench_start);

// A multi-turn spec's turns in order (one output per turn); a single-turn spec's one output.
std::vector<RequestOutput> send_conversation(const Endpoint& ep, Api api, const RequestSpec& spec,
                                             int64_t prompt_len, double bench_start, bool print_requests);

struct RunResult {
  // In request order, a multi-turn request's turns one after another; unsent ones have
  // success=false and error "not sent".
  std::vector<RequestOutput> outputs;
  double duration = 0;
};
RunResult run_requests(const Endpoint& ep, const std::vector<RequestSpec>& specs,
                       const std::vector<int64_t>& prompt_lens, const RunOptions& opt);

// Seconds on a monotonic clock.
double now_seconds();

}  // namespace sgl::bench
