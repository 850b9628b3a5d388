// Rotary position embedding, HF "rotate_half" layout (first half / second half of each head).
#include <tbb/parallel_for.h>

#include <cmath>
#include <numbers>

#include "engine/cpu/kernels.h"

namespace sgl::engine::cpu {

Rope::Rope(const RopeConfig& cfg) : half_(cfg.rotary_dim / 2) {
  inv_freq_ = std::make_unique<float[]>(static_cast<size_t>(half_));
  for (int64_t i = 0; i < half_; ++i) {
    double f = 1.0 / std::pow(cfg.theta, static_cast<double>(2 * i) / static_cast<double>(cfg.rotary_dim));
    if (cfg.scaling_type == "linear") {
      f /= cfg.factor;
    } else if (cfg.scaling_type == "llama3") {
      // transformers' _compute_llama3_parameters: long wavelengths slowed by `factor`, short kept,
      // a smooth blend in between.
      double low_wavelen = cfg.original_max_position / cfg.low_freq_factor;
      double high_wavelen = cfg.original_max_position / cfg.high_freq_factor;
      double wavelen = 2 * std::numbers::pi / f;
      if (wavelen > low_wavelen) {
        f /= cfg.factor;
      } else if (wavelen >= high_wavelen) {
        double smooth = (cfg.original_max_position / wavelen - cfg.low_freq_factor) /
                        (cfg.high_freq_factor - cfg.low_freq_factor);
        f = (1 - smooth) * f / cfg.factor + smooth * f;
      }
    }
    inv_freq_[i] = static_cast<float>(f);
  }
}

void Rope::table(const int32_t* positions, int64_t t, float* cs) const {
  for (int64_t i = 0; i < t; ++i) {
    // As HF: angle = float(position) * inv_freq in fp32, then cos/sin.
    float* row = cs + i * 2 * half_;
    for (int64_t j = 0; j < half_; ++j) {
      const float a = static_cast<float>(positions[i]) * inv_freq_[j];
      row[j] = std::cos(a);
      row[half_ + j] = std::sin(a);
    }
  }
}

void Rope::apply(float* x, int64_t t, int64_t heads, int64_t head_dim, const float* cs) const {
  auto rows = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float* c = cs + i * 2 * half_;
      const float* sn = c + half_;
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + (i * heads + h) * head_dim;
        for (int64_t j = 0; j < half_; ++j) {
          float x1 = v[j], x2 = v[j + half_];
          v[j] = x1 * c[j] - x2 * sn[j];
          v[j + half_] = x2 * c[j] + x1 * sn[j];
        }
      }
    }
  };
  if (t <= 16) {  // a decode step or a verify: not worth another core
    rows(0, t);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, t, 4),
                    [&](const tbb::blocked_range<int64_t>& r) { rows(r.begin(), r.end()); });
}

void Rope::apply(float* x, int64_t t, int64_t heads, int64_t head_dim, const int32_t* positions) const {
  std::vector<float> cs(static_cast<size_t>(t * table_width()));
  table(positions, t, cs.data());
  apply(x, t, heads, head_dim, cs.data());
}

}  // namespace sgl::engine::cpu
