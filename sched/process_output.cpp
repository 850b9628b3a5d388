// Turning step results into output chunks: stop checks, finishing, freeing KV into the radix
// cache, and the stats/log lines.
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <utility>

#include "base/trace.h"
#include "sched/scheduler_impl.h"
#include "sched/spec/spec_runtime.h"

namespace sgl::sched {
namespace {
bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
}  // namespace

void SchedulerImpl::process(StepRecord& step) {
  if (!step.output->ok()) {
    const auto& err = step.output->error();
    spdlog::error("Forward failed: {}", err.message);
    for (auto& r : step.reqs)
      if (!r->done()) finish(*r, FinishReason{FinishReason::Type::kAbort, {}, {}, 0, err.message});
    return;
  }
  if (const auto& stats = step.output->value().tensor_stats; !stats.empty() && cfg_.precision_tracer) {
    std::vector<PrecisionTracer::Segment> segs;
    const auto& bsegs = step.input.batch.segments;
    for (size_t i = 0; i < step.reqs.size() && i < bsegs.size(); ++i)
      segs.push_back(
          {&step.reqs[i]->rid, bsegs[i].prefix_len, &step.reqs[i]->tokens, step.reqs[i]->prompt_len});
    cfg_.precision_tracer->on_step(step.is_prefill, segs, stats);
  }
  if (routed_.enabled()) routed_.record(step.input.batch, step.output->value().routed_experts);
  for (const auto& [seg, data] : step.output->value().segment_hidden) {
    // A prompt's rows, kept by position: a chunk redone after a retraction overwrites its own.
    auto& req = *step.reqs[static_cast<size_t>(seg)];
    const auto& bseg = step.input.batch.segments[static_cast<size_t>(seg)];
    if (req.first_token_seen || bseg.new_len <= 0) continue;
    const size_t h = data.size() / static_cast<size_t>(bseg.new_len);
    req.prompt_hidden.resize(static_cast<size_t>(req.prompt_len));
    for (int32_t i = 0; i < bseg.new_len && bseg.prefix_len + i < req.prompt_len; ++i)
      req.prompt_hidden[static_cast<size_t>(bseg.prefix_len + i)].assign(data.begin() + i * h,
                                                                         data.begin() + (i + 1) * h);
  }
  const auto& rows = step.output->value().rows;
  for (size_t i = 0; i < step.roles.size() && i < rows.size(); ++i) {
    const auto& role = step.roles[i];
    auto& req = step.reqs[static_cast<size_t>(role.req)];
    // A request that finished at the previous step was already in this one (overlap): the extra
    // token is dropped, as SGLang does.
    if (req->done()) continue;
    if (role.kind == RowRole::Kind::kInputLogprob) {
      const auto& row = rows[i];
      PositionLogprobs lp;
      lp.token = req->tokens[static_cast<size_t>(role.position) + 1];
      lp.top = row.top;
      lp.requested = row.requested;
      if (!lp.requested.empty()) {
        lp.logprob = lp.requested.back().logprob;
        lp.requested.pop_back();
      }
      req->input_logprobs.push_back(std::move(lp));
      continue;
    }
    append_token(*req, rows[i]);
  }
}

namespace {
// The first chunk carries the prompt logprobs (SGLang: the first prompt token has none).
void attach_input_logprobs(Req& req, OutputChunk& c) {
  const auto& lp = req.spec->logprob;
  if (req.input_logprobs_sent || !lp.return_logprob || lp.logprob_start_len < 0) return;
  req.input_logprobs_sent = true;
  if (lp.logprob_start_len == 0)
    c.input_logprobs.push_back(PositionLogprobs{req.spec->input_ids[0], {}, {}, {}});
  for (auto& p : req.input_logprobs) c.input_logprobs.push_back(std::move(p));
  req.input_logprobs.clear();
}
}  // namespace

void SchedulerImpl::append_token(Req& req, const engine::RowResult& row) {
  const auto& spec = *req.spec;
  const int32_t tok = row.token;
  req.output_ids.push_back(tok);
  req.tokens.push_back(tok);
  ++generated_;
  ++interval_tokens_;
  if (!req.first_token_seen) {
    req.first_token_seen = true;
    ++first_tokens_;
    end_stage(req, ReqStage::kPrefillForward);
  }
  if (spec.logprob.return_logprob)
    req.pending_logprobs.push_back(PositionLogprobs{tok, row.logprob, row.top, row.requested});
  if (spec.return_hidden_states && spec.return_prompt_hidden && req.output_ids.size() == 1) {
    // The first token's state is the prompt block's last row: the block goes instead.
    for (auto& r : req.prompt_hidden)
      if (!r.empty()) req.pending_prompt_hidden.push_back(std::move(r));
    req.prompt_hidden.clear();
  } else if (spec.return_hidden_states) {
    req.pending_hidden.push_back(row.hidden);
  }
  const auto& stop = spec.stop;
  const int64_t n = static_cast<int64_t>(req.output_ids.size());
  std::optional<FinishReason> fin;
  if (n >= stop.max_new_tokens) {
    fin = FinishReason{FinishReason::Type::kLength, {}, {}, stop.max_new_tokens, {}};
  } else if (req.constraint && contains(req.constraint_stop_ids, tok)) {
    fin = FinishReason{FinishReason::Type::kStop, tok, {}, 0, {}};  // the constrained text is complete
  } else if (n >= stop.min_new_tokens) {
    if ((!stop.ignore_eos && contains(eos_ids_, tok)) || contains(stop.stop_token_ids, tok)) {
      fin = FinishReason{FinishReason::Type::kStop, tok, {}, 0, {}};
    } else if (stop.stop_strings) {
      if (auto s = stop.stop_strings->check(req.output_ids, 1))
        fin = FinishReason{FinishReason::Type::kStop, {}, std::move(*s), 0, {}};
    }
  }
  if (fin) {
    finish(req, std::move(*fin));
    return;
  }
  OutputChunk c;
  c.index = req.index;
  c.token_ids.assign(req.output_ids.begin() + req.sent, req.output_ids.end());
  c.output_logprobs = std::move(req.pending_logprobs);
  req.pending_logprobs.clear();
  c.hidden_states = std::move(req.pending_hidden);
  req.pending_hidden.clear();
  c.prompt_hidden = std::move(req.pending_prompt_hidden);
  req.pending_prompt_hidden.clear();
  c.prompt_tokens = req.prompt_len;
  c.completion_tokens = n;
  c.cached_tokens = req.cached_tokens;
  attach_input_logprobs(req, c);
  req.sent = n;
  req.stream->push(std::move(c));
}

void SchedulerImpl::finish(Req& req, FinishReason reason) {
  if (req.done()) return;
  const bool aborted = reason.type == FinishReason::Type::kAbort;
  OutputChunk c;
  c.index = req.index;
  c.token_ids.assign(req.output_ids.begin() + req.sent, req.output_ids.end());
  c.output_logprobs = std::move(req.pending_logprobs);
  req.pending_logprobs.clear();
  c.hidden_states = std::move(req.pending_hidden);
  req.pending_hidden.clear();
  c.prompt_hidden = std::move(req.pending_prompt_hidden);
  req.pending_prompt_hidden.clear();
  c.prompt_tokens = req.prompt_len;
  c.completion_tokens = static_cast<int64_t>(req.output_ids.size());
  c.cached_tokens = req.cached_tokens;
  c.finish = reason;
  if (reason.type != FinishReason::Type::kAbort) attach_input_logprobs(req, c);
  if (req.spec->return_routed_experts && routed_.enabled()) {
    // SGLang's rows: every position whose KV was computed, the last sampled token's excepted.
    const int64_t seqlen = req.prompt_len + static_cast<int64_t>(req.output_ids.size());
    const int64_t end = std::min(seqlen - 1, req.kv_len);
    c.routed_experts = routed_.gather(req.slot_table, std::min(req.spec->routed_experts_start_len, end), end);
  }
  req.sent = c.completion_tokens;
  if (trace::recording())
    trace::async_end("request", req.rid, reinterpret_cast<uintptr_t>(&req),
                     trace::Args()
                         .add("finish", aborted ? "abort" : "done")
                         .add("completion_tokens", c.completion_tokens)
                         .add("cached_tokens", c.cached_tokens));
  if (cfg_.precision_tracer) cfg_.precision_tracer->on_finish(req.rid);
  req.finish = std::move(reason);
  req.state = Req::State::kDone;
  if (!req.admitted_once) queued_.fetch_sub(1);
  ++(aborted ? aborted_ : finished_);
  if (req.first_token_seen && !aborted) end_stage(req, ReqStage::kDecodeLoop);
  hist_->num_retractions.observe(req.retractions);

  std::shared_ptr<Req> self;
  auto drop = [&](std::vector<std::shared_ptr<Req>>& v) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it->get() == &req) {
        self = *it;
        v.erase(it);
        return;
      }
    }
  };
  drop(waiting_);
  drop(running_);
  if (chunked_.get() == &req) {
    self = chunked_;
    chunked_.reset();
  }
  if (auto it = by_rid_.find(req.rid); it != by_rid_.end()) {
    if (!self) {
      for (auto& r : it->second)
        if (r.get() == &req) self = r;
    }
    std::erase_if(it->second, [&](const auto& r) { return r.get() == &req; });
    if (it->second.empty()) by_rid_.erase(it);
  }
  req.stream->push(std::move(c));
  if (self) releasing_.push_back(std::move(self));  // freed once no step in flight uses it
}

