// The scheduler's EAGLE3 steps (SchedulerImpl members kept apart from the plain scheduler):
//  - after every prefill forward (chunk), the draft extends over the chunk's positions with the
//    target's captured hidden states;
//  - a decode step is one speculative round for every running request: KV slots for the tree,
//    draft + verify + draft extend (EagleWorker), then the accepted tokens go through the usual
//    append_token path (stop conditions, max_new_tokens, streaming), and the tree's extra pages
//    are given back. Req::kv_len is the length of COMPUTED target KV; a request's pages may cover
//    more (its pending tokens), which release_kv frees as the unaligned tail.
// Runs on the scheduler thread with the overlap pipeline off (nothing else in flight).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "sched/scheduler_impl.h"
#include "sched/spec/spec_runtime.h"

namespace sgl::sched {

void SchedulerImpl::spec_after_prefill(StepRecord& step) {
  if (!step.output || !step.output->ok()) return;
  const engine::StepOutput& out = step.output->value();
  std::vector<spec::EagleWorker::ExtendItem> items;
  int64_t tok = 0;
  for (size_t i = 0; i < step.input.batch.segments.size() && i < step.reqs.size(); ++i) {
    const auto& seg = step.input.batch.segments[i];
    Req& req = *step.reqs[i];
    const int64_t from = seg.prefix_len, to = seg.prefix_len + seg.new_len;
    const int64_t first = tok;
    tok += seg.new_len;
    if (req.done() || to >= static_cast<int64_t>(req.tokens.size())) continue;
    auto& st = spec_->state(&req);
    st.tokens = req.tokens;
    st.seq.tokens = &st.tokens;
    st.seq.slot_table = &req.slot_table;
    st.seq.params = &req.sampling;
    st.seq.committed = to;
    st.ready = to + 1 == static_cast<int64_t>(req.tokens.size());
    if (st.ready) st.seq.rng.seed(req.sampling.seed.value_or(req.arrival) * 0x9e3779b97f4a7c15ull + 1);
    items.push_back({&st.seq, from, to, spec_->worker().gather_aux(out, first, seg.new_len)});
  }
  if (Status s = spec_->worker().draft_extend(items); !s.ok()) {
    spdlog::error("Draft extend failed: {}", s.error().message);
    for (auto& r : step.reqs)
      if (!r->done()) finish(*r, FinishReason{FinishReason::Type::kAbort, {}, {}, 0, s.error().message});
  }
}

bool SchedulerImpl::spec_decode_step() {
  auto& worker = spec_->worker();
  std::vector<std::shared_ptr<Req>> decodes;
  for (auto& r : running_) {
    auto* st = spec_->find(r.get());
    if (!r->done() && static_cast<int64_t>(r->output_ids.size()) < r->max_new_tokens() && st && st->ready)
      decodes.push_back(r);
  }
  if (decodes.empty()) return false;
  // The worker's view of each request's tokens catches up with the outputs of the last round.
  for (auto& r : decodes) spec_->state(r.get()).tokens = r->tokens;
  // Pages for every request's tree; retract (as plain decode does) while they do not fit.
  const int64_t retracted = retract_until_pages_fit(
      decodes,
      [&](const Req& r) -> int64_t {
        const auto& st = spec_->state(&r);
        return std::max<int64_t>(
            0, (worker.slots_needed(st.seq) + ps_ - 1) / ps_ - static_cast<int64_t>(r.pages.size()));
      },
      [&](Req& victim) { spec_->forget(&victim); });
  if (retracted < 0) return false;
  if (retracted > 0) spdlog::info("Decode out of memory happened. #retracted_reqs: {}", retracted);
  std::vector<spec::SpecSeq*> seqs;
  for (auto& r : decodes) {
    auto& st = spec_->state(r.get());
    const int64_t want = worker.slots_needed(st.seq);
    const int64_t pages = (want + ps_ - 1) / ps_ - static_cast<int64_t>(r->pages.size());
    [[maybe_unused]] const bool ok = alloc_pages(pages, r->pages);  // checked above
    fill_slots(*r, r->kv_len, want);
    st.seq.slot_table = &r->slot_table;
    st.seq.lora_slot = r->lora_slot;
    // The row a plain decode step would sample next (schedule_batch's decode row); output_ids are
    // current here because speculation runs with the overlap pipeline off.
    const auto& spec = *r->spec;
    engine::RowSampling& next = st.seq.next_row;
    next = engine::RowSampling{};
    next.params = &r->sampling;
    next.step = r->sampled;
    if (has_penalties(r->sampling)) {
      next.output_ids = &r->output_ids;
      next.prompt_ids = &spec.input_ids;
    }
    next.return_logprob = spec.logprob.return_logprob;
    if (next.return_logprob) {
      next.top_logprobs_num = spec.logprob.top_logprobs_num;
      next.token_ids_logprob = spec.logprob.token_ids_logprob;
    }
    st.seq.min_phase_params = &r->sampling_min_phase;
    st.seq.min_new_tokens = spec.stop.min_new_tokens;
    seqs.push_back(&st.seq);
  }
  auto gained = worker.decode_round(seqs);
  ++decode_steps_;
  if (!gained.ok()) {
    spdlog::error("Speculative round failed: {}", gained.error().message);
    for (auto& r : decodes)
      if (!r->done()) finish(*r, FinishReason{FinishReason::Type::kAbort, {}, {}, 0, gained.error().message});
    return true;
  }
  for (size_t i = 0; i < decodes.size(); ++i) {
    Req& r = *decodes[i];
    auto& st = spec_->state(&r);
    for (int64_t k = 0; k < (*gained)[i] && !r.done(); ++k) {
      ++r.sampled;
      // Stop strings/ids and max_new_tokens cut the accepted run short.
      append_token(r, st.seq.emitted[static_cast<size_t>(k)]);
    }
    r.kv_len = std::min<int64_t>(st.seq.committed, static_cast<int64_t>(r.tokens.size()));
    // Keep pages for the tokens (pending ones included: their draft KV is there); free the rest.
    const int64_t keep = std::max<int64_t>((static_cast<int64_t>(r.tokens.size()) + ps_ - 1) / ps_,
                                           (r.cached_len + ps_ - 1) / ps_);
    while (static_cast<int64_t>(r.pages.size()) > keep) {
      pool_.free(r.pages.back());
      r.pages.pop_back();
    }
    r.slot_table.resize(std::min(r.slot_table.size(), r.pages.size() * static_cast<size_t>(ps_)));
  }
  return true;
}

}  // namespace sgl::sched
