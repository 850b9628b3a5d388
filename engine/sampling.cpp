// Sampling on the host over fp32 logits rows, following SGLang's sampler step by step:
//
//   1. penalties on the logits, in HF's order: repetition (prompt + output tokens; positive
//      logits divided, negative multiplied), then OpenAI frequency/presence (output tokens),
//      then logit_bias (SGLang adds the bias last);
//   2. greedy rows (temperature < 1e-6 or top_k = 1): argmax, lowest id on ties;
//   3. other rows: p = softmax(logits / temperature); top-k, top-p and min-p are all judged on
//      that full distribution (SGLang's "joint" filter order: keep rank r when r < top_k, the
//      probability mass before r is <= top_p, and p_r >= min_p * p_max), then one draw from the
//      kept tokens renormalised.
//
// Structured output (RowSampling::constraint) masks the penalised logits to the allowed tokens
// before step 2, as SGLang applies the grammar's vocabulary mask, so filters, draws and logprobs
// all see the masked distribution.
//
// Logprobs: SGLang returns log(p) of the distribution it sampled from — after penalties and
// after temperature (sampler.py: `logprobs = torch.log(probs)`, probs = softmax(logits / T);
// greedy batches use log_softmax(logits)). With SGLANG_RETURN_ORIGINAL_LOGPROB it returns
// log_softmax of the penalised logits before temperature. LogprobMode selects between the two;
// top-N and token_ids_logprob come from the same distribution as the chosen token. Prompt rows
// (sample = false) report the raw model distribution, as SGLang's input logprobs do.
#include "engine/sampling.h"

#include <spdlog/spdlog.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <string_view>

#include "engine/token_constraint.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace sgl::engine {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A uniform in [0, 1) from 64 random bits.
double uniform01(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// The draw of a seeded row depends on (seed, step) only: the same request repeats its tokens
// whatever batch it lands in and whichever other requests ran before.
uint64_t seeded_bits(uint64_t seed, int64_t step) {
  return mix(mix(seed) ^ mix(static_cast<uint64_t>(step) + 0x51ed270b27d5d1ull));
}

float max_of(const float* x, int64_t n) {
  int64_t i = 0;
  float m = -INFINITY;
#if defined(__AVX512F__)
  // The masked form and a plain store avoid GCC 12's false "uninitialised" warnings from the
  // _mm512_undefined_ps inside _mm512_max_ps / _mm512_reduce_max_ps.
  __m512 v = _mm512_set1_ps(-INFINITY);
  for (; i + 16 <= n; i += 16) v = _mm512_mask_max_ps(v, 0xFFFF, v, _mm512_loadu_ps(x + i));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  m = *std::max_element(lanes, lanes + 16);
#endif
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

int32_t argmax(const float* x, int64_t n) {
  const float m = max_of(x, n);
  int64_t i = 0;
#if defined(__AVX512F__)
  // Sixteen at a time: a scalar early-exit scan of a 151,936-wide row took ~30 µs, as long as
  // the rest of a greedy row's sampling, four times per 4-token verify.
  const __m512 mv = _mm512_set1_ps(m);
  for (; i + 16 <= n; i += 16) {
    const __mmask16 eq = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), mv, _CMP_EQ_OQ);
    if (eq != 0) return static_cast<int32_t>(i + __builtin_ctz(eq));
  }
#endif
  for (; i < n; ++i)
    if (x[i] == m) return static_cast<int32_t>(i);              // first (lowest id) on ties
  return static_cast<int32_t>(std::max_element(x, x + n) - x);  // NaNs: no element equals m
}

// log sum exp((x - mx) * scale) over the row.
double log_sum_exp(const float* x, int64_t n, float mx, float scale) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp((x[i] - mx) * scale);
  return std::log(s);
}

bool has_penalties(const SamplingParams* p) {
  return p != nullptr && (!p->logit_bias.empty() || p->repetition_penalty != 1.0f ||
                          p->frequency_penalty != 0.0f || p->presence_penalty != 0.0f);
}

