#include "sched/spec/eagle_worker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>

#include "engine/cpu/kernels.h"
#include "engine/cpu/simd.h"
#include "engine/sampling.h"
#include "sched/spec/draft_tree.h"
#include "sched/spec/tree_verify.h"

namespace sgl::sched::spec {

namespace {

bool is_greedy(const engine::SamplingParams* p) { return p == nullptr || p->greedy(); }

// The row plain decoding would sample after tree node j (see SpecSeq::next_row). Output-id lists
// that include the path's tokens live in `storage` (stable addresses) until the round ends.
engine::RowSampling node_row(const SpecSeq& seq, const DraftTree& tree, int j,
                             std::deque<std::vector<int32_t>>& storage) {
  engine::RowSampling rs = seq.next_row;
  if (rs.params == nullptr) rs.params = seq.params;
  rs.req_slot = -1;
  rs.step = seq.next_row.step + tree.depth[j];
  if (seq.min_phase_params != nullptr && rs.step < seq.min_new_tokens) rs.params = seq.min_phase_params;
  if (tree.depth[j] > 0 && rs.output_ids != nullptr) {
    auto& ids = storage.emplace_back(*rs.output_ids);
    const auto anc = tree.ancestors(j);
    for (size_t a = 1; a < anc.size(); ++a) ids.push_back(tree.tokens[anc[a]]);
    ids.push_back(tree.tokens[j]);
    rs.output_ids = &ids;
  }
  return rs;
}

}  // namespace

std::vector<float> EagleWorker::gather_aux(const engine::StepOutput& out, int64_t tok0, int64_t count) const {
  const int64_t h = draft_.config().target_hidden_size;
  std::vector<float> dst;
  dst.reserve(static_cast<size_t>(count * h * static_cast<int64_t>(out.hidden_states.size())));
  for (int64_t t = tok0; t < tok0 + count; ++t)
    for (const auto& layer : out.hidden_states)
      dst.insert(dst.end(), layer.begin() + t * h, layer.begin() + (t + 1) * h);
  return dst;
}

struct EagleWorker::Drafted {
  DraftTree tree;
};

engine::spec::Eagle3Draft::Output EagleWorker::draft_forward(const engine::ForwardBatch& b,
                                                             const float* hidden, int64_t width) {
  // A round's draft forward is a handful of tokens through one small layer: its parallel regions
  // are too short to pay for waking the other cores, so it runs on this thread alone. The extend
  // over a prompt (or a large batch) has GEMMs worth splitting.
  constexpr int64_t kSerialTokens = 16;
  if (b.num_tokens() > kSerialTokens) return draft_.forward(b, hidden, width);
  engine::spec::Eagle3Draft::Output out;
  single_thread_.execute([&] { out = draft_.forward(b, hidden, width); });
  return out;
}

EagleWorker::EagleWorker(engine::ModelRunner& target, engine::spec::Eagle3Draft& draft, SpecConfig cfg)
    : target_(target), draft_(draft), cfg_(cfg), logprob_mode_(engine::logprob_mode_from_env()) {}

void EagleWorker::set_top(SpecSeq& s, const float* logits) const {
  const int64_t v = draft_.draft_vocab_size();
  const auto k = static_cast<size_t>(cfg_.topk);
  // The k largest logits, ties to the lower id — the order of sorting every id by (logit desc,
  // id asc) — in one pass: ids come in increasing order, so an equal later logit never displaces
  // a kept one, and each insert keeps `best` sorted.
  std::vector<int32_t> best;
  best.reserve(k + 1);
  for (int32_t i = 0; i < static_cast<int32_t>(v); ++i) {
    if (best.size() == k && !(logits[i] > logits[best.back()])) continue;
    best.insert(std::upper_bound(best.begin(), best.end(), i,
                                 [&](int32_t a, int32_t b) { return logits[a] > logits[b]; }),
                i);
    if (best.size() > k) best.pop_back();
  }
  // Their draft probabilities (they rank the tree's paths): softmax over the draft vocabulary.
  const float mx = logits[best.front()];
  const float sum = engine::cpu::sum_exp(logits, v, mx);
  s.top_p.resize(best.size());
  s.top_ids.resize(best.size());
  for (size_t j = 0; j < best.size(); ++j) {
    s.top_p[j] = engine::cpu::exp_poly(logits[best[j]] - mx) / sum;
    s.top_ids[j] = draft_.to_target_id(best[j]);
  }
}

Status EagleWorker::draft_extend(const std::vector<ExtendItem>& items) {
  const int64_t ht = draft_.config().target_hidden_size;
  engine::ForwardBatch b;
  std::vector<float> hidden;
  std::vector<SpecSeq*> with_logits;
  for (const auto& it : items) {
    const auto& toks = *it.seq->tokens;
    if (it.to <= it.from || it.to >= static_cast<int64_t>(toks.size()) ||
        static_cast<int64_t>(it.seq->slot_table->size()) < it.to)
      return invalid_argument("draft extend: positions outside the request's tokens or slots");
    engine::Segment seg;
    seg.prefix_len = static_cast<int32_t>(it.from);
    seg.new_len = static_cast<int32_t>(it.to - it.from);
    seg.slot_offset = static_cast<int64_t>(b.kv_slots.size());
    const bool last = it.to == static_cast<int64_t>(toks.size()) - 1;
    seg.logits_start = last ? seg.new_len - 1 : -1;
    b.kv_slots.insert(b.kv_slots.end(), it.seq->slot_table->begin(), it.seq->slot_table->begin() + it.to);
    if (static_cast<int64_t>(it.aux.size()) != (it.to - it.from) * 3 * ht)
      return invalid_argument("draft extend: aux hidden states do not match the rows");
    for (int64_t p = it.from; p < it.to; ++p) {
      b.input_ids.push_back(toks[p + 1]);  // draft row p: target state at p, next token p + 1
      b.positions.push_back(static_cast<int32_t>(p));
    }
    hidden.insert(hidden.end(), it.aux.begin(), it.aux.end());
    b.segments.push_back(std::move(seg));
    if (last) with_logits.push_back(it.seq);
  }
  if (b.segments.empty()) return {};
  auto out = draft_forward(b, hidden.data(), 3 * ht);
  const int64_t h = draft_.hidden_size();
  int64_t tok = 0, row = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& seg = b.segments[i];
    tok += seg.new_len;
    if (seg.logits_start < 0) continue;
    SpecSeq& s = *items[i].seq;
    set_top(s, out.logits.data() + row * draft_.draft_vocab_size());
    s.hidden.assign(out.hidden.begin() + (tok - 1) * h, out.hidden.begin() + tok * h);
    ++row;
  }
  return {};
}

