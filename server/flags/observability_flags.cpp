// Logging, metrics and fault-handling flags, and the hidden test hooks.
#include "server/flags/flag_table.h"

namespace sgl::server::flags {

void add_observability_flags(FlagTable& t) {
  using K = Kind;
  t.group("Logging and metrics");
  t.add("--log-level", &ServerArgs::log_level, K::kStr, "info", "Server log level",
        "trace|debug|info|warning|warn|error|critical");
  t.add("--log-level-http", &ServerArgs::log_level_http, K::kStr, "None",
        "Level of the per-request HTTP access lines (default: --log-level); above info hides them",
        "trace|debug|info|warning|warn|error|critical");
  t.add("--log-requests", &ServerArgs::log_requests, K::kTrue, "False", "Log request bodies");
  t.add("--log-requests-level", &ServerArgs::log_requests_level, K::kInt, "0",
        "How much of a logged request: 0 metadata, 1 + sampling params, 2 + partial text, 3 all", "0|1|2|3");
  t.add("--log-requests-format", &ServerArgs::log_requests_format, K::kStr, "text",
        "Request log lines as text, or as one JSON object per request received and finished", "text|json");
  t.add("--decode-log-interval", &ServerArgs::decode_log_interval, K::kInt, "40",
        "Decode steps between log lines");
  t.add("--enable-metrics", &ServerArgs::enable_metrics, K::kTrue, "False",
        "Serve Prometheus /metrics (404 without it, as SGLang)");
  t.add("--bucket-time-to-first-token", &ServerArgs::bucket_time_to_first_token, K::kFloatList, "None",
        "Bucket bounds (s) of the time-to-first-token histogram");
  t.add("--bucket-inter-token-latency", &ServerArgs::bucket_inter_token_latency, K::kFloatList, "None",
        "Bucket bounds (s) of the inter-token latency histogram");
  t.add("--bucket-e2e-request-latency", &ServerArgs::bucket_e2e_request_latency, K::kFloatList, "None",
        "Bucket bounds (s) of the end-to-end request latency histogram");
  t.add("--prompt-tokens-buckets", &ServerArgs::prompt_tokens_buckets, K::kStrList, "None",
        "Bounds of sglang:prompt_tokens_histogram: default | tse <middle> <base> <count> | custom <b1> ...");
  t.add("--generation-tokens-buckets", &ServerArgs::generation_tokens_buckets, K::kStrList, "None",
        "Bounds of sglang:generation_tokens_histogram (rules as --prompt-tokens-buckets)");
  t.add("--enable-precision-tracer", &ServerArgs::enable_precision_tracer, K::kTrue, "False",
        "Serve /start_trace, /stop_trace, /trace_status: per-request statistics of every layer's tensors "
        "(JSONL; slows the forwards it traces). Disables chunked prefill, as SGLang-JAX");
  t.add("--enable-return-routed-experts", &ServerArgs::enable_return_routed_experts, K::kTrue, "False",
        "Let requests ask for return_routed_experts: every token's top-k expert ids per layer (MoE "
        "models; kept per KV slot: num_layers x top-k int32 per token of the pool)");
  t.add("--show-time-cost", &ServerArgs::show_time_cost, K::kTrue, "False",
        "Log each step's time cost: building the batch, waiting for the device, the forward, and "
        "processing its output");
  t.add("--watchdog-timeout", &ServerArgs::watchdog_timeout, K::kFloat, "300",
        "A forward running longer than this (s) is a hang: its state is logged and the server exits 1");
  t.add("--crash-dump-folder", &ServerArgs::crash_dump_folder, K::kStr, "None",
        "Write the requests of the last 5 min and those running (JSON) here when a hung step or SIGTERM "
        "stops the server");

  // Hidden test hooks: an empty group keeps them out of --help, /get_server_info and the docs.
  t.group("");
  t.add("--test-scripted-output", &ServerArgs::test_scripted_output, K::kStr, "None",
        "Force every output to this script (token ids 1,2,3 or text)");
  t.add("--test-zero-cost-runner", &ServerArgs::test_zero_cost_runner, K::kTrue, "False",
        "Replace the forwards by a no-op runner");
  t.add("--test-stall-step", &ServerArgs::test_stall_step, K::kInt, "0", "The Nth forward hangs for an hour");
}

}  // namespace sgl::server::flags
