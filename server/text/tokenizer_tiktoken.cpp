// tiktoken tokenizers, which ship no tokenizer.json: Qwen v1's qwen.tiktoken and Grok-2's
// tokenizer.tok.json. Both load into the byte-level BPE of Tokenizer::Impl, set up so that it
// computes exactly what tiktoken does.
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "server/text/chat_template.h"
#include "server/text/tokenizer_impl.h"

namespace sgl::text {

namespace {

using Json = nlohmann::json;

// tokenization_qwen.py's PAT_STR; Grok-2's word_split "V1" is the same (SGLang's PAT_STR_B).
constexpr std::string_view kQwenPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// SGLang's hard-coded Grok-2 template (tiktoken_tokenizer.py).
constexpr std::string_view kGrokTemplate =
    "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'Human: ' + "
    "message['content'].strip() + '<|separator|>\\n\\n' }}{% elif message['role'] == 'system' %}{{ "
    "'System: ' + message['content'].strip() + '<|separator|>\\n\\n' }}{% elif message['role'] == "
    "'assistant' %}{{ 'Assistant: '  + message['content'] + '<|separator|>\\n\\n' }}{% endif %}{% endfor "
    "%}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

constexpr int32_t kMaxId = 1 << 24;  // far above any real vocabulary; guards the tables' size

struct Special {
  std::string text;
  int32_t id = -1;
  bool recognized = true;  // special-token text in the input encodes to the id (tiktoken's allowed_special)
};

struct TiktokenSpec {
  std::vector<std::pair<std::string, int32_t>> ranks;  // token bytes, rank (the rank is the id)
  std::vector<Special> specials;
  std::string pattern;
  bool nfc = false;
};

// Heterogeneous lookup: the merge table is built from views into the tokens' bytes.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

Result<std::unique_ptr<Tokenizer::Impl>> build(const TiktokenSpec& s, std::string_view what) {
  auto t = std::make_unique<Tokenizer::Impl>();
  t->init_byte_tables();
  int32_t max_rank = -1, max_id = -1;
  for (const auto& [bytes, rank] : s.ranks) {
    if (rank < 0 || rank >= kMaxId || bytes.empty())
      return corrupt(fmt::format("{}: bad token (rank {}, {} bytes)", what, rank, bytes.size()));
    max_rank = std::max(max_rank, rank);
  }
  max_id = max_rank;
  for (const auto& sp : s.specials) {
    if (sp.id < 0 || sp.id >= kMaxId || sp.text.empty())
      return corrupt(fmt::format("{}: bad special token '{}' ({})", what, sp.text, sp.id));
    max_id = std::max(max_id, sp.id);
  }
  const auto n = static_cast<size_t>(max_id + 1);
  t->id_to_token.resize(n);
  t->is_special.assign(n, 0);
  t->is_added.assign(n, 0);
  t->base_vocab = max_rank + 1;
  std::vector<uint8_t> taken(n, 0);
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> by_bytes;
  by_bytes.reserve(s.ranks.size());
  t->token_to_id.reserve(s.ranks.size() + s.specials.size());
  for (const auto& [bytes, rank] : s.ranks) {
    if (taken[rank] || !by_bytes.emplace(bytes, rank).second)
      return corrupt(fmt::format("{}: rank {} or its bytes appear twice", what, rank));
    taken[rank] = 1;
    // Token strings in GPT-2's byte-level form, as a byte-level tokenizer.json writes them.
    std::string sym;
    for (unsigned char c : bytes) sym += t->byte_to_char[c];
    t->token_to_id.emplace(sym, rank);
    t->id_to_token[rank] = std::move(sym);
  }
  // tiktoken merges, of all adjacent parts, the pair whose concatenation has the lowest rank (the
  // leftmost on a tie). Impl merges by (left id, right id) → (rank, merged id), lowest rank first
  // and leftmost on a tie: every split of a token into two tokens is such a pair, ranked by the
  // token it makes, so both pick the same pair at every step.
  for (const auto& [bytes, rank] : s.ranks) {
    const std::string_view b = bytes;
    for (size_t k = 1; k < b.size(); ++k) {
      auto left = by_bytes.find(b.substr(0, k));
      if (left == by_bytes.end()) continue;
      auto right = by_bytes.find(b.substr(k));
      if (right == by_bytes.end()) continue;
      const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left->second)) << 32) |
                           static_cast<uint32_t>(right->second);
      t->merges.emplace(key, std::make_pair(rank, rank));
    }
  }
  // tiktoken encodes a piece that is itself a token as that token, before any merging.
  t->ignore_merges = true;
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    auto it = by_bytes.find(std::string_view(&c, 1));
    if (it == by_bytes.end()) return corrupt(fmt::format("{}: no token for byte 0x{:02x}", what, b));
    t->byte_token[b] = it->second;
  }
  for (const auto& sp : s.specials) {
    if (taken[sp.id]) return corrupt(fmt::format("{}: id {} appears twice", what, sp.id));
    taken[sp.id] = 1;
    t->id_to_token[sp.id] = sp.text;
    t->token_to_id[sp.text] = sp.id;
    t->is_added[sp.id] = 1;
    t->is_special[sp.id] = 1;
    if (!sp.recognized) continue;
    AddedToken at;
    at.content = sp.text;
    at.id = sp.id;
    at.special = true;
    t->added_first[static_cast<unsigned char>(sp.text[0])] = true;
    t->added.push_back(std::move(at));
  }
  // Longest first, as the tokenizer.json loader orders them (tiktoken's alternation of specials
  // picks the earliest match; none of these is a prefix of another).
  std::sort(t->added.begin(), t->added.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  if (s.nfc) t->normalizers.push_back({NormalizerStep::Kind::kNFC, "", ""});
  SplitStep split;
  split.behavior = SplitStep::Behavior::kIsolated;
  std::string error;
  size_t offset = 0;
  split.regex = Pcre2Code::compile(s.pattern, PCRE2_UTF | PCRE2_UCP, PCRE2_JIT_COMPLETE, error, offset);
  if (split.regex == nullptr)
    return invalid_argument(
        fmt::format("{}: split regex /{}/ does not compile at {}: {}", what, s.pattern, offset, error));
  t->splits.push_back(std::move(split));
  t->byte_level = true;
  t->decode_byte_level = true;
  return t;
}