std::vector<int32_t> ids_in_vocab(const std::vector<int32_t>* ids, int64_t vocab) {
  std::vector<int32_t> out;
  if (ids == nullptr) return out;
  out.reserve(ids->size());
  for (int32_t id : *ids)
    if (id >= 0 && id < vocab) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

void apply_penalties(float* x, int64_t vocab, const RowSampling& rs) {
  const SamplingParams& p = *rs.params;
  if (p.repetition_penalty != 1.0f) {
    std::vector<int32_t> seen = ids_in_vocab(rs.prompt_ids, vocab);
    std::vector<int32_t> out = ids_in_vocab(rs.output_ids, vocab);
    seen.insert(seen.end(), out.begin(), out.end());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (int32_t id : seen) x[id] = x[id] > 0 ? x[id] / p.repetition_penalty : x[id] * p.repetition_penalty;
  }
  if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) {
    const std::vector<int32_t> out = ids_in_vocab(rs.output_ids, vocab);  // sorted: runs of one id
    for (size_t i = 0; i < out.size();) {
      size_t j = i;
      while (j < out.size() && out[j] == out[i]) ++j;
      x[out[i]] -= static_cast<float>(j - i) * p.frequency_penalty + p.presence_penalty;
      i = j;
    }
  }
  for (const auto& [id, bias] : p.logit_bias)
    if (id >= 0 && id < vocab) x[id] += bias;
}

struct WeightedId {
  float w;
  int32_t id;
};

// Per-thread buffers reused across rows.
struct Scratch {
  std::vector<float> w;
  std::vector<int32_t> cand;
  std::vector<WeightedId> band;
  std::vector<int32_t> allowed;
  std::vector<float> allowed_logits;
};

// Ranks ids by probability, descending; ties by lowest id (a strict total order, so every
// selection below is deterministic).
struct Heavier {
  const float* w;
  bool operator()(int32_t a, int32_t b) const { return w[a] > w[b] || (w[a] == w[b] && a < b); }
};

// The `k` largest values with v >= floor, sorted: one pass against a k-heap whose top is the
// smallest kept id, so almost every id costs one comparison.
void select_top_k(const float* v, int64_t n, float floor, int64_t k, std::vector<int32_t>& cand) {
  cand.clear();
  const Heavier heavier{v};
  for (int32_t i = 0; i < static_cast<int32_t>(n); ++i) {
    if (!(v[i] >= floor)) continue;
    if (static_cast<int64_t>(cand.size()) < k) {
      cand.push_back(i);
      std::push_heap(cand.begin(), cand.end(), heavier);
    } else if (heavier(i, cand.front())) {
      std::pop_heap(cand.begin(), cand.end(), heavier);
      cand.back() = i;
      std::push_heap(cand.begin(), cand.end(), heavier);
    }
  }
  std::sort_heap(cand.begin(), cand.end(), heavier);
}

