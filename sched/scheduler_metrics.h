// The per-request distributions the scheduler observes as things happen (SGLang's scheduler-side
// histograms), with SGLang's bucket bounds. The scheduler thread observes; /metrics reads them from
// any thread (the histograms are lock-free).
#pragma once

#include <array>
#include <cstddef>

#include "base/histogram.h"

namespace sgl::sched {

// SGLang's RequestStage values that sglcpp's scheduler goes through (per_stage_req_latency_seconds).
enum class ReqStage : size_t {
  kPrefillWaiting,  // submitted → first admitted into a prefill batch
  kChunkedPrefill,  // one chunk of a chunked prompt → the next chunk scheduled
  kPrefillForward,  // admitted (or its last chunk scheduled) → first output token
  kDecodeLoop,      // first output token → finished
  kCount,
};
const char* req_stage_name(ReqStage s);  // "prefill_waiting", "chunked_prefill", ...

struct SchedulerHistograms {
  SchedulerHistograms();
  AtomicHistogram queue_time;       // sglang:queue_time_seconds (submitted → first admitted)
  AtomicHistogram num_retractions;  // sglang:num_retractions (per finished request)
  std::array<AtomicHistogram, static_cast<size_t>(ReqStage::kCount)> stage;  // per_stage_req_latency
};

}  // namespace sgl::sched
