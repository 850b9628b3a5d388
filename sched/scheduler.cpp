#include "sched/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "sched/kv_budget.h"
#include "sched/scheduler_impl.h"

namespace sgl::sched {
namespace {

// The pool's size from memory and flags (kv_budget.h), or an error when not even two pages fit.
Result<int64_t> plan_kv_tokens(const engine::ModelRunner& runner, const SchedulerConfig& cfg) {
  const int page = std::max(1, cfg.page_size);
  const int64_t available = runner.available_memory_bytes();
  const KvBudget budget = plan_kv_budget(available, runner.info().kv_bytes_per_token, cfg.mem_fraction_static,
                                         cfg.max_total_tokens, page, cfg.kv_cache_cap_bytes);
  if (budget.capped_by_memory)
    spdlog::warn(
        "--max-total-tokens {} does not fit: --mem-fraction-static {} of the {:.2f} GiB available allows {} "
        "tokens; the KV pool gets {}",
        cfg.max_total_tokens, cfg.mem_fraction_static, static_cast<double>(available) / (1 << 30),
        budget.memory_tokens, budget.tokens);
  if (budget.tokens < 2 * page)
    return Error{
        ErrorCode::kResourceExhausted,
        fmt::format("Not enough memory for the KV cache: max_total_num_tokens={} ({:.2f} GiB available)",
                    budget.tokens, static_cast<double>(available) / (1 << 30))};
  return budget.tokens;
}

SchedulerLimits plan_capacity(const engine::ModelRunner& runner, const SchedulerConfig& cfg, int64_t tokens) {
  const auto& info = runner.info();
  SchedulerLimits l;
  l.page_size = std::max(1, cfg.page_size);
  l.context_len = cfg.context_length > 0 ? cfg.context_length : info.context_length;
  if (l.context_len <= 0) l.context_len = 1 << 20;
  l.max_total_num_tokens = tokens;
  l.max_prefill_tokens = cfg.max_prefill_tokens;
  l.chunked_prefill_size =
      cfg.chunked_prefill_size > 0 ? cfg.chunked_prefill_size / l.page_size * l.page_size : -1;
  if (cfg.chunked_prefill_size > 0 && l.chunked_prefill_size == 0) l.chunked_prefill_size = l.page_size;
  const int64_t pool_reqs = std::clamp<int64_t>(tokens / l.context_len * 512, 2048, 4096);
  l.max_running_requests = cfg.max_running_requests > 0
                               ? cfg.max_running_requests
                               : std::min<int64_t>(std::max<int64_t>(tokens / 2, 1), pool_reqs);
  l.max_req_input_len = std::min(l.context_len - 1, tokens - 1) - 5;
  return l;
}

}  // namespace

Result<std::unique_ptr<Scheduler>> Scheduler::create(engine::ModelRunner& runner, SchedulerConfig config) {
  SGL_ASSIGN_OR_RETURN(const int64_t tokens, plan_kv_tokens(runner, config));
  SGL_TRY(runner.init_kv_cache(tokens, std::max(1, config.page_size)));
  // The CPU backend may commit less than planned (memory ran short meanwhile): plan on what it holds.
  const int64_t held = runner.kv_num_slots();
  SchedulerLimits limits = plan_capacity(runner, config, held > 0 ? std::min(held, tokens) : tokens);
  if (config.max_loras_per_batch > 0) {
    engine::LoraPoolConfig lc;
    lc.num_slots = config.max_loras_per_batch;
    lc.max_rank = config.max_lora_rank;
    lc.modules = config.lora_modules;
    SGL_TRY(runner.init_lora(lc));
    spdlog::info("LoRA: {} adapter slots (max rank {}, eviction {})", lc.num_slots, lc.max_rank,
                 config.lora_eviction_lru ? "lru" : "fifo");
  }
  spdlog::info(
      "max_total_num_tokens={}, chunked_prefill_size={}, max_prefill_tokens={}, max_running_requests={}, "
      "context_len={}, available_mem={:.2f} GB",
      limits.max_total_num_tokens, limits.chunked_prefill_size, limits.max_prefill_tokens,
      limits.max_running_requests, limits.context_len,
      static_cast<double>(runner.available_memory_bytes()) / (1 << 30));
  auto impl = std::make_unique<SchedulerImpl>(runner, std::move(config), limits);
  impl->start();
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(impl)));
}

Scheduler::Scheduler(std::unique_ptr<SchedulerImpl> impl) : impl_(std::move(impl)) {}
Scheduler::~Scheduler() { shutdown(); }

