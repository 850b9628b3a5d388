#include "sched/scheduler_metrics.h"

namespace sgl::sched {

const char* req_stage_name(ReqStage s) {
  switch (s) {
    case ReqStage::kPrefillWaiting:
      return "prefill_waiting";
    case ReqStage::kChunkedPrefill:
      return "chunked_prefill";
    case ReqStage::kPrefillForward:
      return "prefill_forward";
    case ReqStage::kDecodeLoop:
      return "decode_loop";
    case ReqStage::kCount:
      break;
  }
  return "unknown";
}

// Bounds from SGLang's metrics/collector.py (SchedulerMetricsCollector, TokenizerMetricsCollector).
SchedulerHistograms::SchedulerHistograms()
    : queue_time({0.0, 0.1, 0.2, 0.5, 1,    2,    3,    4,    5,    10,   15,   20,
                  30,  40,  50,  60,  70,   80,   90,   100,  200,  300,  400,  500,
                  600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000}),
      num_retractions({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 75, 100}) {
  // Covers 1 ms to ~1191 s.
  for (auto& h : stage) h.set_bounds(exponential_buckets(0.001, 1.62, 30));
}

}  // namespace sgl::sched