void SchedulerImpl::release_if_idle(const std::shared_ptr<Req>& req) {
  if (req->inflight == 0) release_kv(*req, /*insert=*/true);
}

void SchedulerImpl::release_kv(Req& req, bool insert) {
  const int64_t np = static_cast<int64_t>(req.pages.size());
  if (!cfg_.disable_radix_cache && insert && np > 0 && req.shares_prefix_cache()) {
    const int64_t committed =
        std::min<int64_t>(req.kv_len, static_cast<int64_t>(req.tokens.size())) / ps_ * ps_;
    const auto ins = radix_.insert(req.tokens.data(), committed, req.pages.data(), req.lora_uid);
    for (int64_t i = req.cached_len / ps_; i < ins.existing / ps_; ++i)
      pool_.free(req.pages[i]);                                             // duplicates
    for (int64_t i = ins.end / ps_; i < np; ++i) pool_.free(req.pages[i]);  // unaligned tail
  } else {
    for (int64_t i = req.cached_len / ps_; i < np; ++i) pool_.free(req.pages[i]);
  }
  if (req.last_node) radix_.dec_lock(req.last_node);
  if (spec_) spec_->forget(&req);
  req.pages.clear();
  req.slot_table.clear();
  ++req.slot_table_version;
  req.kv_len = req.cached_len = 0;
  req.last_node = nullptr;
  if (req.slot >= 0) free_slots_.push_back(req.slot);
  req.slot = -1;
  lora_.release(req.lora_slot);
  req.lora_slot = -1;
}