Status EagleWorker::draft_trees(const std::vector<SpecSeq*>& seqs, std::vector<Drafted>& trees) {
  const int k = cfg_.topk, steps = cfg_.num_steps;
  const auto n = static_cast<int64_t>(seqs.size());
  const int64_t h = draft_.hidden_size();
  const int64_t per_seq = static_cast<int64_t>(k) * std::max(steps - 1, 0);
  SGL_TRY(draft_.ensure_scratch(n * per_seq));
  std::vector<TreeBuilder> builders(static_cast<size_t>(n), TreeBuilder(k));
  for (int64_t s = 0; s < n; ++s) {
    if (seqs[s]->top_ids.size() != static_cast<size_t>(k) || seqs[s]->hidden.size() != static_cast<size_t>(h))
      return invalid_argument("speculative round for a request without draft state (no draft extend yet)");
    builders[s].start(seqs[s]->top_p, seqs[s]->top_ids);
  }
  // Per (request, branch row) of the previous draft forward: its output hidden state, the
  // scratch slots of its ancestors' draft rows, and its own scratch slot.
  std::vector<std::vector<int32_t>> prev_chain(static_cast<size_t>(n * k)), chain(static_cast<size_t>(n * k));
  std::vector<int32_t> prev_slot(static_cast<size_t>(n * k));
  std::vector<float> prev_hidden;
  for (int i = 0; i + 1 < steps; ++i) {
    engine::ForwardBatch b;
    std::vector<float> hidden;
    std::vector<int32_t> slot(static_cast<size_t>(n * k));
    for (int64_t s = 0; s < n; ++s) {
      const SpecSeq& seq = *seqs[s];
      const auto t = static_cast<int64_t>(seq.tokens->size());
      for (int r = 0; r < k; ++r) {
        const int32_t src = builders[s].branch_source_row()[r];
        auto& ch = chain[s * k + r];
        if (i == 0) {
          ch.clear();
          hidden.insert(hidden.end(), seq.hidden.begin(), seq.hidden.end());
        } else {
          ch = prev_chain[s * k + src];
          ch.push_back(prev_slot[s * k + src]);
          hidden.insert(hidden.end(), prev_hidden.begin() + (s * k + src) * h,
                        prev_hidden.begin() + (s * k + src + 1) * h);
        }
        slot[s * k + r] = static_cast<int32_t>(draft_.scratch_begin() + s * per_seq + i * k + r);
        engine::Segment seg;
        seg.prefix_len = static_cast<int32_t>(t - 1 + static_cast<int64_t>(ch.size()));
        seg.new_len = 1;
        seg.slot_offset = static_cast<int64_t>(b.kv_slots.size());
        seg.logits_start = 0;
        b.kv_slots.insert(b.kv_slots.end(), seq.slot_table->begin(), seq.slot_table->begin() + (t - 1));
        b.kv_slots.insert(b.kv_slots.end(), ch.begin(), ch.end());
        b.kv_slots.push_back(slot[s * k + r]);
        b.input_ids.push_back(builders[s].branch_tokens()[r]);
        b.positions.push_back(static_cast<int32_t>(t - 1 + cfg_.draft_position_shift + i));
        b.segments.push_back(std::move(seg));
      }
    }
    auto out = draft_forward(b, hidden.data(), h);
    for (int64_t s = 0; s < n; ++s) {
      std::vector<float> probs;
      std::vector<int32_t> ids;
      SpecSeq tmp;
      for (int r = 0; r < k; ++r) {
        set_top(tmp, out.logits.data() + (s * k + r) * draft_.draft_vocab_size());
        probs.insert(probs.end(), tmp.top_p.begin(), tmp.top_p.end());
        ids.insert(ids.end(), tmp.top_ids.begin(), tmp.top_ids.end());
      }
      builders[s].expand(probs, ids);
    }
    prev_hidden = std::move(out.hidden);
    prev_chain.swap(chain);
    prev_slot = slot;
  }
  trees.resize(static_cast<size_t>(n));
  for (int64_t s = 0; s < n; ++s)
    trees[s].tree = builders[s].finish(seqs[s]->tokens->back(), cfg_.num_draft_tokens);
  return {};
}

