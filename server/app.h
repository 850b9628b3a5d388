// Everything a route needs: the parsed flags, the tokenizer and chat template, the model runners
// and their schedulers (one per data-parallel replica), the request limits and the server's
// counters. Built once by startup.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/model_runner.h"
#include "net/router.h"
#include "sched/data_parallel.h"
#include "server/args.h"
#include "server/crash_dump.h"
#include "server/grammar/grammar_constraint.h"
#include "server/inflight_rids.h"
#include "server/lora_registry.h"
#include "server/metrics.h"
#include "server/profiler.h"
#include "server/session_store.h"
#include "server/protocol/sampling_params.h"
#include "server/runtime_settings.h"
#include "server/text/chat_template.h"
#include "server/text/tokenizer.h"

namespace sgl::server {

struct App {
  ServerArgs args;
  std::shared_ptr<const text::Tokenizer> tokenizer;
  std::shared_ptr<const text::ChatTemplate> chat_template;  // null: SGLang's plain fallback
  // One per --dp-size replica, each served by its scheduler in `scheduler` (same order).
  std::vector<std::unique_ptr<engine::ModelRunner>> runners;
  std::unique_ptr<sched::DataParallelScheduler> scheduler;
  RequestLimits limits;
  std::unique_ptr<GrammarCompiler> grammars;  // structured output (json_schema / regex / ebnf)
  std::unique_ptr<LoraRegistry> lora;         // LoRA adapters by name; null without --enable-lora
  SamplingParams chat_defaults;               // generation_config.json's temperature/top_p
  Metrics metrics;
  InflightRids inflight;    // submitted and unfinished (abort_all)
  RuntimeSettings runtime;  // weight version, request logging (changed by ops routes)
  std::unique_ptr<Profiler> profiler = std::make_unique<Profiler>();  // /start_profile, /stop_profile
  std::unique_ptr<SessionStore> sessions = std::make_unique<SessionStore>();  // /open_session, session_params
  std::shared_ptr<sched::PrecisionTracer> precision_tracer;
  std::vector<std::string> class_labels;  // a *ForSequenceClassification model's id2label  // --enable-precision-tracer (/start_trace)
  std::shared_ptr<CrashDumpRecorder> crash_dump =
      std::make_shared<CrashDumpRecorder>();  // --crash-dump-folder
  std::shared_ptr<spdlog::logger> http_log;   // access lines, at --log-level-http (null: the default logger)
  std::atomic<bool> ready{false};             // /health 200 once warm-up is done
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();

  // The model every replica runs (replica 0's runner: its info, its tensor-parallel group).
  engine::ModelRunner& runner() const { return *runners.front(); }
};

// Loads tokenizer, template, model and scheduler as the flags say (progress on stderr).
Result<std::unique_ptr<App>> create_app(const ServerArgs& args);

// Every route of the SGLang HTTP API.
net::Router make_router(App& app);

// One real greedy generate through the whole stack (startup warm-up and /health_generate).
Status run_warmup(App& app, std::chrono::milliseconds timeout);

}  // namespace sgl::server