void SchedulerImpl::sweep_aborts() {
  std::vector<std::shared_ptr<Req>> victims;
  for (auto& r : waiting_)
    if (r->to_abort) victims.push_back(r);
  for (auto& r : running_)
    if (r->to_abort) victims.push_back(r);
  if (chunked_ && chunked_->to_abort) victims.push_back(chunked_);
  for (auto& r : victims) finish(*r, FinishReason{FinishReason::Type::kAbort, {}, {}, 0, r->abort_message});
}

void SchedulerImpl::log_prefill(int64_t new_seq, int64_t new_tokens, int64_t cached_tokens,
                                size_t running_before) {
  const double usage = 1.0 - static_cast<double>(pool_.num_free() * ps_ + radix_.evictable_tokens()) /
                                 static_cast<double>(limits_.max_total_num_tokens);
  prefill_compute_tokens_ += new_tokens;
  prefill_cache_tokens_ += cached_tokens;
  roll_log_window();
  spdlog::info(  // every prefill batch, as SGLang logs it
      "Prefill batch. #new-seq: {}, #new-token: {}, #cached-token: {}, token usage: {:.2f}, "
      "#running-req: {}, #queue-req: {}",
      new_seq, new_tokens, cached_tokens, usage, running_before, waiting_.size());
}

void SchedulerImpl::roll_log_window() {
  retracted_gauge_ = std::exchange(retracted_window_, 0);
  paused_gauge_ = std::exchange(paused_window_, 0);
}