Result<std::shared_ptr<RequestStream>> Scheduler::submit(GenerateRequest request,
                                                         std::function<void()> notify) {
  const auto& l = impl_->limits();
  const int64_t prompt = static_cast<int64_t>(request.input_ids.size());
  const int64_t max_new = request.stop.max_new_tokens;
  if (prompt == 0) return invalid_argument("The input_ids is empty.");
  if (request.n < 1) return invalid_argument(fmt::format("n must be at least 1, got {}.", request.n));
  if (request.return_hidden_states && impl_->config().spec_draft)
    return invalid_argument(
        "return_hidden_states (and embeddings) are not supported with speculative decoding yet; launch "
        "without --speculative-algorithm.");
  if (request.constraint && impl_->config().spec_draft)
    return invalid_argument(
        "Structured output (json_schema, regex, ebnf, forced tool calls) is not supported with "
        "speculative decoding yet; launch without --speculative-algorithm.");
  if (max_new < 0)
    return invalid_argument(fmt::format("max_new_tokens must be at least 0, got {}.", max_new));
  if (request.return_routed_experts && !impl_->config().enable_return_routed_experts)
    return invalid_argument(
        "return_routed_experts requires the server to be launched with --enable-return-routed-experts "
        "(on a MoE model).");
  if (request.return_routed_experts &&
      (request.routed_experts_start_len < 0 || request.routed_experts_start_len > prompt))
    return invalid_argument(
        fmt::format("routed_experts_start_len must be in [0, {}] (the prompt's tokens), got {}.", prompt,
                    request.routed_experts_start_len));
  if (request.lora) {
    const auto& cfg = impl_->config();
    if (cfg.max_loras_per_batch <= 0)
      return invalid_argument("LoRA adapters are not enabled on this server; launch with --enable-lora.");
    if (cfg.max_lora_rank > 0 && request.lora->max_rank > cfg.max_lora_rank)
      return invalid_argument(fmt::format("LoRA adapter '{}' has rank {}, over --max-lora-rank {}.",
                                          request.lora->name, request.lora->max_rank, cfg.max_lora_rank));
    if ((request.lora->modules & ~cfg.lora_modules) != 0)
      return invalid_argument(fmt::format("LoRA adapter '{}' targets modules outside --lora-target-modules.",
                                          request.lora->name));
  }
  if (prompt + max_new > l.context_len)
    return invalid_argument(
        fmt::format("Requested token count exceeds the model's maximum context length of {} tokens. You "
                    "requested a total of "
                    "{} tokens: {} tokens from the input messages and {} tokens for the completion.",
                    l.context_len, prompt + max_new, prompt, max_new));
  // SGLang's scheduler: a request may hold at most max_req_len = min(context − 1, pool − 1) tokens,
  // so a prompt must leave room to generate, and max_new_tokens (or the default of "the rest of
  // the context") is clipped to what the pool can back — a pool smaller than the context serves a
  // request without max_tokens instead of refusing it.
  const int64_t max_req_len = std::min(l.context_len - 1, l.max_total_num_tokens - 1);
  if (prompt > l.max_req_input_len)
    return invalid_argument(
        fmt::format("Input length ({} tokens) exceeds the maximum allowed length ({} tokens). "
                    "Use a shorter input or enable --allow-auto-truncate.",
                    prompt, l.max_req_input_len));
  request.stop.max_new_tokens = std::min(max_new, max_req_len - prompt - 1);
  const int64_t max_q = impl_->config().max_queued_requests;
  if (max_q > 0 && impl_->queued().load() >= max_q)
    return Error{ErrorCode::kResourceExhausted, "The request queue is full; retry later."};

  auto spec = std::make_shared<GenerateRequest>(std::move(request));
  auto stream = std::make_shared<RequestStream>(spec->rid, spec->n, std::move(notify));
  CmdSubmit cmd;
  for (int32_t i = 0; i < spec->n; ++i) {
    auto r = std::make_shared<Req>();
    r->rid = spec->rid;
    r->index = i;
    r->stream = stream;
    r->spec = spec;
    r->sampling = spec->sampling;
    if (r->sampling.seed && i > 0) r->sampling.seed = *r->sampling.seed + static_cast<uint64_t>(i);
    r->sampling_min_phase = r->sampling;
    r->tokens = spec->input_ids;
    r->prompt_len = prompt;
    r->arrival = impl_->next_arrival();
    r->submitted = r->stage_start = std::chrono::steady_clock::now();
    if (i > 0) r->first_sibling = cmd.reqs.front();
    cmd.reqs.push_back(std::move(r));
  }
  impl_->queued().fetch_add(spec->n);
  impl_->post(std::move(cmd));
  return stream;
}

void Scheduler::abort(const std::string& rid) { impl_->post(CmdAbort{rid}); }
void Scheduler::flush_cache(std::function<void(bool)> done) { impl_->post(CmdFlush{std::move(done)}); }
void Scheduler::run_exclusive(std::function<Status()> task, std::function<void(Status)> done) {
  impl_->post(CmdExclusive{std::move(task), std::move(done)});
}
void Scheduler::drop_lora(uint64_t uid, std::function<void()> done) {
  impl_->post(CmdDropLora{uid, std::move(done)});
}
void Scheduler::pause() { impl_->post(CmdPause{true}); }
void Scheduler::resume() { impl_->post(CmdPause{false}); }
void Scheduler::shutdown() {
  if (impl_) impl_->stop();
}
const SchedulerLimits& Scheduler::limits() const { return impl_->limits(); }
SchedulerStats Scheduler::stats() const { return impl_->stats(); }
const SchedulerHistograms& Scheduler::histograms() const { return impl_->histograms(); }

}  // namespace sgl::sched
