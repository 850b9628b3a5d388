#include "sched/spec/batch_generator.h"

#include <algorithm>
#include <random>

namespace sgl::sched::spec {

struct BatchGenerator::Seq {
  const GenRequest* req = nullptr;
  std::vector<int32_t> tokens;
  std::vector<int32_t> pages, slots;
  SpecSeq spec;
  GenResult result;
  int64_t prompt_len = 0;
  bool done() const { return static_cast<int64_t>(tokens.size()) - prompt_len >= req->max_new_tokens; }
};

BatchGenerator::BatchGenerator(engine::ModelRunner& target, int page_size, int64_t num_slots)
    : target_(target), ps_(page_size) {
  // Pages in a scrambled (but fixed) order: consecutive positions rarely get consecutive slots.
  const int64_t pages = num_slots / page_size;
  for (int64_t i = 0; i < pages; ++i) free_pages_.push_back(static_cast<int32_t>(i));
  std::shuffle(free_pages_.begin(), free_pages_.end(), std::mt19937(1));
}

Result<std::unique_ptr<BatchGenerator>> BatchGenerator::create(engine::ModelRunner& target,
                                                               engine::spec::Eagle3Draft* draft,
                                                               SpecConfig cfg, int page_size,
                                                               int64_t num_slots) {
  SGL_TRY(validate(cfg));
  num_slots = num_slots / page_size * page_size;
  SGL_TRY(target.init_kv_cache(num_slots, page_size));
  std::unique_ptr<BatchGenerator> g(new BatchGenerator(target, page_size, num_slots));
  if (draft != nullptr) {
    SGL_TRY(draft->init_kv(num_slots, 0));
    g->worker_ = std::make_unique<EagleWorker>(target, *draft, cfg);
  }
  return g;
}

bool BatchGenerator::ensure(Seq& s, int64_t positions) {
  const int64_t pages = (positions + ps_ - 1) / ps_;
  while (static_cast<int64_t>(s.pages.size()) < pages) {
    if (free_pages_.empty()) return false;
    s.pages.push_back(free_pages_.back());
    free_pages_.pop_back();
  }
  s.slots.resize(static_cast<size_t>(s.pages.size()) * ps_);
  for (size_t p = 0; p < s.slots.size(); ++p)
    s.slots[p] = s.pages[p / ps_] * ps_ + static_cast<int32_t>(p % ps_);
  return true;
}

void BatchGenerator::shrink(Seq& s, int64_t positions) {
  const int64_t pages = (positions + ps_ - 1) / ps_;
  while (static_cast<int64_t>(s.pages.size()) > pages) {
    free_pages_.push_back(s.pages.back());
    s.pages.pop_back();
  }
  s.slots.resize(s.pages.size() * static_cast<size_t>(ps_));
}

Result<std::vector<GenResult>> BatchGenerator::generate(const std::vector<GenRequest>& reqs) {
  std::vector<Seq> seqs(reqs.size());
  engine::StepInput pre;
  if (worker_) pre.batch.capture_hidden_layers = worker_->capture_layers();
  std::vector<int64_t> tok0(reqs.size());
  int64_t tok = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    Seq& s = seqs[i];
    s.req = &reqs[i];
    s.tokens = reqs[i].prompt;
    s.prompt_len = static_cast<int64_t>(s.tokens.size());
    if (!ensure(s, s.prompt_len))
      return Error{ErrorCode::kResourceExhausted, "KV pool too small for the prompts"};
    engine::Segment seg;
    seg.new_len = static_cast<int32_t>(s.prompt_len);
    seg.slot_offset = static_cast<int64_t>(pre.batch.kv_slots.size());
    seg.logits_start = seg.new_len - 1;
    pre.batch.kv_slots.insert(pre.batch.kv_slots.end(), s.slots.begin(), s.slots.begin() + s.prompt_len);
    for (int64_t p = 0; p < s.prompt_len; ++p) {
      pre.batch.input_ids.push_back(s.tokens[p]);
      pre.batch.positions.push_back(static_cast<int32_t>(p));
    }
    pre.batch.segments.push_back(std::move(seg));
    engine::RowSampling rs;
    rs.params = &reqs[i].params;
    pre.sampling.push_back(rs);
    tok0[i] = tok;
    tok += s.prompt_len;
  }
  SGL_ASSIGN_OR_RETURN(engine::StepOutput out, target_.step(pre));
  std::vector<EagleWorker::ExtendItem> extend;
  for (size_t i = 0; i < seqs.size(); ++i) {
    Seq& s = seqs[i];
    s.tokens.push_back(out.rows[i].token);
    s.spec.tokens = &s.tokens;
    s.spec.slot_table = &s.slots;
    s.spec.params = &reqs[i].params;
    s.spec.committed = s.prompt_len;
    s.spec.rng.seed(reqs[i].params.seed.value_or(i) * 0x9e3779b97f4a7c15ull + 1);
    if (worker_)
      extend.push_back({&s.spec, 0, s.prompt_len, worker_->gather_aux(out, tok0[i], s.prompt_len)});
  }
  if (worker_) SGL_TRY(worker_->draft_extend(extend));

  for (;;) {
    std::vector<Seq*> active;
    for (auto& s : seqs)
      if (!s.done()) active.push_back(&s);
    if (active.empty()) break;
    if (worker_) {
      std::vector<SpecSeq*> batch;
      for (Seq* s : active) {
        if (!ensure(*s, worker_->slots_needed(s->spec)))
          return Error{ErrorCode::kResourceExhausted, "KV pool too small"};
        batch.push_back(&s->spec);
      }
      SGL_ASSIGN_OR_RETURN(std::vector<int32_t> gained, worker_->decode_round(batch));
      for (size_t i = 0; i < active.size(); ++i) {
        active[i]->result.accept_lengths.push_back(gained[i]);
        shrink(*active[i], static_cast<int64_t>(active[i]->tokens.size()));
      }
    } else {
      engine::StepInput in;
      for (Seq* s : active) {
        const auto t = static_cast<int64_t>(s->tokens.size());
        if (!ensure(*s, t)) return Error{ErrorCode::kResourceExhausted, "KV pool too small"};
        engine::Segment seg;
        seg.prefix_len = static_cast<int32_t>(t - 1);
        seg.new_len = 1;
        seg.slot_offset = static_cast<int64_t>(in.batch.kv_slots.size());
        seg.logits_start = 0;
        in.batch.kv_slots.insert(in.batch.kv_slots.end(), s->slots.begin(), s->slots.begin() + t);
        in.batch.input_ids.push_back(s->tokens.back());
        in.batch.positions.push_back(static_cast<int32_t>(t - 1));
        in.batch.segments.push_back(std::move(seg));
        engine::RowSampling rs;
        rs.params = &s->req->params;
        rs.step = t - s->prompt_len;
        in.sampling.push_back(rs);
      }
      SGL_ASSIGN_OR_RETURN(engine::StepOutput o, target_.step(in));
      for (size_t i = 0; i < active.size(); ++i) active[i]->tokens.push_back(o.rows[i].token);
    }
  }
  std::vector<GenResult> results;
  for (auto& s : seqs) {
    s.result.output.assign(s.tokens.begin() + s.prompt_len,
                           s.tokens.begin() + s.prompt_len + s.req->max_new_tokens);
    results.push_back(std::move(s.result));
    shrink(s, 0);
  }
  return results;
}

}  // namespace sgl::sched::spec
