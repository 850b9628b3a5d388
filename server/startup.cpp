// Builds the App from the flags: tokenizer, chat template, model runner, scheduler, limits.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include "engine/engine_config.h"
#include "engine/model_config.h"
#include "engine/spec/eagle3_draft.h"
#include "engine/testing/scripted_runner.h"
#include "engine/testing/stalling_runner.h"
#include "engine/testing/zero_cost_runner.h"
#include "server/app.h"
#include "server/dist_node.h"
#include "server/protocol/logging_config.h"
#include "server/protocol/lora_specs.h"
#include "server/scripted_output.h"

namespace sgl::server {
namespace {

Result<std::shared_ptr<const text::ChatTemplate>> load_chat_template(const ServerArgs& args,
                                                                     const text::Tokenizer& tok) {
  std::string source;
  if (!args.chat_template.empty()) {
    if (std::filesystem::is_regular_file(args.chat_template)) {
      std::ifstream in(args.chat_template);
      std::stringstream ss;
      ss << in.rdbuf();
      source = ss.str();
    } else if (auto builtin = text::builtin_chat_template(args.chat_template); !builtin.empty()) {
      source = builtin;  // SGLang's built-in names (chatml)
    } else {
      source = tok.named_chat_template(args.chat_template);
      if (source.empty())
        return invalid_argument("--chat-template '" + args.chat_template +
                                "' is neither a file, a built-in template (chatml) nor a template named "
                                "in tokenizer_config.json");
    }
  } else {
    source = tok.chat_template();
  }
  if (source.empty()) return std::shared_ptr<const text::ChatTemplate>();
  return text::ChatTemplate::create(source);
}

sched::SchedulerConfig scheduler_config(const ServerArgs& a, const text::Tokenizer& tok) {
  sched::SchedulerConfig c;
  c.page_size = a.page_size;
  c.max_total_tokens = a.max_total_tokens.value_or(0);
  c.mem_fraction_static = a.mem_fraction_static;
  if (a.device == "cpu")
    c.kv_cache_cap_bytes = static_cast<int64_t>(a.cpu_kv_cache_gib * double(int64_t(1) << 30));
  c.max_prefill_tokens = a.max_prefill_tokens;
  c.chunked_prefill_size = a.chunked_prefill_size;
  if (a.enable_precision_tracer && c.chunked_prefill_size > 0) {
    // SGLang-JAX: a traced prompt's prefill is one forward, so its records are one group.
    spdlog::warn("--enable-precision-tracer: chunked prefill is disabled (as SGLang-JAX does)");
    c.chunked_prefill_size = -1;
  }
  c.max_running_requests = a.max_running_requests.value_or(0);
  c.max_queued_requests = a.max_queued_requests;
  c.schedule_policy = a.schedule_policy == "lof" ? "fcfs" : a.schedule_policy;
  c.schedule_conservativeness = a.schedule_conservativeness;
  c.disable_radix_cache = a.disable_radix_cache;
  c.disable_overlap_schedule = a.disable_overlap_schedule;
  c.enable_mixed_chunk = a.enable_mixed_chunk;
  c.decode_log_interval = a.decode_log_interval;
  c.context_length = a.context_length.value_or(0);
  c.random_seed = uint64_t(a.random_seed);
  c.watchdog_timeout_s = a.watchdog_timeout;
  c.show_time_cost = a.show_time_cost;
  if (tok.eos_token_id() >= 0) c.extra_eos_token_ids.push_back(tok.eos_token_id());
  // Turn ends the model config does not list (Qwen v1's <|im_end|>: its generation_config names
  // only <|endoftext|>).
  for (int32_t id : tok.extra_stop_token_ids())
    if (std::find(c.extra_eos_token_ids.begin(), c.extra_eos_token_ids.end(), id) ==
        c.extra_eos_token_ids.end())
      c.extra_eos_token_ids.push_back(id);
  return c;
}

// --enable-lora: the registry with the --lora-paths adapters loaded, and the scheduler's adapter
// pool. The rank defaults to the largest startup adapter's (SGLang infers it the same way).
Status setup_lora(App& app, sched::SchedulerConfig& sc) {
  const ServerArgs& a = app.args;
  LoraReadContext ctx;
  ctx.base = app.runner().info().config;
  if (!ctx.base)
    return unsupported(
        "--enable-lora: this runner has no model config to check adapters against (test "
        "runners such as --test-zero-cost-runner cannot serve LoRA)");
  ctx.limits.max_rank = a.max_lora_rank.value_or(0);
  if (!a.lora_target_modules.empty()) {
    SGL_ASSIGN_OR_RETURN(ctx.limits.target_modules, engine::parse_lora_target_modules(a.lora_target_modules));
  }
  LoraRegistryLimits limits;
  limits.max_loaded = a.max_loaded_loras.value_or(0);
  limits.max_pinned = a.max_loras_per_batch - 1;
  app.lora = std::make_unique<LoraRegistry>(ctx, limits);
  SGL_ASSIGN_OR_RETURN(auto specs, parse_lora_path_specs(a.lora_paths));
  int32_t max_rank = 0;
  for (const auto& s : specs) {
    spdlog::info("Loading LoRA adapter {} from {}{}", s.name, s.path, s.pinned ? " (pinned)" : "");
    SGL_TRY(app.lora->check_add(s.name, s.path, s.pinned));
    auto adapter = read_lora_adapter(ctx, s.name, s.path, s.pinned);
    if (!adapter.ok())
      return Error{adapter.error().code, fmt::format("--lora-paths {}: {}", s.name, adapter.error().message)};
    max_rank = std::max(max_rank, (*adapter)->max_rank);
    SGL_TRY(app.lora->add(*adapter));
  }
  if (!a.max_lora_rank) {
    app.lora->set_max_rank(max_rank);
    app.args.max_lora_rank = max_rank;  // /get_server_info reports the rank in force
  }
  sc.max_loras_per_batch = a.max_loras_per_batch;
  sc.max_lora_rank = app.lora->max_rank();
  sc.lora_modules = ctx.limits.target_modules;
  sc.lora_eviction_lru = a.lora_eviction_policy != "fifo";
  return ok_status();
}

// One replica's runner, wrapped as the --test-* flags say.
Result<std::unique_ptr<engine::ModelRunner>> create_replica_runner(const ServerArgs& args,
                                                                   const engine::EngineConfig& ec,
                                                                   const text::Tokenizer& tok) {
  SGL_ASSIGN_OR_RETURN(std::unique_ptr<engine::ModelRunner> runner, engine::create_model_runner(ec));
  if (!args.test_scripted_output.empty()) {
    SGL_ASSIGN_OR_RETURN(auto script, scripted_output_tokens(args.test_scripted_output, tok));
    spdlog::warn("--test-scripted-output: every output is forced to a {}-token script", script.size());
    runner = std::make_unique<engine::ScriptedRunner>(std::move(runner), std::move(script));
  }
  if (args.test_zero_cost_runner) {
    spdlog::warn("--test-zero-cost-runner: no forward runs; every output is a fixed token cycle");
    const int64_t available = runner->available_memory_bytes();
    runner = std::make_unique<engine::ZeroCostRunner>(runner->info(), available);
  }
  if (args.test_stall_step > 0) {
    spdlog::warn("--test-stall-step: forward {} will hang", args.test_stall_step);
    runner = std::make_unique<engine::StallingRunner>(std::move(runner), args.test_stall_step);
  }
  return runner;
}

Result<std::shared_ptr<engine::spec::Eagle3Draft>> load_draft(const ServerArgs& args,
                                                              const engine::ModelInfo& info) {
  const int64_t kv_elems = 2LL * info.num_layers * info.num_kv_heads * info.head_dim;
  const auto elem = info.kv_bytes_per_token / std::max<int64_t>(1, kv_elems);
  spdlog::info("Loading {} draft model {}", args.speculative_algorithm, args.speculative_draft_model_path);
  SGL_ASSIGN_OR_RETURN(
      std::shared_ptr<engine::spec::Eagle3Draft> draft,
      engine::spec::Eagle3Draft::load(args.speculative_draft_model_path, args.model_path, info,
                                      elem == 4 ? engine::DType::kF32 : engine::DType::kBF16));
  return draft;
}

}  // namespace

Result<std::unique_ptr<App>> create_app(const ServerArgs& args) {
  const auto t_start = std::chrono::steady_clock::now();
  auto app = std::make_unique<App>();
  app->args = args;
  app->runtime.log_requests = args.log_requests;
  app->runtime.log_requests_level = args.log_requests_level;
  // --log-level-http: the access lines get their own logger so that they can be louder or quieter
  // than the rest, as uvicorn's are in SGLang.
  if (!args.log_level_http.empty()) {
    app->http_log = spdlog::default_logger()->clone("http");
    app->http_log->set_level(spdlog_level_of(args.log_level_http));
  }
  if (!args.bucket_time_to_first_token.empty()) app->metrics.ttft.set_bounds(args.bucket_time_to_first_token);
  if (!args.bucket_inter_token_latency.empty()) app->metrics.itl.set_bounds(args.bucket_inter_token_latency);
  if (!args.bucket_e2e_request_latency.empty()) app->metrics.e2e.set_bounds(args.bucket_e2e_request_latency);
  for (auto [rule, hist, flag] :
       {std::tuple{&args.prompt_tokens_buckets, &app->metrics.prompt_tokens_hist, "--prompt-tokens-buckets"},
        std::tuple{&args.generation_tokens_buckets, &app->metrics.generation_tokens_hist,
                   "--generation-tokens-buckets"}}) {
    std::vector<double> bounds;
    if (std::string err = token_buckets(*rule, bounds); !err.empty())
      return invalid_argument(fmt::format("{}: {}", flag, err));
    hist->set_bounds(std::move(bounds));
  }
  app->metrics.lora_enabled = args.enable_lora;
  app->runtime.log_requests_json = args.log_requests_format == "json";
  spdlog::info("Loading tokenizer from {}", args.tokenizer_path);
  SGL_ASSIGN_OR_RETURN(app->tokenizer, text::Tokenizer::from_dir(args.tokenizer_path));
  SGL_ASSIGN_OR_RETURN(app->chat_template, load_chat_template(args, *app->tokenizer));

  engine::EngineConfig ec = engine_config_from_args(args);  // server/dist_node.cpp
  // Checked before the (long) model load.
  SGL_ASSIGN_OR_RETURN(const sched::DpPolicy policy,
                       sched::parse_dp_policy(args.dp_schedule_policy, !args.disable_radix_cache));
  if (args.dp_size > 1) {
    if (args.device != "cpu")
      return unsupported(fmt::format(
          "--dp-size {} with --device {}: replicas on separate GPUs are not wired in sglcpp yet (the CUDA "
          "runner always takes device 0); use --tp-size, or one server per GPU behind a router",
          args.dp_size, args.device));
    // Replicas split the cores: each runs its forwards in an arena of its own share.
    const int cores =
        ec.num_threads > 0 ? ec.num_threads : static_cast<int>(std::thread::hardware_concurrency());
    ec.arena_threads = std::max(1, cores / args.dp_size);
    spdlog::info("--dp-size {}: {} replicas of the model, {} threads each, requests routed by {}",
                 args.dp_size, args.dp_size, ec.arena_threads, sched::dp_policy_name(policy));
  }
  spdlog::info("Loading model {} (load_format={}, dtype={}, device={})", args.model_path, args.load_format,
               ec.dtype, args.device);
  const auto t_load = std::chrono::steady_clock::now();
  for (int i = 0; i < args.dp_size; ++i) {
    SGL_ASSIGN_OR_RETURN(auto runner, create_replica_runner(args, ec, *app->tokenizer));
    app->runners.push_back(std::move(runner));
  }
  app->metrics.engine_load_weights_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  const auto& info = app->runner().info();
  spdlog::info("Model: {} ({}), {} layers, vocab {}, context {}, weights {:.1f} MiB", info.architecture,
               info.model_type, info.num_layers, info.vocab_size, info.context_length,
               double(info.weight_bytes) / (1 << 20));

  // generation_config.json's sampling defaults apply to chat, as upstream SGLang does.
  if (auto mc = engine::load_model_config(args.model_path); mc.ok()) {
    if (mc->default_temperature >= 0) app->chat_defaults.temperature = mc->default_temperature;
    if (mc->default_top_p > 0) app->chat_defaults.top_p = mc->default_top_p;
    app->class_labels = mc->id2label;  // /v1/classify's label names
  }

  sched::SchedulerConfig sc = scheduler_config(args, *app->tokenizer);
  // A hung step ends the process (a restart beats a server that answers nothing); the requests it
  // was serving go to --crash-dump-folder first (also when /configure_logging set it later).
  app->crash_dump->set_folder(args.crash_dump_folder);
  sc.on_watchdog = [recorder = app->crash_dump, server_args = nlohmann::ordered_json::parse(
                                                    server_args_to_json(args))](const std::string& report) {
    spdlog::critical("{}; exiting so that the server is restarted rather than left hanging", report);
    write_crash_dump(*recorder, server_args, "watchdog: " + report);
    spdlog::default_logger()->flush();
    std::_Exit(1);
  };
  if (!args.speculative_algorithm.empty()) {
    sc.spec_num_steps = args.speculative_num_steps.value_or(3);
    sc.spec_eagle_topk = args.speculative_eagle_topk.value_or(1);
    sc.spec_num_draft_tokens =
        args.speculative_num_draft_tokens.value_or(sc.spec_eagle_topk == 1 ? sc.spec_num_steps + 1 : 8);
  }
  if (args.enable_lora) {
    SGL_TRY(setup_lora(*app, sc));
  }
  sc.histograms = std::make_shared<sched::SchedulerHistograms>();  // the replicas' together
  if (args.enable_return_routed_experts) {
    if (info.num_experts_per_tok <= 0)
      return invalid_argument(fmt::format(
          "--enable-return-routed-experts requires a MoE model; {} is router-less (it has no experts to "
          "report)",
          info.architecture));
    if (!args.speculative_algorithm.empty())
      return unsupported("--enable-return-routed-experts with speculative decoding is not supported yet");
    if (args.device != "cpu")
      return unsupported(
          "--enable-return-routed-experts: the CUDA backend does not capture routed experts yet");
    sc.enable_return_routed_experts = true;
  }
  if (args.enable_precision_tracer) {
    app->precision_tracer = std::make_shared<sched::PrecisionTracer>();
    sc.precision_tracer = app->precision_tracer;
  }
  std::vector<std::unique_ptr<sched::Scheduler>> replicas;
  for (auto& runner : app->runners) {
    sched::SchedulerConfig rc = sc;
    // EAGLE3 draft head, one per replica (it keeps state of its own), computed in the target's
    // precision (its KV bytes per element say which).
    if (!args.speculative_algorithm.empty()) {
      SGL_ASSIGN_OR_RETURN(rc.spec_draft, load_draft(args, info));
    }
    SGL_ASSIGN_OR_RETURN(auto scheduler, sched::Scheduler::create(*runner, std::move(rc)));
    replicas.push_back(std::move(scheduler));
  }
  app->scheduler = std::make_unique<sched::DataParallelScheduler>(std::move(replicas), policy);
  // The scheduler logs its capacity plan (max_total_num_tokens, chunked_prefill_size, ...).
  const auto& lim = app->scheduler->limits();
  app->limits.context_length = lim.context_len;
  app->limits.vocab_size = info.vocab_size;
  // The width of an input_embeds row.
  app->limits.hidden_size = info.hidden_size;
  app->limits.max_bytes_per_token = app->tokenizer->max_bytes_per_token();
  app->limits.allow_auto_truncate = args.allow_auto_truncate;
  app->limits.max_req_input_len = lim.max_req_input_len;
  app->limits.grammar_supported = args.speculative_algorithm.empty();
  app->grammars = std::make_unique<GrammarCompiler>(std::make_shared<const TokenTexts>(*app->tokenizer));
  app->metrics.engine_startup_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return app;
}

namespace {
Status warm_up_replica(sched::Scheduler& scheduler, const std::vector<int32_t>& ids, const std::string& rid,
                       std::chrono::steady_clock::time_point deadline) {
  sched::GenerateRequest r;
  r.rid = rid;
  r.input_ids = ids;
  r.sampling.temperature = 0;
  r.stop.max_new_tokens = 8;
  r.stop.ignore_eos = true;
  std::mutex mu;
  std::condition_variable cv;
  bool signalled = false;
  auto notify = [&] {
    std::lock_guard lock(mu);
    signalled = true;
    cv.notify_all();
  };
  SGL_ASSIGN_OR_RETURN(auto stream, scheduler.submit(std::move(r), notify));
  std::vector<sched::OutputChunk> chunks;
  for (;;) {
    stream->drain(chunks);
    if (stream->all_finished()) {
      stream->drain(chunks);
      break;
    }
    std::unique_lock lock(mu);
    if (!cv.wait_until(lock, deadline, [&] { return signalled; })) {
      scheduler.abort(rid);
      return Error{ErrorCode::kUnavailable, "warm-up generate did not finish in time"};
    }
    signalled = false;
  }
  for (const auto& c : chunks)
    if (c.finish && c.finish->type == sched::FinishReason::Type::kAbort)
      return internal_error("warm-up generate aborted: " + c.finish->message);
  return ok_status();
}
}  // namespace

Status run_warmup(App& app, std::chrono::milliseconds timeout) {
  auto ids = app.tokenizer->encode("The capital city of France is", false);
  const std::vector<int32_t> prompt = ids.ok() && !ids->empty() ? *ids : std::vector<int32_t>{0};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Every replica, one after the other: each must answer before the server says it is healthy.
  for (int i = 0; i < app.scheduler->size(); ++i) {
    const std::string rid = app.scheduler->size() == 1 ? "WARMUP" : fmt::format("WARMUP-{}", i);
    SGL_TRY(warm_up_replica(app.scheduler->replica(i), prompt, rid, deadline));
  }
  return ok_status();
}

}  // namespace sgl::server