// Standard base64 (tiktoken's files), padding optional.
bool base64_decode(std::string_view in, std::string& out) {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = int8_t(i);
    return t;
  }();
  out.clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return bits < 6;  // a lone trailing character carries no whole byte
}

bool parse_int(std::string_view s, int32_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// {bytes: [u8...], token: id} → (bytes, id).
Status read_token_list(const Json& list, std::string_view what,
                       std::vector<std::pair<std::string, int32_t>>& out) {
  if (!list.is_array()) return corrupt(fmt::format("tokenizer.tok.json: {} is not a list", what));
  out.reserve(list.size());
  for (const auto& e : list) {
    if (!e.is_object() || !e.contains("bytes") || !e["bytes"].is_array() || !e.contains("token") ||
        !e["token"].is_number_integer())
      return corrupt(fmt::format("tokenizer.tok.json: bad entry in {}", what));
    std::string bytes;
    for (const auto& b : e["bytes"]) {
      if (!b.is_number_integer() || b.get<int64_t>() < 0 || b.get<int64_t>() > 255)
        return corrupt(fmt::format("tokenizer.tok.json: bad byte in {}", what));
      bytes.push_back(static_cast<char>(b.get<int>()));
    }
    out.emplace_back(std::move(bytes), e["token"].get<int32_t>());
  }
  return {};
}

// The specials SGLang's Grok-2 tokenizer lets through as special ids (the others stay plain text):
// <|pad|>, <|eos|>, <|separator|>, <|control1|>..<|control704|>, <|reserved_3|>..<|reserved_127|>.
bool grok_allowed_special(std::string_view s) {
  if (s == "<|pad|>" || s == "<|eos|>" || s == "<|separator|>") return true;
  auto numbered = [&](std::string_view prefix, int lo, int hi) {
    if (!s.starts_with(prefix) || !s.ends_with("|>")) return false;
    std::string_view digits = s.substr(prefix.size(), s.size() - prefix.size() - 2);
    int32_t v = 0;
    return !digits.empty() && digits[0] != '0' && parse_int(digits, v) && v >= lo && v <= hi;
  };
  return numbered("<|control", 1, 704) || numbered("<|reserved_", 3, 127);
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_tiktoken(std::string_view tiktoken,
                                                                  std::string_view config_json) {
  TiktokenSpec spec;
  spec.pattern = kQwenPattern;
  spec.nfc = true;  // QWenTokenizer.tokenize normalizes to NFC first
  std::string bytes;
  size_t line_no = 0;
  while (!tiktoken.empty()) {
    const size_t eol = tiktoken.find('\n');
    std::string_view line = tiktoken.substr(0, eol);
    tiktoken.remove_prefix(eol == std::string_view::npos ? tiktoken.size() : eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    int32_t rank = -1;
    if (sp == std::string_view::npos || !base64_decode(line.substr(0, sp), bytes) ||
        !parse_int(line.substr(sp + 1), rank))
      return corrupt(fmt::format("qwen.tiktoken: line {} is not 'base64 rank'", line_no));
    spec.ranks.emplace_back(bytes, rank);
  }
  if (spec.ranks.empty()) return corrupt("qwen.tiktoken: no tokens");
  // tokenization_qwen.py: the specials follow the mergeable ranks, in this order.
  int32_t next = 0;
  for (const auto& r : spec.ranks) next = std::max(next, std::min(r.second, kMaxId) + 1);
  for (const char* s : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}) spec.specials.push_back({s, next++});
  for (int i = 0; i < 205; ++i) spec.specials.push_back({fmt::format("<|extra_{}|>", i), next++});
  SGL_ASSIGN_OR_RETURN(auto t, build(spec, "qwen.tiktoken"));
  SGL_TRY(read_tokenizer_config(config_json, *t));
  if (t->eos_token.empty()) t->eos_token = "<|endoftext|>";  // QWenTokenizer's eod, also its pad
  if (t->chat_template.empty()) t->chat_template = std::string(builtin_chat_template("chatml"));
  t->extra_stop_ids.push_back(t->token_to_id.at("<|im_end|>"));
  return finish_tokenizer(std::move(t));
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_tok_json(std::string_view tok_json) {
  Json j = Json::parse(tok_json.begin(), tok_json.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("regular_tokens"))
    return corrupt("tokenizer.tok.json: not a tiktoken tokenizer");
  TiktokenSpec spec;
  SGL_TRY(read_token_list(j["regular_tokens"], "regular_tokens", spec.ranks));
  std::vector<std::pair<std::string, int32_t>> specials;
  if (j.contains("special_tokens") && !j["special_tokens"].is_null())
    SGL_TRY(read_token_list(j["special_tokens"], "special_tokens", specials));
  // The file's own default_allowed_special join SGLang's list (its loader means to add them too).
  std::vector<std::string> file_allowed;
  for (const auto& b : j.value("default_allowed_special", Json::array())) {
    std::string s;
    if (b.is_array())
      for (const auto& c : b)
        if (c.is_number_integer()) s.push_back(static_cast<char>(c.get<int>()));
    file_allowed.push_back(std::move(s));
  }
  for (auto& [text, id] : specials) {
    if (!is_valid_utf8(text)) return corrupt("tokenizer.tok.json: a special token is not UTF-8");
    const bool allowed = grok_allowed_special(text) ||
                         std::find(file_allowed.begin(), file_allowed.end(), text) != file_allowed.end();
    spec.specials.push_back({std::move(text), id, allowed});
  }
  const Json split = j.value("word_split", Json("V1"));
  if (j.contains("pat_str") && j["pat_str"].is_string()) {
    spec.pattern = j["pat_str"].get<std::string>();
  } else if (split == "V1") {
    spec.pattern = kQwenPattern;
  } else {
    return unsupported("tokenizer.tok.json: word_split " + split.dump() + " without a pat_str");
  }
  SGL_ASSIGN_OR_RETURN(auto t, build(spec, "tokenizer.tok.json"));
  t->eos_token = "<|eos|>";
  t->chat_template = kGrokTemplate;
  // Turns end with <|separator|> (SGLang's template); <|eos|> ends the text.
  if (auto it = t->token_to_id.find("<|separator|>"); it != t->token_to_id.end())
    t->extra_stop_ids.push_back(it->second);
  return finish_tokenizer(std::move(t));
}

}  // namespace sgl::text
