#include "engine/quant/quant_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "engine/cpu/quant_weight.h"

namespace sgl::engine {
namespace {

using cpu::QuantCode;
using cpu::QuantWeight;

float scalar(const TensorView& v, int64_t i) {
  switch (v.dtype) {
    case DType::kF32:
      return static_cast<const float*>(v.data)[i];
    case DType::kBF16:
      return bf16_to_f32(static_cast<const uint16_t*>(v.data)[i]);
    case DType::kF16:
      return f16_to_f32(static_cast<const uint16_t*>(v.data)[i]);
    default:
      return 0.0f;
  }
}

uint32_t word(const TensorView& v, int64_t i) { return static_cast<const uint32_t*>(v.data)[i]; }

Status expect_dtype(const TensorView& v, std::initializer_list<DType> ok, const char* what) {
  for (DType d : ok)
    if (v.dtype == d) return {};
  return corrupt(fmt::format("{} ({}): {} is {}", v.name, v.file, what, dtype_name(v.dtype)));
}

// `w` quantized as (code, group) for this block: made on the first block, checked on the others.
Result<QuantWeight*> target(cpu::PackedWeight& w, const std::string& base, QuantCode code, int64_t group,
                            bool zeros) {
  if (QuantWeight* q = w.quant()) {
    if (q->code != code || q->group != group || q->zeros.empty() == zeros)
      return corrupt(fmt::format("{}: quantized differently from the tensors fused with it", base));
    return q;
  }
  w = cpu::PackedWeight::quantized(QuantWeight(w.n(), w.k(), code, group, zeros));
  return w.quant();
}

Status check_group_slice(const std::string& base, int64_t c0, int64_t nc, int64_t cols, int64_t group) {
  if (c0 % group != 0 || (c0 + nc != cols && nc % group != 0))
    return invalid_argument(
        fmt::format("{}: this tensor-parallel rank's inputs [{}, {}) split a quantization group of {}; "
                    "choose a --tp-size "
                    "that divides the groups",
                    base, c0, c0 + nc, group));
  return {};
}

Status load_fp8(const WeightFiles& f, const QuantConfig& q, const std::string& base, int64_t rows,
                int64_t cols, int64_t r0, int64_t nr, int64_t c0, int64_t dst_row0, cpu::PackedWeight& w,
                bool dry) {
  const int64_t bn = q.block_n, bk = q.block_k, nc = w.k();
  SGL_ASSIGN_OR_RETURN(TensorView wt, f.get(base + ".weight", {rows, cols}));
  SGL_TRY(expect_dtype(wt, {DType::kF8E4M3}, "the fp8 weight"));
  const std::string sname = base + ".weight_scale_inv";
  if (!f.contains(sname)) return not_found(fmt::format("{}: the fp8 weight has no {}", wt.file, sname));
  SGL_ASSIGN_OR_RETURN(TensorView sc, f.get(sname, {(rows + bn - 1) / bn, (cols + bk - 1) / bk}));
  SGL_TRY(expect_dtype(sc, {DType::kF32, DType::kBF16, DType::kF16}, "the block scale"));
  SGL_TRY(check_group_slice(base, c0, nc, cols, bk));
  if (dry) return {};
  SGL_ASSIGN_OR_RETURN(QuantWeight * qw, target(w, base, QuantCode::kF8E4M3, bk, false));
  const auto* src = static_cast<const uint8_t*>(wt.data);
  const int64_t sc_cols = (cols + bk - 1) / bk, ng = qw->groups();
  for (int64_t r = 0; r < nr; ++r) {
    const int64_t sr = r0 + r, dr = dst_row0 + r;
    std::copy(src + sr * cols + c0, src + sr * cols + c0 + nc, qw->codes.begin() + dr * nc);
    for (int64_t g = 0; g < ng; ++g) qw->scales[dr * ng + g] = scalar(sc, (sr / bn) * sc_cols + c0 / bk + g);
  }
  return {};
}

// AWQ (AutoAWQ GEMM): qweight [in, out/8], nibble t of a word is column 8j + order[t]; qzeros
// [in/G, out/8] likewise; scales [in/G, out]; W[o][i] = (q − z)·s.
// GPTQ (v1): qweight [in·bits/32, out], input i in bits (i % per)·bits of word i / per; qzeros
// [in/G, out·bits/32] holding zero − 1; scales [in/G, out]; g_idx [in]; W[o][i] = (q − z − 1)·s[g_idx[i]].
Status load_int(const WeightFiles& f, const QuantConfig& q, const std::string& base, int64_t rows,
                int64_t cols, int64_t r0, int64_t nr, int64_t c0, int64_t dst_row0, cpu::PackedWeight& w,
                bool dry) {
  const bool awq = q.method == QuantConfig::Method::kAwq;
  const int bits = q.bits, per = 32 / bits;
  const uint32_t mask = (1u << bits) - 1;
  const int64_t nc = w.k(), G = q.group_size > 0 ? q.group_size : cols, ng_all = (cols + G - 1) / G;
  if (cols % G != 0 || (awq ? rows % per : cols % per) != 0)
    return invalid_argument(
        fmt::format("{}: shape [{}, {}] does not fit {}-bit groups of {}", base, rows, cols, bits, G));
  const std::vector<int64_t> qshape =
      awq ? std::vector<int64_t>{cols, rows / per} : std::vector<int64_t>{cols / per, rows};
  SGL_ASSIGN_OR_RETURN(TensorView qwt, f.get(base + ".qweight", qshape));
  SGL_ASSIGN_OR_RETURN(TensorView qz, f.get(base + ".qzeros", {ng_all, rows / per}));
  SGL_ASSIGN_OR_RETURN(TensorView sc, f.get(base + ".scales", {ng_all, rows}));
  SGL_TRY(expect_dtype(qwt, {DType::kI32}, "qweight"));
  SGL_TRY(expect_dtype(qz, {DType::kI32}, "qzeros"));
  SGL_TRY(expect_dtype(sc, {DType::kF16, DType::kBF16, DType::kF32}, "scales"));
  // GPTQ act-order: the group of each input; groups made contiguous by permuting the inputs.
  std::vector<int32_t> gidx(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) gidx[i] = static_cast<int32_t>(i / G);
  bool permuted = false;
  if (!awq && f.contains(base + ".g_idx")) {
    SGL_ASSIGN_OR_RETURN(TensorView gi, f.get(base + ".g_idx", {cols}));
    SGL_TRY(expect_dtype(gi, {DType::kI32}, "g_idx"));
    for (int64_t i = 0; i < cols; ++i) {
      const auto g = static_cast<int32_t>(word(gi, i));
      if (g < 0 || g >= ng_all)
        return corrupt(fmt::format("{}.g_idx: input {} names group {} of {}", base, i, g, ng_all));
      permuted |= g != gidx[i];
      gidx[i] = g;
    }
  }
  if (permuted && nc != cols)
    return unsupported(fmt::format(
        "{}: GPTQ act-order (desc_act) weights split over tensor-parallel ranks by input are not supported",
        base));
  SGL_TRY(check_group_slice(base, c0, nc, cols, G));
  if (dry) return {};
  // Stored input order: by group, then by input (the identity unless act-order).
  std::vector<int32_t> order(static_cast<size_t>(nc));
  std::iota(order.begin(), order.end(), 0);
  if (permuted)
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return gidx[a] < gidx[b]; });
  const QuantCode code = bits == 4 && nc % 16 == 0 && G % 16 == 0 ? QuantCode::kU4 : QuantCode::kU8;
  SGL_ASSIGN_OR_RETURN(QuantWeight * qw, target(w, base, code, G, true));
  if (permuted || !qw->perms.empty()) {
    // Rows fused from several tensors each keep their own input order (a reload replaces it).
    std::erase_if(qw->perms, [&](const auto& s) { return s.row0 == dst_row0; });
    qw->perms.push_back({dst_row0, permuted ? order : std::vector<int32_t>{}});
    std::sort(qw->perms.begin(), qw->perms.end(),
              [](const auto& a, const auto& b) { return a.row0 < b.row0; });
    if (qw->perms.front().row0 != 0) qw->perms.insert(qw->perms.begin(), {0, {}});
  }
  const int64_t ng = qw->groups();
  const int64_t qcols = rows / per;  // words per row of qzeros (and of AWQ's qweight)
  static constexpr int kAwqSlot[8] = {0, 4, 1, 5, 2, 6, 3, 7};  // column j % 8 → nibble index
  for (int64_t r = 0; r < nr; ++r) {
    const int64_t o = r0 + r, dr = dst_row0 + r;
    for (int64_t j = 0; j < nc; ++j) {
      const int64_t i = c0 + order[j];
      uint32_t v;
      if (awq) {
        v = (word(qwt, i * qcols + o / 8) >> (4 * kAwqSlot[o % 8])) & mask;
      } else {
        v = (word(qwt, (i / per) * rows + o) >> (bits * (i % per))) & mask;
      }
      qw->set(dr, j, static_cast<uint8_t>(v));
    }
    for (int64_t g = 0; g < ng; ++g) {
      // The group of stored inputs [g·G, (g+1)·G): its checkpoint group (act-order: from g_idx).
      const int64_t cg = gidx[c0 + order[g * G]];
      const uint32_t zw = word(qz, cg * qcols + o / per);
      const uint32_t z = awq ? (zw >> (4 * kAwqSlot[o % 8])) & mask : (zw >> (bits * (o % per))) & mask;
      qw->zeros[dr * ng + g] = static_cast<float>(awq ? z : z + 1);
      qw->scales[dr * ng + g] = scalar(sc, cg * rows + o);
    }
  }
  return {};
}

}  // namespace

bool is_quantized_linear(const WeightFiles& f, const QuantConfig& q, const std::string& base) {
  switch (q.method) {
    case QuantConfig::Method::kFp8:
      return f.contains(base + ".weight_scale_inv") || !f.contains(base + ".weight");
    case QuantConfig::Method::kAwq:
    case QuantConfig::Method::kGptq:
      return f.contains(base + ".qweight");
    default:
      return false;
  }
}

Status load_quantized_block(const WeightFiles& f, const QuantConfig& q, const std::string& base, int64_t rows,
                            int64_t cols, int64_t r0, int64_t nr, int64_t c0, int64_t dst_row0,
                            cpu::PackedWeight& w, bool dry) {
  if (q.method == QuantConfig::Method::kFp8)
    return load_fp8(f, q, base, rows, cols, r0, nr, c0, dst_row0, w, dry);
  return load_int(f, q, base, rows, cols, r0, nr, c0, dst_row0, w, dry);
}

}  // namespace sgl::engine