void SchedulerImpl::publish_stats(bool) {
  SchedulerStats s;
  s.num_running_reqs = static_cast<int64_t>(running_.size()) + (chunked_ ? 1 : 0);
  s.num_queue_reqs = static_cast<int64_t>(waiting_.size());
  s.num_free_pages = pool_.num_free();
  s.num_total_pages = pool_.num_pages();
  s.radix_evictable_tokens = radix_.evictable_tokens();
  s.radix_protected_tokens = radix_.protected_tokens();
  s.radix_locked_nodes = radix_.locked_nodes();
  s.num_used_tokens = (pool_.num_pages() - pool_.num_free()) * ps_ - radix_.evictable_tokens();
  s.token_usage = static_cast<double>(s.num_used_tokens) / static_cast<double>(limits_.max_total_num_tokens);
  s.cache_hit_rate = prompt_tokens_ > 0 ? static_cast<double>(cached_prompt_tokens_) / prompt_tokens_ : 0.0;
  s.num_retractions = num_retractions_;
  s.num_steps = num_steps_;
  s.num_generated_tokens = generated_;
  s.num_prompt_tokens = prompt_tokens_;
  s.num_cached_tokens = cached_prompt_tokens_;
  s.num_finished_reqs = finished_;
  s.num_aborted_reqs = aborted_;
  s.new_token_ratio = new_token_ratio_;
  s.idle = running_.empty() && waiting_.empty() && !chunked_ && pending_steps_ == 0 && releasing_.empty();
  const int interval = std::max(1, cfg_.decode_log_interval);
  if (decode_steps_ > 0 && decode_steps_ % interval == 0 && decode_steps_ != last_logged_decode_step_) {
    last_logged_decode_step_ = decode_steps_;
    const auto now = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(now - interval_start_).count();
    last_throughput_ = secs > 0 ? static_cast<double>(interval_tokens_) / secs : 0.0;
    roll_log_window();
    interval_tokens_ = 0;
    interval_start_ = now;
    // EAGLE3: SGLang adds the average accept length after the token usage.
    const std::string accept = spec_ ? fmt::format("accept len: {:.2f}, ", spec_->avg_accept_length()) : "";
    spdlog::info(
        "Decode batch. #running-req: {}, #token: {}, token usage: {:.2f}, {}cache hit rate: {:.2f}%, "
        "gen throughput (token/s): {:.2f}, #queue-req: {}",
        s.num_running_reqs, s.num_used_tokens, s.token_usage, accept, s.cache_hit_rate * 100.0,
        last_throughput_, s.num_queue_reqs);
  }
  s.gen_throughput = last_throughput_;
  if (spec_) s.avg_spec_accept_length = spec_->avg_accept_length();
  s.lora_slots_total = lora_.num_slots();
  s.lora_slots_used = lora_.used();
  s.lora_slot_loads = lora_.loads();
  s.lora_evictions = lora_.evictions();
  s.max_total_num_tokens = limits_.max_total_num_tokens;
  for (const auto& r : running_)
    if (!r->done()) s.decode_sum_seq_lens += static_cast<int64_t>(r->tokens.size());
  if (spec_) s.spec_accept_rate = spec_->accept_rate();
  s.num_retracted_reqs = retracted_gauge_;
  s.num_paused_reqs = paused_gauge_;
  s.num_retracted_reqs_total = oom_retracted_;
  s.num_retracted_input_tokens = oom_retracted_input_;
  s.num_retracted_output_tokens = oom_retracted_output_;
  s.num_decode_passes = decode_steps_;
  s.num_prefill_compute_tokens = prefill_compute_tokens_;
  s.num_prefill_cache_tokens = prefill_cache_tokens_;
  s.num_decode_tokens = generated_ - first_tokens_;
  timespec ts{};
  if (std::this_thread::get_id() == thread_.get_id() && clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    cpu_seconds_ = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  s.scheduler_cpu_seconds = cpu_seconds_;
  s.forward_seconds = worker_.forward_seconds();
  s.forward_gap_seconds = worker_.gap_seconds();
  std::lock_guard<std::mutex> lk(stats_mu_);
  stats_ = s;
}

}  // namespace sgl::sched
