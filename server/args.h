// sglcpp-server's launch flags: the same names, defaults and meaning as
// `python -m sgl_jax.launch_server`, so users' launch lines work unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace sgl::server {

struct ServerArgs {
  // Model and tokenizer.
  std::string model_path;
  std::string tokenizer_path;           // defaults to model_path
  std::string tokenizer_mode = "auto";  // auto | slow: both read tokenizer.json
  bool trust_remote_code = false;
  std::string dtype = "auto";        // auto | bfloat16 | float16 | float32
  std::string load_format = "auto";  // auto | safetensors | dummy
  std::optional<int64_t> context_length;
  std::optional<int> model_layer_nums;  // only the first N decoder layers (SGLang-JAX's flag)
  std::string served_model_name;        // defaults to model_path
  std::string chat_template;  // a file, a built-in name (chatml), or a name in tokenizer_config.json
  std::string download_dir;
  int64_t random_seed = 42;
  bool skip_tokenizer_init = false;
  bool is_embedding = false;              // an embedding model: /get_model_info says is_generation false
  std::string preferred_sampling_params;  // raw JSON object or ""
  // Quantization: passed to the engine, which refuses what it cannot run.
  std::string quantization;
  std::string quantization_param_path;
  std::string quantization_config_path;
  std::string json_model_override_args = "{}";
  std::string config;  // --config FILE.yaml: its flags were merged into the command line
  bool enable_nan_detection = false;
  std::string kv_cache_dtype = "auto";

  // HTTP.
  std::string host = "127.0.0.1";
  int port = 30000;
  std::string api_key;
  int http_threads = 0;                     // 0 = min(4, cores)
  int num_threads = 0;                      // the CPU kernels' threads (0 = one per usable core)
  int64_t max_payload_size = 32 << 20;      // body limit in bytes (413 above it); SGLang's name
  int64_t max_queued_requests = 0;          // 0 = unlimited; else 503 + Retry-After when full
  double graceful_shutdown_timeout = 30.0;  // seconds running streams get on SIGTERM
  // sglcpp's own (SGLang leaves them to uvicorn): connection cap and socket timeouts, seconds.
  int64_t max_connections = 4096;    // at the cap the longest-idle connection makes room, else 503
  double http_read_timeout = 30.0;   // a request's headers and body, once its first byte came
  double http_idle_timeout = 60.0;   // keep-alive wait for the next request (and for the first)
  double http_write_timeout = 60.0;  // a write a client does not read: dropped, request aborted

  // Memory and scheduling.
  double mem_fraction_static = 0.88;
  // sglcpp, --device cpu: without --max-total-tokens the KV pool is at most this many GiB (it is
  // committed at start; vLLM's CPU backend defaults to 4 GiB likewise). 0: no cap.
  double cpu_kv_cache_gib = 4.0;
  std::optional<int64_t> max_total_tokens;
  int64_t max_prefill_tokens = 16384;
  int64_t chunked_prefill_size = 4096;  // -1 disables chunking
  int page_size = 1;
  std::optional<int64_t> max_running_requests;
  std::string schedule_policy = "fcfs";  // fcfs | lpm | random | dfs-weight
  double schedule_conservativeness = 1.0;
  bool enable_mixed_chunk = false;
  bool disable_radix_cache = false;
  bool disable_overlap_schedule = false;
  int stream_interval = 1;
  bool incremental_streaming_output = false;
  bool stream_output = false;  // SGLang-JAX's name of incremental_streaming_output
  bool skip_server_warmup = false;
  bool allow_auto_truncate = false;

  // Parallelism and kernels.
  std::string device = "cpu";  // cpu | cuda (tpu is refused)
  int tp_size = 1;
  int dp_size = 1;                          // data-parallel replicas (sched/data_parallel.h)
  std::string dp_schedule_policy = "None";  // round_robin|min_running_queue|cache_aware|shape_aware
  int ep_size = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string dist_init_addr;
  int dist_timeout = 60;                 // s: rendezvous and per-collective timeout (a dead or hung rank)
  std::string attention_backend = "fa";  // fa | native
  int cuda_graph_max_bs = 0;             // --device cuda: largest decode batch replayed as a graph (0: 256)
  bool disable_cuda_graph = false;
  std::vector<int64_t> jax_precompile_prefill_token_paddings;  // accepted, ignored (no XLA here)
  std::string moe_backend = "epmoe";