// Top-p over ids with w >= floor: fills `cand` with the kept ids (every rank with at most
// `limit` mass before it) and returns how many. No vocabulary sort: the ids split into a core
// that is surely kept (mass <= limit), a band where the cut lies, and the rest (after more than
// `limit` mass). A threshold lowered geometrically finds the band with linear passes (a peaked
// distribution stops at the first), a weighted quickselect halves it until it is small, and
// only that remainder is sorted.
size_t select_top_p(const std::vector<float>& w, float floor, double limit, std::vector<int32_t>& cand,
                    std::vector<WeightedId>& band) {
  // Step 1/16 in weight (~2.8 logits at T = 1): a few more linear passes for a much smaller band.
  float hi = INFINITY, lo = std::max(floor, 1e-3f);
  double mass = 0;
  while (true) {
    cand.clear();
    mass = 0;
    for (int32_t i = 0; i < static_cast<int32_t>(w.size()); ++i)
      if (w[i] >= lo) {
        cand.push_back(i);
        mass += w[i];
      }
    if (mass > limit || lo == floor) break;
    hi = lo;
    lo = lo * (1.0f / 16) < 1e-30f ? floor : std::max(floor, lo * (1.0f / 16));
  }
  if (mass <= limit) return cand.size();  // min-p left no more than top_p: keep all of it
  // cand becomes the core (w >= hi, mass <= limit: all kept); the band [lo, hi) holds the cut.
  // The band carries its weights inline so the selections below compare without gathers.
  band.clear();
  double core_mass = 0;
  size_t core = 0;
  for (int32_t i : cand) {
    if (w[i] >= hi) {
      cand[core++] = i;
      core_mass += w[i];
    } else {
      band.push_back({w[i], i});
    }
  }
  cand.resize(core);
  auto heavier = [](const WeightedId& a, const WeightedId& b) {
    return a.w > b.w || (a.w == b.w && a.id < b.id);
  };
  while (band.size() > 256) {  // weighted quickselect: halve the band around its median rank
    const auto mid = band.begin() + static_cast<std::ptrdiff_t>(band.size() / 2);
    std::nth_element(band.begin(), mid, band.end(), heavier);
    double above = 0;
    for (auto it = band.begin(); it != mid; ++it) above += it->w;
    if (core_mass + above > limit) {  // the cut is among the heavier half
      band.erase(mid, band.end());
    } else {  // the heavier half is kept
      for (auto it = band.begin(); it != mid; ++it) cand.push_back(it->id);
      core_mass += above;
      band.erase(band.begin(), mid);
    }
  }
  std::sort(band.begin(), band.end(), heavier);
  double before = core_mass;
  for (const WeightedId& b : band) {
    if (before > limit) break;
    cand.push_back(b.id);
    before += b.w;
  }
  return cand.size();
}

// Draws one token from the row `x` (penalised logits) at the request's temperature and filters.
// `w` receives exp((x - mx) / T) (the unnormalised probabilities, max 1), `total` their sum.
int32_t draw_token(const float* x, int64_t vocab, const SamplingParams& p, float mx, double u, Scratch& s,
                   double& total) {
  std::vector<float>& w = s.w;
  std::vector<int32_t>& cand = s.cand;
  std::vector<WeightedId>& band = s.band;
  const float inv_t = 1.0f / p.temperature;
  w.resize(static_cast<size_t>(vocab));
  total = 0;
  for (int64_t i = 0; i < vocab; ++i) total += w[i] = std::exp((x[i] - mx) * inv_t);
  const bool top_k = p.top_k > 0 && p.top_k < vocab;
  const bool top_p = p.top_p < 1.0f;
  const bool min_p = p.min_p > 0.0f;
  if (!top_k && !top_p && !min_p) {
    const double target = u * total;
    double cum = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      cum += w[i];
      if (target < cum) return static_cast<int32_t>(i);
    }
    return argmax(x, vocab);  // rounding left the target past the last bucket
  }
  const float floor = min_p ? p.min_p : 0.0f;  // min-p relative to w_max = 1
  const double limit = static_cast<double>(p.top_p) * total;
  size_t keep = 0;
  if (top_k) {
    select_top_k(w.data(), vocab, floor, p.top_k, cand);
    keep = cand.size();
    if (top_p) {  // cand is sorted: keep the ranks with at most `limit` mass before them
      double before = 0;
      for (keep = 0; keep < cand.size() && before <= limit; ++keep) before += w[cand[keep]];
    }
  } else if (top_p) {
    keep = select_top_p(w, floor, limit, cand, band);
  } else {
    cand.clear();
    for (int32_t i = 0; i < static_cast<int32_t>(vocab); ++i)
      if (w[i] >= floor) cand.push_back(i);
    keep = cand.size();
  }
  double kept = 0;
  for (size_t i = 0; i < keep; ++i) kept += w[cand[i]];
  const double target = u * kept;
  double cum = 0;
  for (size_t i = 0; i < keep; ++i) {
    cum += w[cand[i]];
    if (target < cum) return cand[i];
  }
  return cand[keep - 1];
}

