#include "server/args.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/argv_prefix.h"
#include "server/flags/config_file.h"
#include "server/flags/flag_table.h"
#include "server/parsers/reasoning_parser.h"
#include "server/parsers/tool_call_parser.h"
#include "server/protocol/lora_specs.h"

namespace sgl::server {
namespace {

std::vector<std::string> parse_notes(const ServerArgs& a) {
  std::vector<std::string> notes;
  if (!a.dist_init_addr.empty() && a.nnodes == 1)
    notes.push_back("--dist-init-addr is ignored with --nnodes 1");
  if (a.enable_deterministic_sampling)
    notes.push_back(
        "--enable-deterministic-sampling: sglcpp is deterministic always (batch-invariant kernels, "
        "per-request "
        "seeded sampling)");
  if (a.tokenizer_mode == "slow")
    notes.push_back(
        "--tokenizer-mode slow: sglcpp's one tokenizer reads tokenizer.json (the fast tokenizer's file)");
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
  flags::FlagTable table(app, a);
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  args = expand_flag_prefixes(std::move(args), table.long_names());
  if (auto merged = flags::expand_config_file(std::move(args), table); merged.ok()) {
    args = std::move(merged).value();
  } else {
    out.exit_now = true;
    out.exit_code = 2;  // argparse's status for a bad command line
    out.output = "error: " + merged.error().message + "\n";
    return out;
  }
  // --check-env inspects the machine, and the model only when one is named.
  if (std::find_if(args.begin(), args.end(), [](const std::string& s) {
        return s == "--check-env" || s == "--check-env-json";
      }) != args.end())
    app.get_option("--model-path")->required(false);
  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
    app.parse(args);
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
  // SGLang-JAX's --stream-output and SGLang's --incremental-streaming-output are one setting.
  a.incremental_streaming_output = a.stream_output = a.incremental_streaming_output || a.stream_output;
  out.notes = table.warnings();
  for (auto& n : parse_notes(a)) out.notes.push_back(std::move(n));
  out.refusals = table.refusals();
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
  SGL_TRY(check(a.max_connections >= 1, "--max-connections must be >= 1"));
  SGL_TRY(check(a.cpu_kv_cache_gib >= 0, "--cpu-kv-cache-gib must be >= 0"));
  for (auto [v, name] : {std::pair{a.http_read_timeout, "--http-read-timeout"},
                         std::pair{a.http_idle_timeout, "--http-idle-timeout"},
                         std::pair{a.http_write_timeout, "--http-write-timeout"}})
    SGL_TRY(check(v > 0, fmt::format("{} must be > 0 seconds, got {}", name, v)));
  SGL_TRY(check(a.graceful_shutdown_timeout >= 0, "--graceful-shutdown-timeout must be >= 0"));
  SGL_TRY(check(a.tool_call_parser.empty() || is_tool_call_parser_name(a.tool_call_parser),
                "--tool-call-parser: no parser for '" + a.tool_call_parser +
                    "' in sglcpp (qwen3_coder, mimo, hermes, qwen, qwen25)"));
  SGL_TRY(check(a.reasoning_parser.empty() || is_reasoning_parser_name(a.reasoning_parser),
                "--reasoning-parser: no parser for '" + a.reasoning_parser +
                    "' in sglcpp (deepseek-r1, qwen3, qwen3-thinking, mimo, kimi, glm45, glm47)"));
  SGL_TRY(check(a.dp_size >= 1, "--dp-size must be >= 1"));
  if (a.dp_size > 1 && a.nnodes > 1)
    return unsupported(fmt::format(
        "--dp-size {} with --nnodes {}: data-parallel replicas across nodes are not built in sglcpp yet "
        "(replicas run in one process; run one server per node behind a router instead)",
        a.dp_size, a.nnodes));
  SGL_TRY(check(a.watchdog_timeout > 0, "--watchdog-timeout must be > 0"));
  for (const auto* b :
       {&a.bucket_time_to_first_token, &a.bucket_inter_token_latency, &a.bucket_e2e_request_latency})
    SGL_TRY(
        check(std::is_sorted(b->begin(), b->end()) && std::adjacent_find(b->begin(), b->end()) == b->end(),
              "--bucket-* bounds must be strictly increasing"));
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
  CLI::App scratch_app;
  ServerArgs scratch;
  const flags::FlagTable table(scratch_app, scratch);
  nlohmann::ordered_json j = table.values(a);
  // Never echo the secret itself: clients only need to know whether one is required.
  j["api_key"] = a.api_key.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json("<set>");
  j["lora_paths"] = nlohmann::ordered_json::parse(lora_paths_json(a.lora_paths).dump());
  return j.dump();
}

}  // namespace sgl::server
