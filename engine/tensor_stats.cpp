#include "engine/tensor_stats.h"

#include <cmath>
#include <limits>

namespace sgl::engine {

void append_segment_stats(const float* x, int64_t cols, const std::vector<int64_t>& seg_tokens,
                          const char* name, const char* module, int32_t layer,
                          std::vector<TensorStats>& out) {
  int64_t row = 0;
  for (size_t s = 0; s < seg_tokens.size(); ++s) {
    TensorStats st;
    st.segment = static_cast<int32_t>(s);
    st.name = name;
    st.module = module;
    st.layer = layer;
    st.rows = seg_tokens[s];
    st.cols = cols;
    const float* p = x + row * cols;
    const int64_t n = st.rows * cols;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0, sq = 0;
    int64_t finite = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double v = p[i];
      if (std::isnan(v)) {
        st.has_nan = true;
      } else if (std::isinf(v)) {
        st.has_inf = true;
      } else {
        lo = std::min(lo, v), hi = std::max(hi, v);
        sum += v, sq += v * v;
        ++finite;
      }
    }
    if (finite > 0) {
      st.min = lo, st.max = hi;
      st.mean = sum / static_cast<double>(finite);
      st.std =
          finite > 1 ? std::sqrt(std::max(0.0, sq / static_cast<double>(finite) - st.mean * st.mean)) : 0.0;
    }
    out.push_back(st);
    row += seg_tokens[s];
  }
}

}  // namespace sgl::engine