// Structured output, the exhaustive way: leaves only tokens the constraint allows in the row (the
// rest -inf); false when none is. Candidates are checked in descending probability until the
// unchecked mass is negligible beside the allowed mass found, so only a flat distribution walks
// the whole vocabulary. Ids the penalties set to -inf are never allowed.
bool mask_disallowed(float* x, int64_t vocab, float mx, float scale, TokenConstraint& c, Scratch& s) {
  constexpr double kNegligible = 1e-6;  // unchecked mass / allowed mass at which the walk stops
  std::vector<float>& w = s.w;
  w.resize(static_cast<size_t>(vocab));
  double total = 0;
  for (int64_t i = 0; i < vocab; ++i) total += w[i] = std::exp((x[i] - mx) * scale);
  s.allowed.clear();
  double checked = 0, kept = 0;
  bool done = false;
  // Checks s.cand[from, to) in order; sets `done` when the walk may stop.
  auto check = [&](size_t from, size_t to) {
    for (size_t i = from; i < to && !done; ++i) {
      const int32_t id = s.cand[i];
      if (x[id] == -INFINITY) {  // everything after is banned too
        done = true;
        break;
      }
      checked += w[id];
      if (c.allows(id)) {
        s.allowed.push_back(id);
        kept += w[id];
      }
      done = !s.allowed.empty() && total - checked <= kNegligible * kept;
    }
  };
  const int64_t first = std::min<int64_t>(64, vocab);
  select_top_k(x, vocab, -INFINITY, first, s.cand);
  check(0, s.cand.size());
  if (!done && first < vocab) {
    // Deeper: rank the whole row, a growing slice at a time (nth_element + sort of the slice).
    s.cand.resize(static_cast<size_t>(vocab));
    std::iota(s.cand.begin(), s.cand.end(), 0);
    const Heavier heavier{x};
    size_t from = 0;
    for (size_t k = static_cast<size_t>(first) * 16; !done && from < s.cand.size(); k *= 16) {
      const size_t to = std::min(k, s.cand.size());
      std::nth_element(s.cand.begin() + static_cast<std::ptrdiff_t>(from),
                       s.cand.begin() + static_cast<std::ptrdiff_t>(to - 1), s.cand.end(), heavier);
      std::sort(s.cand.begin() + static_cast<std::ptrdiff_t>(from),
                s.cand.begin() + static_cast<std::ptrdiff_t>(to), heavier);
      check(from == 0 ? static_cast<size_t>(first) : from, to);
      from = to;
    }
  }
  if (s.allowed.empty()) return false;
  s.allowed_logits.clear();
  for (int32_t id : s.allowed) s.allowed_logits.push_back(x[id]);
  std::fill(x, x + vocab, -INFINITY);
  for (size_t i = 0; i < s.allowed.size(); ++i) x[s.allowed[i]] = s.allowed_logits[i];
  return true;
}

// The most likely allowed token, checking candidates in descending order and setting refused ones
// to -inf (so logprobs describe the distribution the token was chosen from); -1 when none is.
int32_t first_allowed(float* x, int64_t vocab, TokenConstraint& c, Scratch& s) {
  constexpr float kFinite = std::numeric_limits<float>::lowest();  // banned (-inf) ids never rank
  const int32_t best = argmax(x, vocab);  // usually allowed: one vectorised pass, one check
  if (!(x[best] >= kFinite)) return -1;
  if (c.allows(best)) return best;
  x[best] = -INFINITY;
  for (int64_t k = std::min<int64_t>(16, vocab);; k = std::min<int64_t>(k * 16, vocab)) {
    select_top_k(x, vocab, kFinite, k, s.cand);  // ids refused in an earlier round are -inf now
    for (int32_t id : s.cand) {
      if (c.allows(id)) return id;
      x[id] = -INFINITY;
    }
    if (k == vocab || static_cast<int64_t>(s.cand.size()) < k) return -1;
  }
}

