// Building each step: SGLang's prefill adder (budgets, chunking, policy order), mixed chunks,
// decode with page allocation and retraction, and the batch's segments over paged KV.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "sched/schedule_policy.h"
#include "sched/scheduler_impl.h"
#include "sched/spec/spec_runtime.h"

namespace sgl::sched {
namespace {
constexpr int64_t kMaxNewTokensEstimate = 4096;  // SGLang's CLIP_MAX_NEW_TOKENS
}  // namespace

int64_t SchedulerImpl::input_logprob_from(const Req& req) const {
  const auto& lp = req.spec->logprob;
  if (!lp.return_logprob || lp.logprob_start_len < 0 || req.input_logprobs_sent) return -1;
  return std::max<int64_t>(std::min(lp.logprob_start_len, req.prompt_len) - 1, 0);
}

int64_t SchedulerImpl::reserved_decode_tokens() const {
  double r = 0;
  for (const auto& q : running_)
    r += static_cast<double>(std::min(q->max_new_tokens() - q->sampled, kMaxNewTokensEstimate));
  return static_cast<int64_t>(r * new_token_ratio_);
}

bool SchedulerImpl::alloc_pages(int64_t n, std::vector<int32_t>& out) {
  if (n <= 0) return true;
  if (pool_.num_free() < n) radix_.evict(n - pool_.num_free());
  return pool_.alloc(n, out);
}

void SchedulerImpl::fill_slots(Req& req, int64_t from, int64_t to) {
  if (static_cast<size_t>(from) < req.slot_table.size()) ++req.slot_table_version;
  req.slot_table.resize(static_cast<size_t>(from));
  for (int64_t p = from; p < to; ++p)
    req.slot_table.push_back(req.pages[p / ps_] * ps_ + static_cast<int32_t>(p % ps_));
}

bool SchedulerImpl::grow_kv(Req& req, int64_t new_len) {
  const int64_t pages_needed =
      (req.kv_len + new_len + ps_ - 1) / ps_ - static_cast<int64_t>(req.pages.size());
  if (!alloc_pages(pages_needed, req.pages)) return false;
  fill_slots(req, req.kv_len, req.kv_len + new_len);
  req.kv_len += new_len;
  return true;
}

void SchedulerImpl::add_segment(StepRecord& step, const std::shared_ptr<Req>& req, int64_t prefix_len,
                                int64_t new_len, bool sample, int64_t lp_from) {
  auto& b = step.input.batch;
  engine::Segment seg;
  seg.prefix_len = static_cast<int32_t>(prefix_len);
  seg.new_len = static_cast<int32_t>(new_len);
  seg.ntk_alpha = req->ntk_alpha;
  seg.lora_slot = req->lora_slot;
  if (req->spec->input_embeds && seg.prefix_len < req->prompt_len) seg.input_embeds = req->spec->input_embeds;
  if (sample && req->spec->return_hidden_states) b.return_row_hidden = true;
  seg.return_all_hidden =
      req->spec->return_prompt_hidden && !req->first_token_seen && prefix_len < req->prompt_len;
  seg.logits_start = sample ? static_cast<int32_t>(new_len - 1) : -1;
  // Prompt logprobs: rows of positions [lp_from, prompt_len - 1) predict prompt tokens 1.. .
  const int64_t lp_first = lp_from < 0 ? -1 : std::max(lp_from, prefix_len);
  const int64_t lp_end = std::min(prefix_len + new_len, req->prompt_len - 1);
  const bool input_rows = lp_first >= 0 && lp_first < lp_end;
  if (input_rows) seg.logits_start = static_cast<int32_t>(lp_first - prefix_len);
  const int64_t end = prefix_len + new_len;
  seg.slot_offset = step.slot_layout.place(b.kv_slots, req->slot, req->arrival, req->slot_table_version,
                                           req->slot_table, end);
  const int64_t known = static_cast<int64_t>(req->tokens.size());
  for (int64_t p = prefix_len; p < end; ++p) {
    // Overlap: the token sampled by the step still in flight is known only to the engine.
    b.input_ids.push_back(p < known ? req->tokens[p] : engine::placeholder_token(req->slot));
    b.positions.push_back(static_cast<int32_t>(p));
  }
  b.segments.push_back(std::move(seg));
  if (input_rows) {
    const auto& lp = req->spec->logprob;
    for (int64_t p = lp_first; p < lp_end; ++p) {
      engine::RowSampling rs;
      rs.sample = false;
      rs.return_logprob = true;
      rs.top_logprobs_num = lp.top_logprobs_num;
      rs.token_ids_logprob = lp.token_ids_logprob;
      rs.token_ids_logprob.push_back(req->tokens[p + 1]);  // last: the prompt token itself
      step.input.sampling.push_back(std::move(rs));
      step.roles.push_back(RowRole{RowRole::Kind::kInputLogprob, static_cast<int32_t>(step.reqs.size()), p});
    }
  }
  if (sample) {
    const auto& spec = *req->spec;
    engine::RowSampling rs;
    const bool min_phase = req->sampled < spec.stop.min_new_tokens;
    rs.params = min_phase ? &req->sampling_min_phase : &req->sampling;
    rs.req_slot = req->slot;
    rs.step = req->sampled;
    rs.constraint = req->constraint.get();
    if (has_penalties(req->sampling)) {
      auto snap = std::make_shared<std::vector<int32_t>>(req->output_ids);
      rs.output_ids = snap.get();
      rs.prompt_ids = &spec.input_ids;
      const int64_t in_flight = req->sampled - static_cast<int64_t>(req->output_ids.size());
      if (in_flight > 0)
        step.penalty_fixups.push_back({static_cast<int32_t>(step.penalty_snapshots.size()), req->slot,
                                       static_cast<int32_t>(in_flight)});
      step.penalty_snapshots.push_back(std::move(snap));
    }
    rs.return_logprob = spec.logprob.return_logprob;
    if (rs.return_logprob) {
      rs.top_logprobs_num = spec.logprob.top_logprobs_num;
      rs.token_ids_logprob = spec.logprob.token_ids_logprob;
    }
    step.input.sampling.push_back(std::move(rs));
    step.roles.push_back(RowRole{RowRole::Kind::kSample, static_cast<int32_t>(step.reqs.size()), 0});
    ++req->sampled;
  }
  step.reqs.push_back(req);
}

void SchedulerImpl::cache_unfinished(Req& req) {
  if (cfg_.disable_radix_cache || !req.shares_prefix_cache()) return;
  const int64_t aligned = std::min<int64_t>(req.kv_len, static_cast<int64_t>(req.tokens.size())) / ps_ * ps_;
  if (aligned <= req.cached_len) return;
  const auto ins = radix_.insert(req.tokens.data(), aligned, req.pages.data(), req.lora_uid);
  auto m = radix_.match_prefix(req.tokens.data(), ins.end, req.lora_uid);
  // Where the tree already held these tokens our pages are duplicates: use the tree's, free ours.
  for (int64_t i = req.cached_len / ps_; i < m.len / ps_; ++i) {
    if (req.pages[i] != m.pages[i]) {
      ++req.slot_table_version;
      pool_.free(req.pages[i]);
      req.pages[i] = m.pages[i];
      for (int64_t p = i * ps_; p < (i + 1) * ps_; ++p)
        req.slot_table[p] = m.pages[i] * ps_ + static_cast<int32_t>(p % ps_);
    }
  }
  radix_.inc_lock(m.node);
  if (req.last_node) radix_.dec_lock(req.last_node);
  req.last_node = m.node;
  req.cached_len = m.len;
}

bool SchedulerImpl::add_prefills(StepRecord& step, int64_t mixed_decodes) {
  const int64_t chunk_size = limits_.chunked_prefill_size;
  const int64_t avail = pool_.num_free() * ps_ + radix_.evictable_tokens();
  int64_t rem_total = avail - reserved_decode_tokens();
  int64_t rem_input = limits_.max_prefill_tokens - mixed_decodes;
  int64_t rem_chunk = chunk_size > 0 ? chunk_size - mixed_decodes : INT64_MAX;
  int64_t new_seq = 0, new_tokens = 0, cached = 0;
  const size_t running_before = running_.size();
  std::vector<std::shared_ptr<Req>> to_cache;

  if (chunked_) {  // a chunked prompt continues first; nothing else joins it (SGLang-JAX)
    auto r = chunked_;
    const int64_t extend = static_cast<int64_t>(r->tokens.size()) - r->kv_len;
    int64_t take = std::min({extend, rem_chunk, std::max<int64_t>(avail, 0)});
    if (take < extend) take = take / ps_ * ps_;
    if (take <= 0) return false;
    const int64_t prefix = r->kv_len;
    if (!grow_kv(*r, take)) return false;
    end_stage(*r, ReqStage::kChunkedPrefill);
    const bool final = take == extend;
    add_segment(step, r, prefix, take, final, input_logprob_from(*r));
    if (final) {
      chunked_.reset();
      r->state = Req::State::kRunning;
      r->prefill_done = true;
      running_.push_back(r);
    }
    cache_unfinished(*r);
    log_prefill(0, take, 0, running_before);
    return true;
  }
  if (waiting_.empty()) return false;
  order_waiting();
  std::vector<std::shared_ptr<Req>> admitted;
  std::vector<uint64_t> batch_loras;  // adapters of the batch this step's prefills join
  if (lora_.enabled()) batch_loras = live_lora_uids();
  for (const auto& r : waiting_) {
    if (static_cast<int64_t>(running_.size() + admitted.size()) >= limits_.max_running_requests) break;
    if (r->inflight > 0 || r->done() || r->to_abort) continue;
    if (r->first_sibling && !cfg_.disable_radix_cache && !r->first_sibling->prefill_done &&
        !r->first_sibling->done())
      continue;  // n > 1: wait until sample 0 has put the prompt into the cache
    // Multi-LoRA: wait while the batch has no room for its adapter (SGLang skips to the next).
    if (lora_.enabled() && !lora_.can_admit(r->lora_uid, batch_loras)) continue;
    const int64_t len = static_cast<int64_t>(r->tokens.size());
    RadixCache::Match m;
    m.node = radix_.root(r->lora_uid);
    const int64_t lp_from = input_logprob_from(*r);
    // Prompt positions whose logprobs are wanted must be computed, not served from the cache.
    const int64_t match_limit = lp_from >= 0 ? std::min(len - 1, lp_from) : len - 1;
    if (!cfg_.disable_radix_cache && r->shares_prefix_cache())
      m = radix_.match_prefix(r->tokens.data(), match_limit, r->lora_uid);
    const int64_t extend = len - m.len;
    const int64_t out_reserve = std::min(r->max_new_tokens() - r->sampled, kMaxNewTokensEstimate);
    if (extend + out_reserve > rem_total && !(running_.empty() && admitted.empty())) break;
    if (chunk_size <= 0 && (extend + ps_ - 1) / ps_ * ps_ > rem_input && !admitted.empty()) break;
    int64_t take = extend;
    if (extend > rem_chunk) {
      take = rem_chunk / ps_ * ps_;
      if (take <= 0) break;
    }
    radix_.inc_lock(m.node);
    r->pages = m.pages;
    r->kv_len = r->cached_len = m.len;
    r->last_node = m.node;
    fill_slots(*r, 0, m.len);
    if (!grow_kv(*r, take)) {  // the pool cannot back it even after eviction: try next step
      radix_.dec_lock(m.node);
      r->pages.clear();
      r->slot_table.clear();
      ++r->slot_table_version;
      r->kv_len = r->cached_len = 0;
      r->last_node = nullptr;
      break;
    }
    r->slot = take_slot();
    if (lora_.enabled()) {
      r->lora_slot = lora_.acquire(r->spec->lora, step.input.lora_loads);
      batch_loras.push_back(r->lora_uid);
    }
    if (!r->admitted_once) {
      r->admitted_once = true;
      r->cached_tokens = m.len;
      prompt_tokens_ += r->prompt_len;
      cached_prompt_tokens_ += m.len;
      queued_.fetch_sub(1);
      const auto now = std::chrono::steady_clock::now();
      hist_->queue_time.observe(std::chrono::duration<double>(now - r->submitted).count());
      end_stage(*r, ReqStage::kPrefillWaiting);
    }
    const bool final = take == extend;
    add_segment(step, r, m.len, take, final, lp_from);
    admitted.push_back(r);
    to_cache.push_back(r);
    ++new_seq;
    new_tokens += take;
    cached += m.len;
    rem_total -= take + (final ? out_reserve : 0);
    rem_input -= take;
    rem_chunk -= take;
    if (final) {
      r->state = Req::State::kRunning;
    } else {
      r->state = Req::State::kPrefilling;
      chunked_ = r;
      break;
    }
    if (rem_input <= 0 || rem_chunk <= 0) break;
  }
  if (admitted.empty()) return false;
  std::erase_if(waiting_, [&](const std::shared_ptr<Req>& r) {
    return std::find(admitted.begin(), admitted.end(), r) != admitted.end();
  });
  for (auto& r : admitted)
    if (r->state == Req::State::kRunning) running_.push_back(r);
  // After the whole batch is built: freeing duplicate pages earlier could hand them to a later
  // segment of this same forward.
  for (auto& r : to_cache) {
    cache_unfinished(*r);
    // Set only now so that n > 1 siblings are admitted by a later step, matching the cached prompt.
    if (r->state == Req::State::kRunning) r->prefill_done = true;
  }
  log_prefill(new_seq, new_tokens, cached, running_before);
  return true;
}

std::vector<uint64_t> SchedulerImpl::live_lora_uids() const {
  std::vector<uint64_t> uids;
  for (const auto& r : running_)
    if (!r->done()) uids.push_back(r->lora_uid);
  if (chunked_) uids.push_back(chunked_->lora_uid);
  return uids;
}

void SchedulerImpl::end_stage(Req& req, ReqStage stage) {
  const auto now = std::chrono::steady_clock::now();
  hist_->stage[static_cast<size_t>(stage)].observe(
      std::chrono::duration<double>(now - req.stage_start).count());
  req.stage_start = now;
}

void SchedulerImpl::retract(const std::shared_ptr<Req>& req) {
  release_kv(*req, /*insert=*/true);  // its prefix stays in the radix cache
  req->state = Req::State::kWaiting;
  std::erase(running_, req);
  waiting_.push_back(req);
  ++num_retractions_;
}

int64_t SchedulerImpl::retract_until_pages_fit(std::vector<std::shared_ptr<Req>>& decodes,
                                               const std::function<int64_t(const Req&)>& pages_needed,
                                               const std::function<void(Req&)>& before_retract) {
  int64_t retracted = 0;
  for (;;) {
    int64_t need = 0;
    for (auto& r : decodes) need += pages_needed(*r);
    if (need > pool_.num_free()) radix_.evict(need - pool_.num_free());
    if (need <= pool_.num_free()) return retracted;
    if (decodes.size() <= 1) {
      for (auto& r : decodes)
        finish(*r, FinishReason{
                       FinishReason::Type::kAbort, {}, {}, 0, "Out of memory: the KV pool cannot hold it."});
      decodes.clear();
      return -1;
    }
    // SGLang: keep the requests that have generated most (and have the shortest prompts).
    std::stable_sort(decodes.begin(), decodes.end(), [](const auto& a, const auto& b) {
      if (a->sampled != b->sampled) return a->sampled > b->sampled;
      return a->prompt_len < b->prompt_len;
    });
    auto victim = decodes.back();
    decodes.pop_back();
    if (before_retract) before_retract(*victim);
    ++victim->retractions;
    ++oom_retracted_;
    ++retracted_window_;
    oom_retracted_input_ += victim->prompt_len;
    oom_retracted_output_ += static_cast<int64_t>(victim->output_ids.size());
    retract(victim);
    ++retracted;
  }
}

bool SchedulerImpl::prepare_decodes(std::vector<std::shared_ptr<Req>>& decodes,
                                    const std::vector<std::shared_ptr<Req>>& exclude) {
  decodes.clear();
  for (auto& r : running_)
    if (!r->done() && r->sampled < r->max_new_tokens() &&
        std::find(exclude.begin(), exclude.end(), r) == exclude.end())
      decodes.push_back(r);
  const int64_t retracted =
      retract_until_pages_fit(decodes, [&](const Req& r) -> int64_t { return r.kv_len % ps_ == 0 ? 1 : 0; });
  if (retracted < 0) return false;
  if (retracted > 0) {
    const double old = new_token_ratio_;
    double gen = 0, max_new = 0;
    for (auto& r : running_) {
      gen += static_cast<double>(r->sampled);
      max_new += static_cast<double>(r->max_new_tokens());
    }
    new_token_ratio_ = std::min(1.0, (gen + 20.0 * static_cast<double>(running_.size())) / (max_new + 1.0));
    spdlog::info("Decode out of memory happened. #retracted_reqs: {}, #new_token_ratio: {:.4f} -> {:.4f}",
                 retracted, old, new_token_ratio_);
  } else {
    new_token_ratio_ = std::max(new_token_ratio_ - ratio_decay_, min_ratio_);
  }
  for (auto& r : decodes) {
    [[maybe_unused]] const bool ok = grow_kv(*r, 1);  // pages were checked above
  }
  return !decodes.empty();
}

std::unique_ptr<StepRecord> SchedulerImpl::schedule_step() {
  std::unique_ptr<StepRecord> step;
  if (!spare_steps_.empty()) {  // reuse a processed record: its buffers keep their capacity
    step = std::move(spare_steps_.back());
    spare_steps_.pop_back();
  } else {
    step = std::make_unique<StepRecord>();
  }
  // Slots emptied since the last step (unloaded adapters) go first, before any slot is refilled.
  lora_.take_pending(step->input.lora_loads);
  // Incremental kv_slots except under speculation, whose hooks rewrite slot tables themselves.
  step->slot_layout.begin(step->input.batch.kv_slots, /*incremental=*/!spec_);
  step->input.batch.trace_precision = cfg_.precision_tracer && cfg_.precision_tracer->wants_stats();
  // Every step, whoever asks: a later request may take these tokens' KV from the radix cache.
  step->input.batch.capture_routed_experts = routed_.enabled();
  const bool admitting = !paused_ && exclusive_.empty();
  const bool mixed = cfg_.enable_mixed_chunk && limits_.chunked_prefill_size > 0;
  int64_t mixed_decodes = 0;
  if (mixed)
    for (auto& r : running_) mixed_decodes += (!r->done() && r->sampled < r->max_new_tokens()) ? 1 : 0;
  const bool prefill = (admitting || chunked_) && add_prefills(*step, mixed_decodes);
  step->is_prefill = prefill;
  if (prefill && spec_) step->input.batch.capture_hidden_layers = spec_->capture_layers();
  if (prefill && !mixed) return step;  // prefill has priority over decode (SGLang)
  if (spec_) {                         // decode = one EAGLE3 round, run right here (spec/scheduler_hooks.cpp)
    lora_.restore_pending(step->input.lora_loads);
    spec_decode_step();
    spare_steps_.push_back(std::move(step));
    return nullptr;
  }
  std::vector<std::shared_ptr<Req>> decodes;
  if (!running_.empty()) {
    // A request admitted by this very step's prefill is not decoded in it.
    std::vector<std::shared_ptr<Req>> fresh;
    if (prefill) {
      for (auto& r : step->reqs) fresh.push_back(r);
    }
    if (prepare_decodes(decodes, fresh)) {
      for (auto& r : decodes) add_segment(*step, r, r->kv_len - 1, 1, true);
      ++decode_steps_;
    }
  }
  if (step->input.batch.segments.empty()) {
    lora_.restore_pending(step->input.lora_loads);  // only drops: acquisitions come with segments
    spare_steps_.push_back(std::move(step));
    return nullptr;
  }
  return step;
}

}  // namespace sgl::sched
