#include "server/args.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server/parsers/reasoning_parser.h"
#include "server/parsers/tool_call_parser.h"
#include "server/protocol/lora_specs.h"

namespace sgl::server {
namespace {

// CLI11 has no std::optional binding in 2.1: store through a callback.
template <class T>
CLI::Option* add_optional(CLI::App& app, const std::string& name, std::optional<T>& target,
                          const std::string& help) {
  return app.add_option_function<T>(
      name, [&target](const T& v) { target = v; }, help);
}

void add_model_flags(CLI::App& app, ServerArgs& a) {
  const char* g = "Model and tokenizer";
  app.add_option("--model-path,--model", a.model_path, "HF model directory or a conf/models preset")
      ->required()
      ->group(g);
  app.add_option("--tokenizer-path", a.tokenizer_path, "Tokenizer directory (default: --model-path)")
      ->group(g);
  app.add_flag("--trust-remote-code", a.trust_remote_code, "Accepted for compatibility (no remote code runs)")
      ->group(g);
  app.add_option("--dtype", a.dtype, "Weights and compute dtype")
      ->check(CLI::IsMember({"auto", "bfloat16", "float16", "float32", "half", "float"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--load-format", a.load_format, "auto | safetensors | dummy (seeded random weights)")
      ->check(CLI::IsMember({"auto", "safetensors", "dummy"}))
      ->capture_default_str()
      ->group(g);
  add_optional(app, "--context-length", a.context_length, "Model context length (default: config.json)")
      ->group(g);
  add_optional(app, "--model-layer-nums", a.model_layer_nums,
               "Load and run only the first N decoder layers (a big model's shape in less memory)")
      ->group(g);
  app.add_option("--served-model-name", a.served_model_name, "Name in /v1/models (default: --model-path)")
      ->group(g);
  app.add_option("--chat-template", a.chat_template,
                 "Chat template file, built-in name (chatml) or named template")
      ->group(g);
  app.add_option("--download-dir", a.download_dir, "Accepted for compatibility (nothing is downloaded)")
      ->group(g);
  app.add_option("--random-seed", a.random_seed, "Seed for dummy weights and unseeded sampling")
      ->capture_default_str()
      ->group(g);
  app.add_flag("--skip-tokenizer-init", a.skip_tokenizer_init, "Take and return token ids only")->group(g);
  app.add_flag("--is-embedding", a.is_embedding,
               "Serve an embedding model (last-token pooling on /v1/embeddings and /encode)")
      ->group(g);
  app.add_option("--preferred-sampling-params", a.preferred_sampling_params,
                 "JSON object of default sampling params")
      ->group(g);
}

void add_http_flags(CLI::App& app, ServerArgs& a) {
  const char* g = "HTTP server";
  app.add_option("--host", a.host, "Listen address")->capture_default_str()->group(g);
  app.add_option("--port", a.port, "Listen port")->capture_default_str()->group(g);
  app.add_option("--api-key", a.api_key, "Require `Authorization: Bearer <key>`")->group(g);
  app.add_option("--http-threads", a.http_threads, "Reactor threads (0 = from cores)")->group(g);
  // --max-request-bytes: this server's earlier name, kept for existing launch lines.
  app.add_option("--max-payload-size,--max-request-bytes", a.max_payload_size,
                 "Largest request body in bytes (413 Payload Too Large above)")
      ->capture_default_str()
      ->group(g);
  app.add_option("--max-queued-requests", a.max_queued_requests, "Queue limit, 503 when full (0 = none)")
      ->group(g);
  app.add_option("--graceful-shutdown-timeout", a.graceful_shutdown_timeout,
                 "Seconds running requests get after SIGTERM")
      ->capture_default_str()
      ->group(g);
}

void add_scheduling_flags(CLI::App& app, ServerArgs& a) {
  const char* g = "Memory and scheduling";
  app.add_option("--mem-fraction-static", a.mem_fraction_static, "Fraction of memory for weights + KV cache")
      ->capture_default_str()
      ->group(g);
  add_optional(app, "--max-total-tokens", a.max_total_tokens,
               "KV pool size in tokens (overrides mem fraction)")
      ->group(g);
  app.add_option("--max-prefill-tokens", a.max_prefill_tokens, "Token budget of a prefill batch")
      ->capture_default_str()
      ->group(g);
  app.add_option("--chunked-prefill-size", a.chunked_prefill_size, "Prefill chunk size (-1 disables)")
      ->capture_default_str()
      ->group(g);
  app.add_option("--page-size", a.page_size, "Tokens per KV page")->capture_default_str()->group(g);
  add_optional(app, "--max-running-requests", a.max_running_requests, "Most requests decoding at once")
      ->group(g);
  app.add_option("--schedule-policy", a.schedule_policy, "Waiting-queue order")
      ->check(CLI::IsMember({"fcfs", "lpm", "random", "dfs-weight", "lof"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--schedule-conservativeness", a.schedule_conservativeness,
                 "Scale of the decode reservation when admitting")
      ->capture_default_str()
      ->group(g);
  app.add_flag("--enable-mixed-chunk", a.enable_mixed_chunk, "Mix prefill chunks with decode")->group(g);
  app.add_flag("--disable-radix-cache", a.disable_radix_cache, "No prefix cache")->group(g);
  app.add_flag("--disable-overlap-schedule", a.disable_overlap_schedule, "Run steps one at a time")->group(g);
  app.add_option("--stream-interval", a.stream_interval, "Stream every N tokens")
      ->capture_default_str()
      ->group(g);
  app.add_flag("--incremental-streaming-output", a.incremental_streaming_output,
               "/generate streams deltas instead of cumulative text")
      ->group(g);
  app.add_flag("--skip-server-warmup", a.skip_server_warmup, "No warm-up generate at start")->group(g);
  app.add_flag("--allow-auto-truncate", a.allow_auto_truncate, "Truncate over-long prompts")->group(g);
}

void add_parallel_flags(CLI::App& app, ServerArgs& a) {
  const char* g = "Device and parallelism";
  app.add_option("--device", a.device, "cpu | cuda")->capture_default_str()->group(g);
  app.add_option("--tp-size,--tensor-parallel-size", a.tp_size, "Tensor-parallel ranks")
      ->capture_default_str()
      ->group(g);
  app.add_option("--ep-size,--expert-parallel-size", a.ep_size, "Expert-parallel ranks")
      ->capture_default_str()
      ->group(g);
  app.add_option("--nnodes", a.nnodes, "Nodes")->capture_default_str()->group(g);
  app.add_option("--node-rank", a.node_rank, "This node's rank")->capture_default_str()->group(g);
  app.add_option("--dist-init-addr", a.dist_init_addr, "host:port of node 0's rendezvous")->group(g);
  app.add_option("--dist-timeout", a.dist_timeout, "Seconds to wait for other nodes / a collective")
      ->capture_default_str()
      ->group(g);
  app.add_option("--attention-backend", a.attention_backend, "fa | native")
      ->check(CLI::IsMember({"fa", "native"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--cuda-graph-max-bs", a.cuda_graph_max_bs,
                 "--device cuda: decode batches up to this size replay CUDA graphs (0: 256)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(g);
  app.add_flag("--disable-cuda-graph", a.disable_cuda_graph, "--device cuda: launch every kernel each step")
      ->group(g);
  app.add_option("--jax-precompile-prefill-token-paddings", a.jax_precompile_prefill_token_paddings,
                 "Accepted and ignored (no XLA compilation here)")
      ->group(g);
}

void add_speculative_flags(CLI::App& app, ServerArgs& a) {
  const char* g = "Speculative decoding";
  app.add_option("--speculative-algorithm", a.speculative_algorithm, "EAGLE | EAGLE3")->group(g);
  app.add_option("--speculative-draft-model-path", a.speculative_draft_model_path, "Draft model directory")
      ->group(g);
  add_optional(app, "--speculative-num-steps", a.speculative_num_steps, "Draft steps per round")->group(g);
  add_optional(app, "--speculative-eagle-topk", a.speculative_eagle_topk, "Branches kept per draft step")
      ->group(g);
  add_optional(app, "--speculative-num-draft-tokens", a.speculative_num_draft_tokens,
               "Draft tokens verified per round")
      ->group(g);
}

void add_lora_flags(CLI::App& app, ServerArgs& a) {
  const char* g = "LoRA";
  app.add_flag("--enable-lora", a.enable_lora, "Serve LoRA adapters (implied by --lora-paths)")->group(g);
  app.add_option("--lora-paths", a.lora_paths,
                 "Adapters loaded at start: PATH, NAME=PATH or {\"lora_name\",\"lora_path\",\"pinned\"}")
      ->group(g);
  app.add_option("--max-loras-per-batch", a.max_loras_per_batch,
                 "Adapter slots: distinct adapters in one batch, the base model counting as one")
      ->capture_default_str()
      ->group(g);
  add_optional(app, "--max-lora-rank", a.max_lora_rank,
               "Largest adapter rank (default: the largest of --lora-paths)")
      ->group(g);
  app.add_option("--lora-target-modules", a.lora_target_modules,
                 "Projections adapters may target (default: all seven)")
      ->check(CLI::IsMember({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
                             "qkv_proj", "gate_up_proj", "all"}))
      ->group(g);
  add_optional(app, "--max-loaded-loras", a.max_loaded_loras,
               "Most adapters loaded in host memory (>= --max-loras-per-batch)")
      ->group(g);
  app.add_option("--lora-eviction-policy", a.lora_eviction_policy,
                 "Which slot a new adapter takes: lru | fifo")
      ->check(CLI::IsMember({"lru", "fifo"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--lora-backend", a.lora_backend, "Accepted for compatibility (sglcpp has its own kernels)")
      ->check(CLI::IsMember({"triton", "csgmv", "ascend", "torch_native"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--max-lora-chunk-size", a.max_lora_chunk_size, "Accepted for compatibility (csgmv's chunk)")
      ->check(CLI::IsMember({16, 32, 64, 128}))
      ->capture_default_str()
      ->group(g);
}

void add_api_and_logging_flags(CLI::App& app, ServerArgs& a) {
  const char* g = "OpenAI API";
  app.add_option("--tool-call-parser", a.tool_call_parser, "qwen3_coder | hermes | qwen25")->group(g);
  app.add_option("--reasoning-parser", a.reasoning_parser, "qwen3 | deepseek-r1")->group(g);
  app.add_flag("--enable-cache-report", a.enable_cache_report, "Report cached tokens in usage")->group(g);
  // Test builds only in spirit: an empty group keeps it out of --help.
  app.add_option("--test-scripted-output", a.test_scripted_output, "Force every output to this script")
      ->group("");
  app.add_flag("--test-zero-cost-runner", a.test_zero_cost_runner, "Replace the forwards by a no-op runner")
      ->group("");
  const char* l = "Logging and metrics";
  app.add_option("--log-level", a.log_level, "debug | info | warning | error | critical")
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "warn", "error", "critical"}))
      ->capture_default_str()
      ->group(l);
  app.add_flag("--log-requests", a.log_requests, "Log request bodies")->group(l);
  app.add_option("--decode-log-interval", a.decode_log_interval, "Decode steps between log lines")
      ->capture_default_str()
      ->group(l);
  app.add_flag("--enable-metrics", a.enable_metrics, "Serve /metrics")->group(l);
}

std::vector<std::string> ignored_flag_notes(const ServerArgs& a) {
  std::vector<std::string> notes;
  if (!a.jax_precompile_prefill_token_paddings.empty())
    notes.push_back("--jax-precompile-prefill-token-paddings is ignored: sglcpp compiles no XLA programs");
  if (a.trust_remote_code)
    notes.push_back("--trust-remote-code: no remote code is ever run; models load natively");
  if (!a.download_dir.empty())
    notes.push_back("--download-dir is ignored: models are read from local directories");
  if (!a.dist_init_addr.empty() && a.nnodes == 1)
    notes.push_back("--dist-init-addr is ignored with --nnodes 1");
  if (a.enable_lora)
    notes.push_back(fmt::format(
        "--lora-backend {} (--max-lora-chunk-size {}) is accepted for compatibility: sglcpp runs its own "
        "segmented LoRA kernels",
        a.lora_backend, a.max_lora_chunk_size));
  return notes;
}

Status check(bool ok, const std::string& message) {
  if (ok) return ok_status();
  return invalid_argument(message);
}

// SGLang's check_lora_server_args, with its messages.
Status validate_lora_args(const ServerArgs& a) {
  if (!a.enable_lora) return ok_status();
  SGL_TRY(check(a.max_loras_per_batch >= 1,
                fmt::format("--max-loras-per-batch must be >= 1, got {}", a.max_loras_per_batch)));
  SGL_TRY(check(!a.max_lora_rank || *a.max_lora_rank >= 1, "--max-lora-rank must be >= 1"));
  SGL_ASSIGN_OR_RETURN(auto specs, parse_lora_path_specs(a.lora_paths));
  SGL_TRY(check(!specs.empty() || (a.max_lora_rank && !a.lora_target_modules.empty()),
                "When no initial --lora-paths is provided, you need to specify both --max-lora-rank and "
                "--lora-target-modules for LoRA initialization."));
  if (a.max_loaded_loras) {
    SGL_TRY(check(*a.max_loaded_loras >= a.max_loras_per_batch,
                  fmt::format("max_loaded_loras should be greater than or equal to max_loras_per_batch. "
                              "max_loaded_loras={}, max_loras_per_batch={}",
                              *a.max_loaded_loras, a.max_loras_per_batch)));
    SGL_TRY(check(int64_t(specs.size()) <= *a.max_loaded_loras,
                  fmt::format("The number of LoRA paths should not exceed max_loaded_loras. "
                              "max_loaded_loras={}, lora_paths={}",
                              *a.max_loaded_loras, specs.size())));
  }
  int pinned = 0;
  for (const auto& s : specs) pinned += s.pinned ? 1 : 0;
  // A slot must stay free for unpinned adapters and the base model, or they would starve.
  SGL_TRY(check(pinned <= a.max_loras_per_batch - 1,
                fmt::format("--lora-paths pins {} adapters: at most --max-loras-per-batch - 1 = {} may be "
                            "pinned, so that unpinned adapters and the base model keep a slot",
                            pinned, a.max_loras_per_batch - 1)));
  return ok_status();
}

}  // namespace

ParsedArgs parse_server_args(int argc, const char* const* argv) {
  ParsedArgs out;
  CLI::App app{"sglcpp-server: SGLang-compatible LLM server (flags as python -m sgl_jax.launch_server)",
               "sglcpp-server"};
  app.option_defaults()->always_capture_default(false);
  ServerArgs& a = out.args;
  add_model_flags(app, a);
  add_http_flags(app, a);
  add_scheduling_flags(app, a);
  add_parallel_flags(app, a);
  add_speculative_flags(app, a);
  add_lora_flags(app, a);
  add_api_and_logging_flags(app, a);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream os;
    out.exit_now = true;
    out.exit_code = app.exit(e, os, os);
    out.output = os.str();
    return out;
  }
  if (a.tokenizer_path.empty()) a.tokenizer_path = a.model_path;
  if (a.served_model_name.empty()) a.served_model_name = a.model_path;
  if (!a.lora_paths.empty()) a.enable_lora = true;  // SGLang: --lora-paths implies --enable-lora
  out.notes = ignored_flag_notes(a);
  return out;
}

Status validate_server_args(const ServerArgs& a, const BuiltFeatures& built) {
  if (a.device == "tpu")
    return unsupported(
        "--device tpu is not supported: sglcpp runs on cpu or cuda (TPU is SGLang-JAX's device)");
  if (a.device == "cuda" && !built.cuda)
    return unsupported("--device cuda: the CUDA backend is not built in this binary; use --device cpu");
  SGL_TRY(
      check(a.device == "cpu" || a.device == "cuda", "--device must be cpu or cuda, got '" + a.device + "'"));
  if (!built.multi_rank) {
    if (a.tp_size > 1)
      return unsupported(
          fmt::format("--tp-size {}: tensor parallelism is not built yet; use --tp-size 1", a.tp_size));
    if (a.ep_size > 1)
      return unsupported(
          fmt::format("--ep-size {}: expert parallelism is not built yet; use --ep-size 1", a.ep_size));
    if (a.nnodes > 1)
      return unsupported(
          fmt::format("--nnodes {}: multi-node serving is not built yet; use --nnodes 1", a.nnodes));
  }
  SGL_TRY(check(a.tp_size >= 1 && a.ep_size >= 1 && a.nnodes >= 1,
                "--tp-size, --ep-size and --nnodes must be >= 1"));
  SGL_TRY(check(a.node_rank >= 0 && a.node_rank < a.nnodes,
                fmt::format("--node-rank {} must be in [0, --nnodes {})", a.node_rank, a.nnodes)));
  if (a.tp_size > 1 || a.nnodes > 1) {
    SGL_TRY(check(
        a.tp_size % a.nnodes == 0,
        fmt::format("--tp-size {} must be a multiple of --nnodes {} (ranks per node)", a.tp_size, a.nnodes)));
    SGL_TRY(check(a.tp_size % a.ep_size == 0,
                  fmt::format("--ep-size {} must divide --tp-size {}", a.ep_size, a.tp_size)));
    SGL_TRY(check(a.nnodes == 1 || !a.dist_init_addr.empty(),
                  fmt::format("--nnodes {} needs --dist-init-addr host:port (node 0's address)", a.nnodes)));
    SGL_TRY(check(a.dist_timeout >= 2, "--dist-timeout must be at least 2 seconds"));
  }
  if (!a.speculative_algorithm.empty()) {
    SGL_TRY(check(a.speculative_algorithm == "EAGLE" || a.speculative_algorithm == "EAGLE3",
                  "--speculative-algorithm must be EAGLE or EAGLE3, got '" + a.speculative_algorithm + "'"));
    if (!built.speculative)
      return unsupported("--speculative-algorithm " + a.speculative_algorithm +
                         ": speculative decoding is not built in this binary yet");
    SGL_TRY(check(!a.speculative_draft_model_path.empty(),
                  "--speculative-algorithm needs --speculative-draft-model-path"));
    // SGLang's rule: the tree holds at most 1 + steps·topk tokens (steps + 1 for a chain).
    const int steps = a.speculative_num_steps.value_or(3), topk = a.speculative_eagle_topk.value_or(1);
    const int drafts = a.speculative_num_draft_tokens.value_or(topk == 1 ? steps + 1 : 8);
    SGL_TRY(check(steps >= 1, "--speculative-num-steps must be >= 1"));
    SGL_TRY(check(topk >= 1, "--speculative-eagle-topk must be >= 1"));
    SGL_TRY(check(drafts >= 2 && drafts <= 1 + steps * topk,
                  fmt::format("--speculative-num-draft-tokens {} must be in [2, 1 + steps x topk = {}]",
                              drafts, 1 + steps * topk)));
  }
  SGL_TRY(check(a.port > 0 && a.port < 65536, fmt::format("--port must be in [1, 65535], got {}", a.port)));
  SGL_TRY(check(a.mem_fraction_static > 0 && a.mem_fraction_static <= 1,
                fmt::format("--mem-fraction-static must be in (0, 1], got {}", a.mem_fraction_static)));
  SGL_TRY(check(a.page_size >= 1, fmt::format("--page-size must be >= 1, got {}", a.page_size)));
  SGL_TRY(check(a.chunked_prefill_size == -1 || a.chunked_prefill_size > 0,
                fmt::format("--chunked-prefill-size must be -1 or > 0, got {}", a.chunked_prefill_size)));
  SGL_TRY(check(a.max_prefill_tokens > 0, "--max-prefill-tokens must be > 0"));
  SGL_TRY(check(a.schedule_conservativeness > 0, "--schedule-conservativeness must be > 0"));
  SGL_TRY(check(a.stream_interval >= 1, "--stream-interval must be >= 1"));
  SGL_TRY(check(a.decode_log_interval >= 1, "--decode-log-interval must be >= 1"));
  SGL_TRY(check(!a.context_length || *a.context_length > 0, "--context-length must be > 0"));
  SGL_TRY(check(!a.model_layer_nums || *a.model_layer_nums > 0, "--model-layer-nums must be > 0"));
  SGL_TRY(check(!a.max_total_tokens || *a.max_total_tokens > 0, "--max-total-tokens must be > 0"));
  SGL_TRY(
      check(!a.max_running_requests || *a.max_running_requests > 0, "--max-running-requests must be > 0"));
  SGL_TRY(check(a.max_queued_requests >= 0, "--max-queued-requests must be >= 0"));
  SGL_TRY(check(a.max_payload_size > 0, "--max-payload-size must be > 0"));
  SGL_TRY(check(a.http_threads >= 0, "--http-threads must be >= 0"));
  SGL_TRY(check(a.graceful_shutdown_timeout >= 0, "--graceful-shutdown-timeout must be >= 0"));
  SGL_TRY(
      check(a.tool_call_parser.empty() || is_tool_call_parser_name(a.tool_call_parser),
            "--tool-call-parser: unknown parser '" + a.tool_call_parser + "' (qwen3_coder, hermes, qwen25)"));
  SGL_TRY(check(a.reasoning_parser.empty() || is_reasoning_parser_name(a.reasoning_parser),
                "--reasoning-parser: unknown parser '" + a.reasoning_parser + "' (qwen3, deepseek-r1)"));
  if (!a.preferred_sampling_params.empty()) {
    auto j = nlohmann::json::parse(a.preferred_sampling_params, nullptr, /*allow_exceptions=*/false);
    SGL_TRY(check(j.is_object(), "--preferred-sampling-params must be a JSON object"));
  }
  return validate_lora_args(a);
}

namespace {

// SGLang reports its normalized adapter references; a value that does not parse stays as given.
nlohmann::json lora_paths_json(const std::vector<std::string>& values) {
  if (values.empty()) return nullptr;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : values) {
    auto s = parse_lora_path_spec(v);
    if (s.ok())
      out.push_back({{"lora_name", s->name}, {"lora_path", s->path}, {"pinned", s->pinned}});
    else
      out.push_back(v);
  }
  return out;
}

}  // namespace

std::string server_args_to_json(const ServerArgs& a) {
  auto opt = [](const auto& o) -> nlohmann::json { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  auto str_or_null = [](const std::string& s) -> nlohmann::json {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  nlohmann::json j = {
      {"model_path", a.model_path},
      {"tokenizer_path", a.tokenizer_path},
      {"trust_remote_code", a.trust_remote_code},
      {"dtype", a.dtype},
      {"load_format", a.load_format},
      {"context_length", opt(a.context_length)},
      {"model_layer_nums", opt(a.model_layer_nums)},
      {"served_model_name", a.served_model_name},
      {"chat_template", str_or_null(a.chat_template)},
      {"download_dir", str_or_null(a.download_dir)},
      {"random_seed", a.random_seed},
      {"skip_tokenizer_init", a.skip_tokenizer_init},
      {"is_embedding", a.is_embedding},
      {"preferred_sampling_params", str_or_null(a.preferred_sampling_params)},
      {"host", a.host},
      {"port", a.port},
      // Never echo the secret itself: clients only need to know whether one is required.
      {"api_key", a.api_key.empty() ? nlohmann::json(nullptr) : nlohmann::json("<set>")},
      {"http_threads", a.http_threads},
      {"max_payload_size", a.max_payload_size},
      {"max_queued_requests", a.max_queued_requests},
      {"graceful_shutdown_timeout", a.graceful_shutdown_timeout},
      {"mem_fraction_static", a.mem_fraction_static},
      {"max_total_tokens", opt(a.max_total_tokens)},
      {"max_prefill_tokens", a.max_prefill_tokens},
      {"chunked_prefill_size", a.chunked_prefill_size},
      {"page_size", a.page_size},
      {"max_running_requests", opt(a.max_running_requests)},
      {"schedule_policy", a.schedule_policy},
      {"schedule_conservativeness", a.schedule_conservativeness},
      {"enable_mixed_chunk", a.enable_mixed_chunk},
      {"disable_radix_cache", a.disable_radix_cache},
      {"disable_overlap_schedule", a.disable_overlap_schedule},
      {"stream_interval", a.stream_interval},
      {"incremental_streaming_output", a.incremental_streaming_output},
      {"skip_server_warmup", a.skip_server_warmup},
      {"allow_auto_truncate", a.allow_auto_truncate},
      {"device", a.device},
      {"tp_size", a.tp_size},
      {"ep_size", a.ep_size},
      {"cuda_graph_max_bs", a.cuda_graph_max_bs},
      {"disable_cuda_graph", a.disable_cuda_graph},
      {"nnodes", a.nnodes},
      {"node_rank", a.node_rank},
      {"dist_init_addr", str_or_null(a.dist_init_addr)},
      {"dist_timeout", a.dist_timeout},
      {"attention_backend", a.attention_backend},
      {"jax_precompile_prefill_token_paddings", a.jax_precompile_prefill_token_paddings},
      {"speculative_algorithm", str_or_null(a.speculative_algorithm)},
      {"speculative_draft_model_path", str_or_null(a.speculative_draft_model_path)},
      {"speculative_num_steps", opt(a.speculative_num_steps)},
      {"speculative_eagle_topk", opt(a.speculative_eagle_topk)},
      {"speculative_num_draft_tokens", opt(a.speculative_num_draft_tokens)},
      {"tool_call_parser", str_or_null(a.tool_call_parser)},
      {"reasoning_parser", str_or_null(a.reasoning_parser)},
      {"enable_cache_report", a.enable_cache_report},
      {"enable_lora", a.enable_lora},
      {"lora_paths", lora_paths_json(a.lora_paths)},
      {"max_loras_per_batch", a.max_loras_per_batch},
      {"max_lora_rank", opt(a.max_lora_rank)},
      {"lora_target_modules",
       a.lora_target_modules.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.lora_target_modules)},
      {"max_loaded_loras", opt(a.max_loaded_loras)},
      {"lora_eviction_policy", a.lora_eviction_policy},
      {"lora_backend", a.lora_backend},
      {"max_lora_chunk_size", a.max_lora_chunk_size},
      {"log_level", a.log_level},
      {"log_requests", a.log_requests},
      {"decode_log_interval", a.decode_log_interval},
      {"enable_metrics", a.enable_metrics},
  };
  return j.dump();
}

}  // namespace sgl::server