// A token for a constrained row. Greedy: the most likely allowed one. Sampled: a draw from the
// model's distribution, redrawn without each refused token — exact for temperature sampling
// (the distribution conditioned on the allowed tokens), while top-k/top-p/min-p are judged on the
// distribution without the tokens refused so far rather than after a full vocabulary mask as
// xgrammar does. A model that wants a valid token costs one check; after kMaxRedraws refusals
// the row is masked exhaustively. -1 when nothing is allowed. `mx` and `total` describe the row
// the token came from, as draw_token reports them.
int32_t constrained_choice(float* x, int64_t vocab, const SamplingParams* p, bool greedy, uint64_t bits,
                           TokenConstraint& c, Scratch& s, float& mx, double& total) {
  if (greedy) {
    const int32_t id = first_allowed(x, vocab, c, s);
    mx = max_of(x, vocab);
    return id;
  }
  constexpr int kMaxRedraws = 16;
  for (int attempt = 0; attempt <= kMaxRedraws; ++attempt) {
    mx = max_of(x, vocab);
    if (mx == -INFINITY) return -1;
    const double u = uniform01(attempt == 0 ? bits : mix(bits + static_cast<uint64_t>(attempt)));
    if (attempt == kMaxRedraws) {
      if (!mask_disallowed(x, vocab, mx, 1.0f / p->temperature, c, s)) return -1;
      mx = max_of(x, vocab);
      return draw_token(x, vocab, *p, mx, u, s, total);
    }
    const int32_t id = draw_token(x, vocab, *p, mx, u, s, total);
    if (c.allows(id)) return id;
    x[id] = -INFINITY;
  }
  return -1;
}

// logprob(i) = (x[i] - mx) * scale - log_z
struct LogDist {
  const float* x;
  float mx, scale;
  double log_z;
  float of(int32_t id) const { return static_cast<float>((x[id] - mx) * scale - log_z); }
};

// `floor`: the least logit the top-N may list (a masked row lists only what its mask allows).
void fill_logprobs(const LogDist& d, int64_t vocab, const RowSampling& rs, RowResult& out,
                   std::vector<int32_t>& idx, float floor = -INFINITY) {
  if (rs.top_logprobs_num > 0) {
    select_top_k(d.x, vocab, floor, rs.top_logprobs_num, idx);  // ranks as the distribution does
    out.top.reserve(idx.size());
    for (int32_t id : idx) out.top.push_back({id, d.of(id)});
  }
  out.requested.reserve(rs.token_ids_logprob.size());
  for (int32_t id : rs.token_ids_logprob)
    out.requested.push_back({id, id >= 0 && id < vocab ? d.of(id) : -INFINITY});
}

bool wants_logprobs(const RowSampling& rs) {
  return rs.return_logprob || rs.top_logprobs_num > 0 || !rs.token_ids_logprob.empty();
}

}  // namespace

LogprobMode logprob_mode_from_env() {
  for (const char* name : {"SGLANG_RETURN_ORIGINAL_LOGPROB", "RETURN_ORIGINAL_LOGPROB"}) {
    const char* v = std::getenv(name);
    if (v == nullptr) continue;
    const std::string_view s(v);
    if (s == "1" || s == "true" || s == "True" || s == "TRUE") return LogprobMode::kOriginal;
  }
  return LogprobMode::kProcessed;
}

void apply_logit_processing(float* logits, int64_t vocab, const RowSampling& rs) {
  if (has_penalties(rs.params)) apply_penalties(logits, vocab, rs);
}

RowResult logprobs_of_token(const float* logits, int64_t vocab, const RowSampling& rs, int32_t token,
                            LogprobMode mode) {
  RowResult res;
  res.token = token;
  if (!wants_logprobs(rs)) return res;
  const SamplingParams* p = rs.params;
  const float mx = max_of(logits, vocab);
  const bool greedy = p == nullptr || p->greedy() || !std::isfinite(mx);
  const float scale = !greedy && mode == LogprobMode::kProcessed ? 1.0f / p->temperature : 1.0f;
  const LogDist d{logits, mx, scale, log_sum_exp(logits, vocab, mx, scale)};
  if (token >= 0 && token < vocab) res.logprob = d.of(token);
  std::vector<int32_t> idx;
  fill_logprobs(d, vocab, rs, res, idx);
  return res;
}