Result<std::vector<int32_t>> EagleWorker::decode_round(const std::vector<SpecSeq*>& seqs) {
  // Requests go in groups whose verify logits (rows × vocab floats) stay under 32 MB: larger
  // per-step buffers are fresh mmap'd memory for glibc, and faulting it in costs more than the
  // few extra forwards (measured on the CPU backend, where the LM head dominates small models).
  const int64_t row_bytes = std::max<int64_t>(1, target_.info().vocab_size) * 4;
  const auto per_group = static_cast<size_t>(
      std::max<int64_t>(1, (int64_t{32} << 20) / (row_bytes * std::max(1, cfg_.num_draft_tokens))));
  std::vector<int32_t> gained;
  for (size_t b = 0; b < seqs.size(); b += per_group) {
    std::vector<SpecSeq*> group(
        seqs.begin() + static_cast<std::ptrdiff_t>(b),
        seqs.begin() + static_cast<std::ptrdiff_t>(std::min(seqs.size(), b + per_group)));
    SGL_ASSIGN_OR_RETURN(auto g, decode_group(group));
    gained.insert(gained.end(), g.begin(), g.end());
  }
  return gained;
}

Result<std::vector<int32_t>> EagleWorker::decode_group(const std::vector<SpecSeq*>& seqs) {
  std::vector<Drafted> trees;
  SGL_TRY(draft_trees(seqs, trees));
  const int64_t n = static_cast<int64_t>(seqs.size());
  engine::StepInput in;
  auto& b = in.batch;
  b.capture_hidden_layers = capture_layers();
  std::vector<int64_t> root_tok(static_cast<size_t>(n)), first_row(static_cast<size_t>(n));
  std::deque<std::vector<int32_t>> path_outputs;
  std::vector<std::vector<engine::RowSampling>> node_rows(static_cast<size_t>(n));
  int64_t tok = 0, row = 0;
  for (int64_t s = 0; s < n; ++s) {
    const SpecSeq& seq = *seqs[s];
    const DraftTree& tree = trees[s].tree;
    const auto& toks = *seq.tokens;
    const auto& st = *seq.slot_table;
    const auto t = static_cast<int64_t>(toks.size());
    const int64_t m = t - seq.committed;
    if (m < 1 || static_cast<int64_t>(st.size()) < slots_needed(seq))
      return invalid_argument("speculative round: a request without pending tokens or enough KV slots");
    // Pending tokens (the root last), causal over the committed prefix.
    engine::Segment pend;
    pend.prefix_len = static_cast<int32_t>(seq.committed);
    pend.new_len = static_cast<int32_t>(m);
    pend.slot_offset = static_cast<int64_t>(b.kv_slots.size());
    pend.logits_start = static_cast<int32_t>(m - 1);
    pend.lora_slot = seq.lora_slot;
    b.kv_slots.insert(b.kv_slots.end(), st.begin(), st.begin() + t);
    for (int64_t p = seq.committed; p < t; ++p) {
      b.input_ids.push_back(toks[p]);
      b.positions.push_back(static_cast<int32_t>(p));
    }
    b.segments.push_back(std::move(pend));
    root_tok[s] = tok + m - 1;
    first_row[s] = row;
    tok += m;
    // Every draft node alone, over the root's context and its ancestors: a plain decode step.
    for (int j = 1; j < tree.size(); ++j) {
      engine::Segment seg;
      const auto anc = tree.ancestors(j);
      seg.prefix_len = static_cast<int32_t>(t + static_cast<int64_t>(anc.size()) - 1);
      seg.new_len = 1;
      seg.slot_offset = static_cast<int64_t>(b.kv_slots.size());
      seg.logits_start = 0;
      seg.lora_slot = seq.lora_slot;
      b.kv_slots.insert(b.kv_slots.end(), st.begin(), st.begin() + t);
      for (size_t a = 1; a < anc.size(); ++a) b.kv_slots.push_back(st[t - 1 + tree.slot_offset[anc[a]]]);
      b.kv_slots.push_back(st[t - 1 + tree.slot_offset[j]]);
      b.input_ids.push_back(tree.tokens[j]);
      b.positions.push_back(static_cast<int32_t>(t - 1 + tree.depth[j]));
      b.segments.push_back(std::move(seg));
      ++tok;
    }
    // Greedy rows go through the engine's sampler as plain decode rows would (penalties, min-phase
    // stop-id masking, logprobs); sampled ones are processed here from the raw logits.
    for (int j = 0; j < tree.size(); ++j) {
      node_rows[s].push_back(node_row(seq, tree, j, path_outputs));
      in.sampling.push_back(is_greedy(seq.params) ? node_rows[s].back() : engine::RowSampling{});
    }
    row += tree.size();
    if (!is_greedy(seq.params)) in.return_logits = true;
  }
  SGL_ASSIGN_OR_RETURN(engine::StepOutput out, target_.step(in));
  const int64_t vocab = out.vocab_size;
  std::vector<int32_t> gained(static_cast<size_t>(n));
  std::vector<ExtendItem> extend;
  for (int64_t s = 0; s < n; ++s) {
    SpecSeq& seq = *seqs[s];
    const DraftTree& tree = trees[s].tree;
    const auto& rows_of = node_rows[s];
    VerifyResult v;
    seq.emitted.clear();
    if (is_greedy(seq.params)) {
      std::vector<int32_t> argmax(static_cast<size_t>(tree.size()));
      for (int j = 0; j < tree.size(); ++j) argmax[j] = out.rows[first_row[s] + j].token;
      v = verify_greedy(tree, argmax);
      // The path's rows sampled exactly the emitted tokens: the root's gave the first accepted
      // draft (or the bonus), each accepted node's the next.
      seq.emitted.push_back(std::move(out.rows[first_row[s]]));
      for (int32_t j : v.accepted) seq.emitted.push_back(std::move(out.rows[first_row[s] + j]));
    } else {
      std::map<int, std::vector<float>> processed;  // the nodes the walk reaches
      auto probs = [&](int j) {
        const float* raw = out.logits.data() + (first_row[s] + j) * vocab;
        auto& row = processed[j] = std::vector<float>(raw, raw + vocab);
        engine::apply_logit_processing(row.data(), vocab, rows_of[j]);
        return target_distribution(row.data(), vocab, *rows_of[j].params);
      };
      v = verify_sampled(tree, probs, seq.rng);
      std::vector<int32_t> path = {0};
      path.insert(path.end(), v.accepted.begin(), v.accepted.end());
      for (size_t k = 0; k < path.size(); ++k) {
        const int32_t token = k + 1 < path.size() ? tree.tokens[path[k + 1]] : v.bonus;
        seq.emitted.push_back(engine::logprobs_of_token(processed[path[k]].data(), vocab, rows_of[path[k]],
                                                        token, logprob_mode_));
      }
    }
    const auto t = static_cast<int64_t>(seq.tokens->size());
    int64_t on_place = 0;  // leading accepted drafts whose KV already sits at their position
    while (on_place < static_cast<int64_t>(v.accepted.size()) &&
           tree.slot_offset[v.accepted[on_place]] == on_place + 1)
      ++on_place;
    // Hidden states of the rows the draft extends over: the root, then the accepted drafts
    // (node j's token sits j − 1 after the root's in the batch).
    std::vector<float> rows = gather_aux(out, root_tok[s], 1);
    for (int32_t j : v.accepted) {
      auto r = gather_aux(out, root_tok[s] + j, 1);
      rows.insert(rows.end(), r.begin(), r.end());
    }
    for (int32_t j : v.accepted) seq.tokens->push_back(tree.tokens[j]);
    seq.tokens->push_back(v.bonus);
    seq.committed = t + on_place;
    gained[s] = static_cast<int32_t>(v.accepted.size() + 1);
    stats_.rounds += 1;
    stats_.accepted_drafts += static_cast<int64_t>(v.accepted.size());
    extend.push_back(ExtendItem{&seq, t - 1, t + static_cast<int64_t>(v.accepted.size()), std::move(rows)});
  }
  SGL_TRY(draft_extend(extend));
  return gained;
}

}  // namespace sgl::sched::spec