  // Speculative decoding.
  std::string speculative_algorithm;  // "" | EAGLE | EAGLE3
  std::string speculative_draft_model_path;
  std::optional<int> speculative_num_steps;
  std::optional<int> speculative_eagle_topk;
  std::optional<int> speculative_num_draft_tokens;

  // Multi-LoRA (SGLang's flags and defaults).
  bool enable_lora = false;                      // implied by --lora-paths
  std::vector<std::string> lora_paths;           // PATH | NAME=PATH | {"lora_name","lora_path","pinned"}
  int max_loras_per_batch = 8;                   // adapter slots; the base model counts as one
  std::optional<int> max_lora_rank;              // default: the largest rank of --lora-paths
  std::vector<std::string> lora_target_modules;  // default: all seven projections
  std::optional<int> max_loaded_loras;           // host-resident adapters (default: no limit)
  std::string lora_eviction_policy = "lru";      // lru | fifo
  std::string lora_backend = "csgmv";            // accepted; sglcpp runs its own kernels
  int max_lora_chunk_size = 16;                  // accepted; no effect

  // OpenAI API.
  std::string tool_call_parser;
  std::string reasoning_parser;
  bool enable_cache_report = false;
  bool enable_precision_tracer = false;        // /start_trace (sched/precision_tracer.h)
  bool enable_return_routed_experts = false;   // return_routed_experts (sched/routed_experts.h)
  bool enable_deterministic_sampling = false;  // always so: the kernels are batch-invariant
  // Hidden test hook: every request's output tokens are replaced by this script (token ids
  // "1,2,3" or text to encode); see engine/testing/scripted_runner.h.
  std::string test_scripted_output;
  // Hidden benchmark hook: the model's forwards are replaced by engine::ZeroCostRunner, so
  // bench_http measures the server around the model.
  bool test_zero_cost_runner = false;
  int64_t test_stall_step = 0;  // the Nth forward hangs (watchdog tests); 0: none

  // Logging and metrics.
  std::string log_level = "info";
  bool log_requests = false;
  int decode_log_interval = 40;
  bool enable_metrics = false;
  std::string log_level_http;
  int log_requests_level = 0;  // 0: metadata; 1: + sampling params; 2: + partial text; 3: all
  std::vector<double> bucket_time_to_first_token;  // histogram bucket bounds (s); empty: defaults
  std::vector<double> bucket_inter_token_latency;
  std::vector<double> bucket_e2e_request_latency;
  std::string log_requests_format = "text";        // text | json
  std::vector<std::string> prompt_tokens_buckets;  // rule: default | tse m b n | custom b...
  std::vector<std::string> generation_tokens_buckets;
  double watchdog_timeout = 300;
  std::string crash_dump_folder;
  bool sleep_on_idle = false;
  bool show_time_cost = false;

  // --check-env (text) / --check-env-json: print the build, the machine and its devices, judge the
  // other flags against them, and exit instead of serving (server/check_env/).
  bool check_env = false;
  bool check_env_json = false;

  // Every other flag of the table (server/flags/), as given: field → values. Only flags that were
  // passed are present; /get_server_info shows the defaults of the rest.
  std::map<std::string, std::vector<std::string>> passthrough;
};

// Which optional features this binary has; flags that need a missing one are refused at start.
struct BuiltFeatures {
  bool speculative = false;
  bool cuda = false;
  bool multi_rank = false;  // tp/ep > 1, nnodes > 1
};

struct ParsedArgs {
  ServerArgs args;
  bool exit_now = false;  // --help / --version / a parse error: print `output`, exit with `exit_code`
  int exit_code = 0;
  std::string output;
  std::vector<std::string> notes;     // one log line per accepted-but-ignored flag
  std::vector<std::string> refusals;  // one line per flag or value naming a capability sglcpp lacks
};

// Parses argv with CLI11 (help grouped like SGLang's), after expanding argparse-style unique
// prefixes (--mem-frac → --mem-fraction-static) and merging --config FILE.yaml under the command
// line. Never throws; never exits.
ParsedArgs parse_server_args(int argc, const char* const* argv);

// Checks values and that every requested feature is built; the message names the flag.
Status validate_server_args(const ServerArgs& args, const BuiltFeatures& built = {});

// Every arg by its snake_case long name, as a JSON object (for /get_server_info).
std::string server_args_to_json(const ServerArgs& args);

}  // namespace sgl::server
