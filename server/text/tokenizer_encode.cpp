// Text → ids: added tokens first, then normalisation, pre-tokenisation and BPE per piece.
#include <fmt/format.h>
#include <utf8proc.h>

#include <cstdlib>
#include <queue>

#include "server/text/tokenizer_impl.h"

namespace sgl::text {

namespace {

constexpr size_t kMaxCachedPiece = 256;  // bytes; longer pieces skip the BPE caches

void append_utf8(std::string& out, uint32_t cp) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::string utf8proc_map_str(std::string_view s, utf8proc_option_t opts) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                        static_cast<utf8proc_ssize_t>(s.size()), &out, opts);
  if (n < 0) return std::string(s);
  std::string r(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  std::free(out);  // utf8proc allocates with malloc
  return r;
}

}  // namespace

void Tokenizer::Impl::init_byte_tables() {
  // GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 upwards.
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + n++);
    byte_to_char[b].clear();
    append_utf8(byte_to_char[b], cp);
    char_to_byte[cp] = static_cast<uint8_t>(b);
  }
}

std::string Tokenizer::Impl::normalize(std::string_view text) const {
  std::string s(text);
  using K = NormalizerStep::Kind;
  for (const auto& n : normalizers) {
    switch (n.kind) {
      case K::kNFC:
        if (!is_ascii(s))
          s = utf8proc_map_str(s, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
        break;
      case K::kNFKC:
        if (!is_ascii(s))
          s = utf8proc_map_str(
              s, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
        break;
      case K::kNFD:
        if (!is_ascii(s))
          s = utf8proc_map_str(s, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
        break;
      case K::kNFKD:
        if (!is_ascii(s))
          s = utf8proc_map_str(
              s, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
        break;
      case K::kLowercase: {
        std::string out;
        utf8proc_int32_t cp;
        for (size_t i = 0; i < s.size();) {
          auto len = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                      static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
          if (len <= 0) break;
          append_utf8(out, static_cast<uint32_t>(utf8proc_tolower(cp)));
          i += static_cast<size_t>(len);
        }
        s = std::move(out);
        break;
      }
      case K::kReplace: {
        if (n.pattern.empty()) break;
        std::string out;
        size_t pos = 0, hit;
        while ((hit = s.find(n.pattern, pos)) != std::string::npos) {
          out.append(s, pos, hit - pos);
          out += n.content;
          pos = hit + n.pattern.size();
        }
        out.append(s, pos);
        s = std::move(out);
        break;
      }
      case K::kPrepend:
        if (!s.empty()) s = n.content + s;
        break;
      case K::kStripLeft:
        s.erase(0, s.find_first_not_of(" \t\n\r"));
        break;
      case K::kStripRight:
        s.erase(s.find_last_not_of(" \t\n\r") + 1);
        break;
    }
  }
  return s;
}

std::vector<std::string_view> Tokenizer::Impl::pre_tokenize(std::string& text, bool first_segment) const {
  if (metaspace) {
    std::string out;
    bool prepend = metaspace_prepend == "always" || (metaspace_prepend == "first" && first_segment);
    if (prepend && !text.empty() && !text.starts_with(metaspace_char)) out = metaspace_char;
    for (char c : text) {
      if (c == ' ')
        out += metaspace_char;
      else
        out.push_back(c);
    }
    text = std::move(out);
  }
  if (byte_level && byte_level_prefix_space && !text.empty() && text[0] != ' ') text.insert(0, 1, ' ');
  // Every split behaviour yields contiguous ranges of `text`, so pieces are views into it.
  std::vector<std::string_view> pieces{std::string_view(text)};
  std::vector<std::pair<size_t, size_t>> matches;
  for (const auto& step : splits) {
    std::vector<std::string_view> next;
    pcre2_match_data* md =
        step.regex ? pcre2_match_data_create_from_pattern(step.regex->code, nullptr) : nullptr;
    for (std::string_view p : pieces) {
      matches.clear();
      if (step.regex) {
        size_t off = 0;
        while (off <= p.size()) {
          int rc = pcre2_match(step.regex->code, reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(), off,
                               PCRE2_NO_UTF_CHECK, md, nullptr);
          if (rc < 0) break;
          PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
          if (ov[1] == ov[0]) {  // empty match: step over one character
            size_t adv = 1;
            while (ov[0] + adv < p.size() && (static_cast<unsigned char>(p[ov[0] + adv]) & 0xc0) == 0x80)
              ++adv;
            off = ov[0] + adv;
            continue;
          }
          matches.emplace_back(ov[0], ov[1]);
          off = ov[1];
        }
      } else if (!step.literal.empty()) {
        size_t pos = 0, hit;
        while ((hit = p.find(step.literal, pos)) != std::string_view::npos) {
          matches.emplace_back(hit, hit + step.literal.size());
          pos = hit + step.literal.size();
        }
      }
      size_t prev = 0;
      size_t carry = std::string_view::npos;  // MergedWithNext: start of a match waiting for its gap
      for (auto [b, e] : matches) {
        switch (step.behavior) {
          case SplitStep::Behavior::kIsolated:
            if (b > prev) next.push_back(p.substr(prev, b - prev));
            next.push_back(p.substr(b, e - b));
            break;
          case SplitStep::Behavior::kRemoved:
            if (b > prev) next.push_back(p.substr(prev, b - prev));
            break;
          case SplitStep::Behavior::kMergedWithPrevious:
            next.push_back(p.substr(prev, e - prev));
            break;
          case SplitStep::Behavior::kMergedWithNext: {
            size_t from = carry == std::string_view::npos ? prev : carry;
            if (b > from) next.push_back(p.substr(from, b - from));
            carry = b;
            break;
          }
        }
        prev = e;
      }
      size_t from = carry == std::string_view::npos ? prev : carry;
      if (from < p.size()) next.push_back(p.substr(from));
    }
    if (md) pcre2_match_data_free(md);
    pieces = std::move(next);
  }
  return pieces;  // byte-level pieces stay raw bytes: bpe_bytes maps them straight to ids
}

bool BpeCache::get(const std::string& word, std::vector<int32_t>& out) const {
  auto& sh = shards_[std::hash<std::string>{}(word) % shards_.size()];
  std::lock_guard lk(sh.mu);
  auto it = sh.map.find(word);
  if (it == sh.map.end()) return false;
  out = it->second;
  return true;
}

void BpeCache::put(const std::string& word, const std::vector<int32_t>& ids) const {
  if (word.size() > 256) return;  // long words are rare; keep the cache small
  auto& sh = shards_[std::hash<std::string>{}(word) % shards_.size()];
  std::lock_guard lk(sh.mu);
  if (sh.map.size() > 20000) sh.map.clear();
  sh.map.emplace(word, ids);
}

std::vector<int32_t> Tokenizer::Impl::bpe_word(const std::string& word) const {
  std::vector<int32_t> ids;
  if (cache.get(word, ids)) return ids;
  if (ignore_merges) {
    if (auto it = token_to_id.find(word); it != token_to_id.end()) return {it->second};
  }
  // Initial symbols: one per code point (bytes via byte_fallback, else unk, when not in vocab).
  std::vector<int32_t> sym;
  for (size_t i = 0; i < word.size();) {
    size_t len = 1;
    auto b = static_cast<unsigned char>(word[i]);
    if (b >= 0xf0)
      len = 4;
    else if (b >= 0xe0)
      len = 3;
    else if (b >= 0xc0)
      len = 2;
    len = std::min(len, word.size() - i);
    std::string ch = word.substr(i, len);
    if (auto it = token_to_id.find(ch); it != token_to_id.end()) {
      sym.push_back(it->second);
    } else if (byte_fallback) {
      for (unsigned char c : ch) {
        auto bt = token_to_id.find(fmt::format("<0x{:02X}>", c));
        if (bt != token_to_id.end())
          sym.push_back(bt->second);
        else if (unk_id >= 0)
          sym.push_back(unk_id);
      }
    } else if (unk_id >= 0) {
      sym.push_back(unk_id);
    }
    i += len;
  }
  merge_symbols(sym);
  ids = std::move(sym);
  if (word.size() <= kMaxCachedPiece) cache.put(word, ids);
  return ids;
}

void Tokenizer::Impl::merge_symbols(std::vector<int32_t>& sym) const {
  // Merge the lowest-ranked adjacent pair until none applies: a heap of candidate pairs over a
  // linked list of symbols keeps long words O(n log n).
  const int n = static_cast<int>(sym.size());
  std::vector<int> prev(n), next(n);
  std::vector<uint8_t> alive(n, 1);
  for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  using Cand = std::tuple<int32_t, int, int32_t, int32_t>;  // rank, left index, left id, right id
  std::priority_queue<Cand, std::vector<Cand>, std::greater<>> heap;
  auto push = [&](int i) {
    if (i < 0 || next[i] < 0) return;
    uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(sym[i])) << 32) | static_cast<uint32_t>(sym[next[i]]);
    auto it = merges.find(key);
    if (it != merges.end()) heap.emplace(it->second.first, i, sym[i], sym[next[i]]);
  };
  for (int i = 0; i < n; ++i) push(i);
  while (!heap.empty()) {
    auto [rank, i, left, right] = heap.top();
    heap.pop();
    if (!alive[i] || next[i] < 0 || sym[i] != left || sym[next[i]] != right) continue;  // stale
    uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    const int j = next[i];
    sym[i] = merges.at(key).second;
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    push(prev[i]);
    push(i);
  }
  size_t w = 0;
  for (int i = 0; i < n; ++i)
    if (alive[i]) sym[w++] = sym[i];
  sym.resize(w);
}

const std::vector<int32_t>& Tokenizer::Impl::bpe_bytes(std::string_view piece) const {
  // A per-thread cache: no lock on the hot path, and one tokenizer per thread at a time in practice.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Cache {
    uint64_t owner = 0;  // Impl::instance_id
    std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> map;
  };
  thread_local Cache cache;
  if (cache.owner != instance_id || cache.map.size() > 50000) {
    cache.map.clear();
    cache.owner = instance_id;
  }
  auto it = cache.map.find(piece);
  if (it != cache.map.end()) return it->second;
  // Only short pieces are cached (HF's BPE cache has the same bound): a long run is rarely seen
  // twice and would pin its bytes in every thread's cache.
  thread_local std::vector<int32_t> uncached;
  const bool cacheable = piece.size() <= kMaxCachedPiece;
  std::vector<int32_t> sym;
  if (ignore_merges) {  // Llama 3: a piece that is itself a token is not split
    std::string mapped;
    for (unsigned char c : piece) mapped += byte_to_char[c];
    if (auto t = token_to_id.find(mapped); t != token_to_id.end())
      return cache.map.emplace(std::string(piece), std::vector<int32_t>{t->second}).first->second;
  }
  sym.reserve(piece.size());
  for (unsigned char c : piece)
    if (byte_token[c] >= 0) sym.push_back(byte_token[c]);
  merge_symbols(sym);
  if (!cacheable) {
    uncached = std::move(sym);
    return uncached;
  }
  return cache.map.emplace(std::string(piece), std::move(sym)).first->second;
}

void Tokenizer::Impl::encode_plain(std::string_view text, bool first_segment,
                                   std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string normalized = normalize(text);
  for (std::string_view piece : pre_tokenize(normalized, first_segment)) {
    if (byte_level) {
      const auto& ids = bpe_bytes(piece);
      out.insert(out.end(), ids.begin(), ids.end());
    } else {
      auto ids = bpe_word(std::string(piece));
      out.insert(out.end(), ids.begin(), ids.end());
    }
  }
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  if (!is_valid_utf8(text)) return invalid_argument("text is not valid UTF-8");
  const Impl& t = *impl_;
  std::vector<int32_t> out;
  if (add_special_tokens) out.insert(out.end(), t.prefix_special.begin(), t.prefix_special.end());
  // Added tokens split the text first; the pieces between them go through the model.
  size_t seg_start = 0, i = 0;
  bool first = true;
  while (i < text.size()) {
    const AddedToken* hit = nullptr;
    if (!t.added_first[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    for (const auto& a : t.added) {
      if (a.content.empty() || text.compare(i, a.content.size(), a.content) != 0) continue;
      if (a.single_word) {
        auto word_char = [&](size_t pos) {
          return std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '_';
        };
        if ((i > 0 && word_char(i - 1)) ||
            (i + a.content.size() < text.size() && word_char(i + a.content.size())))
          continue;
      }
      hit = &a;
      break;
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    size_t seg_end = i, after = i + hit->content.size();
    if (hit->lstrip)
      while (seg_end > seg_start && std::isspace(static_cast<unsigned char>(text[seg_end - 1]))) --seg_end;
    if (hit->rstrip)
      while (after < text.size() && std::isspace(static_cast<unsigned char>(text[after]))) ++after;
    t.encode_plain(text.substr(seg_start, seg_end - seg_start), first, out);
    first = false;
    out.push_back(hit->id);
    seg_start = i = after;
  }
  t.encode_plain(text.substr(seg_start), first, out);
  if (add_special_tokens) out.insert(out.end(), t.suffix_special.begin(), t.suffix_special.end());
  return out;
}

}  // namespace sgl::text