Sampler::Sampler(uint64_t seed, LogprobMode mode) : state_(mix(seed)), mode_(mode) {}

namespace {
// NaN → -1e5 (SGLang's replacement); true when there was any.
bool replace_nans(float* x, int64_t n) {
  bool any = false;
  for (int64_t i = 0; i < n; ++i)
    if (std::isnan(x[i])) {
      x[i] = -1e5f;
      any = true;
    }
  return any;
}
}  // namespace

std::vector<RowResult> Sampler::sample(float* logits, int64_t vocab, std::span<const RowSampling> rows) {
  // Unseeded rows draw from this sampler's stream, taken in row order before going parallel so
  // the outcome does not depend on thread scheduling.
  std::vector<uint64_t> bits(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    const SamplingParams* p = rows[r].params;
    const bool random = rows[r].sample && p != nullptr && !p->greedy();
    if (!random) continue;
    bits[r] = p->seed ? seeded_bits(*p->seed, rows[r].step) : (state_ = mix(state_));
  }
  std::vector<RowResult> out(rows.size());
  tbb::parallel_for(tbb::blocked_range<size_t>(0, rows.size(), 1), [&](const tbb::blocked_range<size_t>&
                                                                           range) {
    Scratch scratch;
    for (size_t r = range.begin(); r < range.end(); ++r) {
      const RowSampling& rs = rows[r];
      float* x = logits + static_cast<int64_t>(r) * vocab;
      RowResult& res = out[r];
      if (nan_detection_ && replace_nans(x, vocab)) {
        nan_rows_.fetch_add(1);
        spdlog::warn("Detected errors during sampling! NaN in the logits.");
      }
      const bool want_lp = wants_logprobs(rs);
      if (!rs.sample) {
        if (want_lp) {
          const float mx = max_of(x, vocab);
          fill_logprobs({x, mx, 1.0f, log_sum_exp(x, vocab, mx, 1.0f)}, vocab, rs, res, scratch.cand);
        }
        continue;
      }
      const SamplingParams* p = rs.params;
      if (has_penalties(p)) apply_penalties(x, vocab, rs);
      float mx = max_of(x, vocab);
      const bool greedy = p == nullptr || p->greedy() || !std::isfinite(mx);
      double total = 0;  // sum of exp((x - mx) / T) when a token was drawn
      const bool tempered = !greedy && mode_ == LogprobMode::kProcessed;
      const float scale = tempered ? 1.0f / p->temperature : 1.0f;
      bool masked = false;
      if (rs.constraint != nullptr) {
        res.token = constrained_choice(x, vocab, p, greedy, bits[r], *rs.constraint, scratch, mx, total);
        if (res.token < 0) {
          // Nothing may follow: end with the constraint's stop token (logprobs of the row as is).
          const int32_t fallback = rs.constraint->fallback_token();
          res.token = fallback >= 0 && fallback < vocab ? fallback : 0;
          rs.constraint->accept(res.token);
          continue;
        }
        if (want_lp) {
          // SGLang applies the grammar's vocabulary mask to the logits before its logprobs, so
          // the chosen token and the top-N are reported from the distribution over the allowed
          // tokens (asked in the state the token was chosen in, before accept()).
          masked = mask_disallowed(x, vocab, mx, scale, *rs.constraint, scratch);
          mx = max_of(x, vocab);
        }
      } else {
        res.token =
            greedy ? argmax(x, vocab) : draw_token(x, vocab, *p, mx, uniform01(bits[r]), scratch, total);
      }
      if (rs.constraint != nullptr) rs.constraint->accept(res.token);
      if (!want_lp) continue;
      const LogDist d{x, mx, scale, tempered && !masked ? std::log(total) : log_sum_exp(x, vocab, mx, scale)};
      res.logprob = d.of(res.token);
      fill_logprobs(d, vocab, rs, res, scratch.cand,
                    masked ? std::numeric_limits<float>::lowest() : -INFINITY);
    }
  });
  return out;
}

}  // namespace sgl::engine
