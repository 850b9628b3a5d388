// Ids → text, the accessors, and the streaming detokenizer.
#include <fmt/format.h>

#include "server/text/tokenizer_impl.h"

namespace sgl::text {

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

namespace {

// Replaces every invalid UTF-8 sequence by U+FFFD, as Python's errors="replace" does.
std::string repair_utf8(std::string&& raw) {
  if (is_valid_utf8(raw)) return std::move(raw);
  const std::string_view s = raw;
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 1;
    auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0xf0)
      len = 4;
    else if (b >= 0xe0)
      len = 3;
    else if (b >= 0xc0)
      len = 2;
    if (i + len <= s.size() && is_valid_utf8(s.substr(i, len))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
      while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) ++i;
    }
  }
  return out;
}

}  // namespace

std::string Tokenizer::token_bytes(int32_t id) const {
  const Impl& t = *impl_;
  if (id < 0 || id >= static_cast<int32_t>(t.id_to_token.size())) return "";
  if (static_cast<size_t>(id) < t.id_to_bytes.size()) return t.id_to_bytes[id];
  return decode_token_bytes(t, id);
}

std::string decode_token_bytes(const Tokenizer::Impl& t, int32_t id) {
  const std::string& tok = t.id_to_token[id];
  if (t.is_added[id]) return tok;  // added tokens are literal text
  std::string out;
  if (t.decode_byte_fallback && tok.size() == 6 && tok.starts_with("<0x") && tok.back() == '>') {
    out.push_back(static_cast<char>(std::stoi(tok.substr(3, 2), nullptr, 16)));
    return out;
  }
  if (t.decode_byte_level) {
    for (size_t i = 0; i < tok.size();) {
      uint32_t cp;
      auto b = static_cast<unsigned char>(tok[i]);
      size_t len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      cp = len == 1 ? b : (b & (0xff >> (len + 1)));
      for (size_t k = 1; k < len && i + k < tok.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(tok[i + k]) & 0x3f);
      auto it = t.char_to_byte.find(cp);
      if (it != t.char_to_byte.end())
        out.push_back(static_cast<char>(it->second));
      else
        out.append(tok, i, len);
      i += len;
    }
    return out;
  }
  out = tok;
  for (const auto& [from, to] : t.decode_replace) {
    std::string r;
    size_t pos = 0, hit;
    while ((hit = out.find(from, pos)) != std::string::npos) {
      r.append(out, pos, hit - pos);
      r += to;
      pos = hit + from.size();
    }
    r.append(out, pos);
    out = std::move(r);
  }
  return out;
}

std::string_view Tokenizer::piece(int32_t id, const DecodeOptions& opt, std::string& scratch) const {
  const Impl& t = *impl_;
  if (id < 0 || id >= static_cast<int32_t>(t.id_to_token.size())) return {};
  if (opt.skip_special_tokens && t.is_special[id]) return {};
  if (static_cast<size_t>(id) < t.id_to_bytes.size()) return t.id_to_bytes[id];
  return scratch = decode_token_bytes(t, id);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, const DecodeOptions& opt) const {
  const Impl& t = *impl_;
  std::string raw;
  std::string scratch;  // only for a tokenizer without the table
  bool at_start = !opt.continuation;
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(t.id_to_token.size())) continue;
    if (opt.skip_special_tokens && t.is_special[id]) continue;
    std::string_view piece = this->piece(id, opt, scratch);
    // The Strip/Metaspace decoders remove the space SentencePiece prepends to the first word: HF
    // applies them to the fused text, so only when that text starts with a model token (after
    // "<s>" kept in the output, the space stays: "<s> hello").
    if (at_start && !t.is_added[id] && t.decode_strip_start > 0) {
      size_t k = 0;
      while (k < static_cast<size_t>(t.decode_strip_start) && k < piece.size() && piece[k] == ' ') ++k;
      piece.remove_prefix(k);
    }
    at_start = false;
    raw += piece;
  }
  return repair_utf8(std::move(raw));
}

