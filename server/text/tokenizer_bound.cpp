// Tokenizer::max_bytes_per_token: an upper bound on how many input bytes one token can stand for,
// so a text that can only become more tokens than the context holds is refused by its length,
// before the encoder spends seconds on it. Computed once at load (finish_tokenizer).
#include <algorithm>

#include "server/text/tokenizer_impl.h"

namespace sgl::text {
namespace {

// Above this the bound is useless as a filter and products could overflow: treat as unbounded.
constexpr int64_t kNoBound = int64_t(1) << 40;

int64_t code_points(std::string_view s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; });
}

// How many input bytes may become one byte of normalised text; 0 when a step may delete text
// outright (Strip, a Replace to nothing), which no per-token bound survives.
int64_t normalization_shrink(const Tokenizer::Impl& t) {
  using K = NormalizerStep::Kind;
  int64_t factor = 1;
  for (const auto& n : t.normalizers) {
    switch (n.kind) {
      // Unicode normalisation and lowercasing shrink at most 4:1 (NFKC maps the 4-byte
      // mathematical letters to ASCII; NFC composes 9 bytes of Hangul jamo into 3).
      case K::kNFC:
      case K::kNFKC:
      case K::kNFD:
      case K::kNFKD:
      case K::kLowercase:
        factor *= 4;
        break;
      case K::kReplace:
        if (n.pattern.size() > n.content.size()) {
          if (n.content.empty()) return 0;
          factor *= int64_t((n.pattern.size() + n.content.size() - 1) / n.content.size());
        }
        break;
      case K::kPrepend:
        break;
      case K::kStripLeft:
      case K::kStripRight:
        return 0;
    }
    if (factor > kNoBound) return 0;
  }
  return factor;
}

// Whether every input byte or character reaches some token (none is silently dropped).
bool nothing_dropped(const Tokenizer::Impl& t) {
  for (const auto& s : t.splits)
    if (s.behavior == SplitStep::Behavior::kRemoved) return false;
  for (const auto& a : t.added)
    if (a.lstrip || a.rstrip) return false;  // they swallow any run of whitespace beside them
  if (t.byte_level)
    return std::all_of(t.byte_token.begin(), t.byte_token.end(), [](int32_t id) { return id >= 0; });
  // A character outside the vocabulary becomes byte tokens or <unk>; with neither it vanishes.
  return t.unk_id >= 0 || t.byte_fallback;
}

}  // namespace

int64_t compute_max_bytes_per_token(const Tokenizer::Impl& t) {
  if (!nothing_dropped(t)) return 0;
  const int64_t shrink = normalization_shrink(t);
  if (shrink == 0) return 0;
  // Normalised bytes per model token: a byte-level symbol is one input byte (its decoded bytes,
  // for safety, when larger); otherwise the
  // token's text is at least as long as what it covers (Metaspace's ▁ stands for one space). An
  // unknown character (up to 4 bytes) becomes one <unk>.
  int64_t model_max = 4;
  for (size_t id = 0; id < t.id_to_token.size(); ++id) {
    const std::string& s = t.id_to_token[id];
    int64_t covers = int64_t(s.size());
    if (t.byte_level) {
      const int64_t decoded = id < t.id_to_bytes.size() ? int64_t(t.id_to_bytes[id].size()) : 0;
      covers = std::max(code_points(s), decoded);
    }
    model_max = std::max(model_max, covers);
  }
  // Added tokens match the raw text, before normalisation.
  int64_t added_max = 0;
  for (const auto& a : t.added) added_max = std::max(added_max, int64_t(a.content.size()));
  const int64_t bound = std::max(model_max * shrink, added_max);
  return bound > kNoBound ? 0 : bound;
}

int64_t Tokenizer::max_bytes_per_token() const { return impl_->max_bytes_per_token; }

}  // namespace sgl::text
