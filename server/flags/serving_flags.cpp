// HTTP, memory and scheduling, and streaming flags.
#include "server/flags/flag_table.h"

namespace sgl::server::flags {

void add_serving_flags(FlagTable& t) {
  using K = Kind;
  t.group("HTTP server");
  t.add("--host", &ServerArgs::host, K::kStr, "127.0.0.1", "Listen address");
  t.add("--port", &ServerArgs::port, K::kInt, "30000", "Listen port");
  t.add("--api-key", &ServerArgs::api_key, K::kStr, "None", "Require `Authorization: Bearer <key>`");
  t.add("--http-threads", &ServerArgs::http_threads, K::kInt, "0", "Reactor threads (0 = min(4, cores))");
  // --max-request-bytes: this server's earlier name, kept for existing launch lines.
  t.add("--max-payload-size,--max-request-bytes", &ServerArgs::max_payload_size, K::kInt, "33554432",
        "Largest request body in bytes (413 Payload Too Large above)");
  t.add("--max-queued-requests", &ServerArgs::max_queued_requests, K::kInt, "0",
        "Queue limit, 503 with Retry-After when full (0 = none)");
  t.add("--max-connections", &ServerArgs::max_connections, K::kInt, "4096",
        "sglcpp: open HTTP connections at most; at the cap the longest-idle one is closed to make room, "
        "and with none idle a new one gets 503 and is closed (clamped to the open-files limit)");
  t.add("--http-read-timeout", &ServerArgs::http_read_timeout, K::kFloat, "30.0",
        "sglcpp: seconds a request's headers and body may take once its first byte arrived (slow "
        "senders are closed)");
  t.add("--http-idle-timeout", &ServerArgs::http_idle_timeout, K::kFloat, "60.0",
        "sglcpp: seconds a connection may wait for its next request (keep-alive) or its first");
  t.add("--http-write-timeout", &ServerArgs::http_write_timeout, K::kFloat, "60.0",
        "sglcpp: seconds a response write may stall on a client that does not read; it is then dropped "
        "and its request aborted");
  t.add("--graceful-shutdown-timeout", &ServerArgs::graceful_shutdown_timeout, K::kFloat, "30.0",
        "Seconds running requests get after SIGTERM");
  t.add("--skip-server-warmup", &ServerArgs::skip_server_warmup, K::kTrue, "False",
        "No warm-up generate at start");

  t.group("Memory and scheduling");
  t.add("--mem-fraction-static", &ServerArgs::mem_fraction_static, K::kFloat, "0.88",
        "Fraction of memory for weights + KV cache");
  t.add("--cpu-kv-cache-gib", &ServerArgs::cpu_kv_cache_gib, K::kFloat, "4.0",
        "sglcpp, --device cpu: without --max-total-tokens the KV pool takes at most this many GiB "
        "(committed at start, within --mem-fraction-static of the available memory); 0: no cap");
  t.add("--max-total-tokens", &ServerArgs::max_total_tokens, K::kInt, "None",
        "KV pool size in tokens (overrides --mem-fraction-static)");
  t.add("--max-prefill-tokens", &ServerArgs::max_prefill_tokens, K::kInt, "16384",
        "Token budget of a prefill batch");
  t.add("--chunked-prefill-size", &ServerArgs::chunked_prefill_size, K::kInt, "4096",
        "Prefill chunk size (-1 disables chunking)");
  t.add("--page-size", &ServerArgs::page_size, K::kInt, "1", "Tokens per KV page");
  t.add("--max-running-requests", &ServerArgs::max_running_requests, K::kInt, "None",
        "Most requests decoding at once");
  t.add("--schedule-policy", &ServerArgs::schedule_policy, K::kStr, "fcfs",
        "Waiting-queue order (lof runs as fcfs)", "lpm|random|fcfs|dfs-weight|lof");
  t.add("--schedule-conservativeness", &ServerArgs::schedule_conservativeness, K::kFloat, "1.0",
        "Scale of the decode reservation when admitting");
  t.add("--enable-mixed-chunk", &ServerArgs::enable_mixed_chunk, K::kTrue, "False",
        "Mix prefill chunks with decode");
  t.add("--disable-radix-cache", &ServerArgs::disable_radix_cache, K::kTrue, "False", "No prefix cache");
  t.add("--disable-overlap-schedule", &ServerArgs::disable_overlap_schedule, K::kTrue, "False",
        "Run steps one at a time");
  t.add("--allow-auto-truncate", &ServerArgs::allow_auto_truncate, K::kTrue, "False",
        "Keep the last tokens of an over-long prompt (context length - max_new_tokens) instead of a 400");
  t.add("--sleep-on-idle", &ServerArgs::sleep_on_idle, K::kTrue, "False",
        "Always so: an idle scheduler thread blocks on its queue and uses no CPU");

  t.group("Streaming");
  t.add("--stream-interval", &ServerArgs::stream_interval, K::kInt, "1", "Stream every N tokens");
  t.add("--stream-output", &ServerArgs::stream_output, K::kTrue, "False",
        "SGLang-JAX's name of --incremental-streaming-output");
  t.add("--incremental-streaming-output", &ServerArgs::incremental_streaming_output, K::kTrue, "False",
        "/generate streams deltas instead of cumulative text");
}

}  // namespace sgl::server::flags