int64_t Tokenizer::vocab_size() const { return static_cast<int64_t>(impl_->id_to_token.size()); }
int64_t Tokenizer::base_vocab_size() const { return impl_->base_vocab; }
int32_t Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->token_to_id.find(std::string(token));
  return it == impl_->token_to_id.end() ? -1 : it->second;
}
std::string Tokenizer::id_to_token(int32_t id) const {
  return id >= 0 && id < static_cast<int32_t>(impl_->id_to_token.size()) ? impl_->id_to_token[id] : "";
}
bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < static_cast<int32_t>(impl_->is_special.size()) && impl_->is_special[id];
}
bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && id < static_cast<int32_t>(impl_->is_added.size()) && impl_->is_added[id];
}
int32_t Tokenizer::bos_token_id() const { return impl_->bos_id; }
int32_t Tokenizer::eos_token_id() const { return impl_->eos_id; }
const std::string& Tokenizer::bos_token() const { return impl_->bos_token; }
const std::string& Tokenizer::eos_token() const { return impl_->eos_token; }
bool Tokenizer::add_bos_token() const { return impl_->add_bos; }
const std::string& Tokenizer::chat_template() const { return impl_->chat_template; }
const std::string& Tokenizer::named_chat_template(std::string_view name) const {
  static const std::string kNone;
  auto it = impl_->named_templates.find(std::string(name));
  return it == impl_->named_templates.end() ? kNone : it->second;
}
const std::vector<int32_t>& Tokenizer::extra_stop_token_ids() const { return impl_->extra_stop_ids; }

StreamingDetokenizer::StreamingDetokenizer(std::shared_ptr<const Tokenizer> tok, DecodeOptions opt)
    : tok_(std::move(tok)), opt_(opt) {}

// The window [prefix_, read_) was already returned; decoding from prefix_ (not from read_) keeps
// the context a tokenizer needs to decode the new tokens as they decode inside the whole text.
std::string StreamingDetokenizer::feed(int32_t id) {
  // Fast path, exact: with nothing pending and a window that continues earlier text, a token
  // whose bytes are valid UTF-8 by themselves decodes to exactly those bytes appended (the UTF-8
  // repair of the window cannot reach into them: they start on a character boundary).
  if (prefix_ > 0 && read_ == ids_.size()) {
    std::string scratch;
    const std::string_view piece = tok_->piece(id, opt_, scratch);
    if (!piece.empty() && is_valid_utf8(piece) && !piece.ends_with("\xef\xbf\xbd")) {
      ids_.push_back(id);
      prefix_ = read_;
      read_ = ids_.size();
      return std::string(piece);
    }
  }
  ids_.push_back(id);
  std::span<const int32_t> all(ids_);
  // A window after the start continues the text: no start-of-text rules inside it.
  DecodeOptions window = opt_;
  window.continuation = prefix_ > 0;
  std::string prefix_text = tok_->decode(all.subspan(prefix_, read_ - prefix_), window);
  std::string new_text = tok_->decode(all.subspan(prefix_), window);
  // An unfinished multi-byte character decodes to U+FFFD at the end: wait for its other bytes.
  if (new_text.size() <= prefix_text.size() || new_text.ends_with("\xef\xbf\xbd")) return "";
  std::string delta = new_text.substr(prefix_text.size());
  prefix_ = read_;
  read_ = ids_.size();
  return delta;
}

std::string StreamingDetokenizer::finish() {
  std::span<const int32_t> all(ids_);
  DecodeOptions window = opt_;
  window.continuation = prefix_ > 0;
  std::string prefix_text = tok_->decode(all.subspan(prefix_, read_ - prefix_), window);
  std::string new_text = tok_->decode(all.subspan(prefix_), window);
  prefix_ = read_ = ids_.size();
  return new_text.size() > prefix_text.size() ? new_text.substr(prefix_text.size()) : "";
}

}  // namespace sgl::text
