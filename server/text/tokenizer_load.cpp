// Reading tokenizer.json / tokenizer_config.json into Tokenizer::Impl.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server/text/tokenizer_impl.h"

namespace sgl::text {

using Json = nlohmann::json;

namespace {

Result<std::shared_ptr<const Pcre2Code>> compile_regex(const std::string& pattern) {
  std::string error;
  size_t offset = 0;
  auto code = Pcre2Code::compile(pattern, PCRE2_UTF | PCRE2_UCP, PCRE2_JIT_COMPLETE, error, offset);
  if (code == nullptr)
    return invalid_argument(
        fmt::format("tokenizer regex /{}/ does not compile at {}: {}", pattern, offset, error));
  return code;
}

std::string pattern_of(const Json& p) {
  if (p.contains("Regex")) return p["Regex"].get<std::string>();
  return p.value("String", std::string());
}

Status add_normalizer(const Json& n, std::vector<NormalizerStep>& out) {
  if (n.is_null()) return {};
  std::string type = n.value("type", std::string());
  using K = NormalizerStep::Kind;
  if (type == "Sequence") {
    for (const auto& s : n["normalizers"]) SGL_TRY(add_normalizer(s, out));
  } else if (type == "NFC") {
    out.push_back({K::kNFC, "", ""});
  } else if (type == "NFKC") {
    out.push_back({K::kNFKC, "", ""});
  } else if (type == "NFD") {
    out.push_back({K::kNFD, "", ""});
  } else if (type == "NFKD") {
    out.push_back({K::kNFKD, "", ""});
  } else if (type == "Lowercase") {
    out.push_back({K::kLowercase, "", ""});
  } else if (type == "Replace") {
    if (n["pattern"].contains("Regex"))
      return unsupported("tokenizer: regex Replace normalizer is not supported");
    out.push_back({K::kReplace, pattern_of(n["pattern"]), n.value("content", std::string())});
  } else if (type == "Prepend") {
    out.push_back({K::kPrepend, "", n.value("prepend", std::string())});
  } else if (type == "Strip") {
    if (n.value("strip_left", false)) out.push_back({K::kStripLeft, "", ""});
    if (n.value("strip_right", false)) out.push_back({K::kStripRight, "", ""});
  } else {
    return unsupported("tokenizer: normalizer '" + type + "' is not supported");
  }
  return {};
}

Status add_pre_tokenizer(const Json& p, Tokenizer::Impl& t) {
  if (p.is_null()) return {};
  std::string type = p.value("type", std::string());
  if (type == "Sequence") {
    for (const auto& s : p["pretokenizers"]) SGL_TRY(add_pre_tokenizer(s, t));
  } else if (type == "Split") {
    SplitStep s;
    std::string behavior = p.value("behavior", std::string("Isolated"));
    if (p.value("invert", false))
      return unsupported("tokenizer: inverted Split pre-tokenizer is not supported");
    if (behavior == "Isolated")
      s.behavior = SplitStep::Behavior::kIsolated;
    else if (behavior == "Removed")
      s.behavior = SplitStep::Behavior::kRemoved;
    else if (behavior == "MergedWithPrevious")
      s.behavior = SplitStep::Behavior::kMergedWithPrevious;
    else if (behavior == "MergedWithNext")
      s.behavior = SplitStep::Behavior::kMergedWithNext;
    else
      return unsupported("tokenizer: Split behavior '" + behavior + "' is not supported");
    if (p["pattern"].contains("Regex")) {
      SGL_ASSIGN_OR_RETURN(s.regex, compile_regex(p["pattern"]["Regex"].get<std::string>()));
    } else {
      s.literal = pattern_of(p["pattern"]);
    }
    t.splits.push_back(std::move(s));
  } else if (type == "ByteLevel") {
    t.byte_level = true;
    t.byte_level_prefix_space = p.value("add_prefix_space", false);
    if (p.value("use_regex", true)) {
      // GPT-2's own split, applied when the file does not carry its own Split.
      SplitStep s;
      s.behavior = SplitStep::Behavior::kIsolated;
      SGL_ASSIGN_OR_RETURN(
          s.regex,
          compile_regex(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"));
      t.splits.push_back(std::move(s));
    }
  } else if (type == "Metaspace") {
    t.metaspace = true;
    t.metaspace_char = p.value("replacement", std::string("\xe2\x96\x81"));
    if (p.contains("prepend_scheme")) {
      t.metaspace_prepend = p["prepend_scheme"].get<std::string>();
    } else {
      t.metaspace_prepend = p.value("add_prefix_space", true) ? "always" : "never";
    }
    // split (HF's default): each ▁ starts a new piece, so no merge can span a word boundary.
    if (p.value("split", true)) {
      SplitStep s;
      s.behavior = SplitStep::Behavior::kMergedWithNext;
      s.literal = t.metaspace_char;
      t.splits.push_back(std::move(s));
    }
  } else if (type == "Digits" || type == "Punctuation" || type == "Whitespace" || type == "WhitespaceSplit") {
    return unsupported("tokenizer: pre-tokenizer '" + type + "' is not supported");
  } else {
    return unsupported("tokenizer: pre-tokenizer '" + type + "' is not supported");
  }
  return {};
}

Status add_decoder(const Json& d, Tokenizer::Impl& t) {
  if (d.is_null()) return {};
  std::string type = d.value("type", std::string());
  if (type == "Sequence") {
    for (const auto& s : d["decoders"]) SGL_TRY(add_decoder(s, t));
  } else if (type == "ByteLevel") {
    t.decode_byte_level = true;
  } else if (type == "ByteFallback") {
    t.decode_byte_fallback = true;
  } else if (type == "Replace") {
    t.decode_replace.emplace_back(pattern_of(d["pattern"]), d.value("content", std::string()));
  } else if (type == "Strip") {
    t.decode_strip_start = d.value("start", 0);
  } else if (type == "Metaspace") {
    t.decode_replace.emplace_back(d.value("replacement", std::string("\xe2\x96\x81")), " ");
    bool prepend =
        d.contains("prepend_scheme") ? d["prepend_scheme"] != "never" : d.value("add_prefix_space", true);
    if (prepend) t.decode_strip_start = 1;
  } else if (type == "Fuse") {
    // Joining token strings is what decode does anyway.
  } else {
    return unsupported("tokenizer: decoder '" + type + "' is not supported");
  }
  return {};
}

void add_post_processor(const Json& p, Tokenizer::Impl& t) {
  if (p.is_null()) return;
  std::string type = p.value("type", std::string());
  if (type == "Sequence") {
    for (const auto& s : p["processors"]) add_post_processor(s, t);
  } else if (type == "TemplateProcessing" && p.contains("single")) {
    bool after = false;
    for (const auto& piece : p["single"]) {
      if (piece.contains("Sequence")) {
        after = true;
      } else if (piece.contains("SpecialToken")) {
        auto it = t.token_to_id.find(piece["SpecialToken"].value("id", std::string()));
        if (it != t.token_to_id.end()) (after ? t.suffix_special : t.prefix_special).push_back(it->second);
      }
    }
  }
}

std::string token_content(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) return v.value("content", std::string());
  return "";
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Status read_tokenizer_config(std::string_view config_json, Tokenizer::Impl& t) {
  if (config_json.empty()) return {};
  Json c = Json::parse(config_json.begin(), config_json.end(), nullptr, false);
  if (c.is_discarded() || !c.is_object()) return corrupt("tokenizer_config.json: not a JSON object");
  t.bos_token = token_content(c.value("bos_token", Json()));
  t.eos_token = token_content(c.value("eos_token", Json()));
  t.add_bos = c.value("add_bos_token", false);
  if (c.contains("chat_template")) {
    const Json& ct = c["chat_template"];
    if (ct.is_string()) {
      t.chat_template = ct.get<std::string>();
    } else if (ct.is_array()) {
      for (const auto& e : ct) {
        std::string name = e.value("name", std::string()), tmpl = e.value("template", std::string());
        t.named_templates[name] = tmpl;
        if (name == "default") t.chat_template = tmpl;
      }
    }
  }
  if (t.chat_template.empty() && !t.named_templates.empty())
    t.chat_template = t.named_templates.begin()->second;
  return {};
}

std::shared_ptr<const Tokenizer> finish_tokenizer(std::unique_ptr<Tokenizer::Impl> t) {
  if (auto it = t->token_to_id.find(t->bos_token); !t->bos_token.empty() && it != t->token_to_id.end())
    t->bos_id = it->second;
  if (auto it = t->token_to_id.find(t->eos_token); !t->eos_token.empty() && it != t->token_to_id.end())
    t->eos_id = it->second;
  t->id_to_bytes.reserve(t->id_to_token.size());
  for (size_t id = 0; id < t->id_to_token.size(); ++id)
    t->id_to_bytes.push_back(decode_token_bytes(*t, static_cast<int32_t>(id)));
  t->max_bytes_per_token = compute_max_bytes_per_token(*t);
  // The constructor is not public: a tokenizer only exists loaded.
  struct Loaded : Tokenizer {
    explicit Loaded(std::unique_ptr<Impl> i) : Tokenizer(std::move(i)) {}
  };
  return std::make_shared<Loaded>(std::move(t));
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  // Grok-2's --tokenizer-path names the file itself.
  if (dir.ends_with(".tok.json") && fs::is_regular_file(dir)) {
    SGL_ASSIGN_OR_RETURN(std::string tj, read_file(dir));
    return from_tok_json(tj);
  }
  std::string cj;
  if (fs::exists(dir + "/tokenizer_config.json")) {
    SGL_ASSIGN_OR_RETURN(cj, read_file(dir + "/tokenizer_config.json"));
  }
  std::shared_ptr<const Tokenizer> tok;
  if (fs::exists(dir + "/tokenizer.json")) {
    SGL_ASSIGN_OR_RETURN(std::string tj, read_file(dir + "/tokenizer.json"));
    SGL_ASSIGN_OR_RETURN(tok, from_json(tj, cj));
  } else if (fs::exists(dir + "/qwen.tiktoken")) {
    SGL_ASSIGN_OR_RETURN(std::string tt, read_file(dir + "/qwen.tiktoken"));
    SGL_ASSIGN_OR_RETURN(tok, from_tiktoken(tt, cj));
  } else if (fs::exists(dir + "/tokenizer.tok.json")) {
    SGL_ASSIGN_OR_RETURN(std::string tj, read_file(dir + "/tokenizer.tok.json"));
    SGL_ASSIGN_OR_RETURN(tok, from_tok_json(tj));
  } else {
    return not_found("cannot read " + dir + "/tokenizer.json (nor qwen.tiktoken, tokenizer.tok.json)");
  }
  // Newer checkpoints ship the template as its own file; it takes precedence, as in transformers.
  if (fs::exists(dir + "/chat_template.jinja")) {
    SGL_ASSIGN_OR_RETURN(std::string tmpl, read_file(dir + "/chat_template.jinja"));
    std::const_pointer_cast<Tokenizer>(tok)->impl_->chat_template = std::move(tmpl);
  }
  return tok;
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::from_json(std::string_view tokenizer_json,
                                                              std::string_view config_json) {
  Json j = Json::parse(tokenizer_json.begin(), tokenizer_json.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("model"))
    return corrupt("tokenizer.json: not a tokenizer");
  auto t = std::make_unique<Impl>();
  const Json& m = j["model"];
  if (m.value("type", std::string("BPE")) != "BPE")
    return unsupported("tokenizer.json: model type '" + m.value("type", std::string()) +
                       "' (only BPE is supported)");
  t->init_byte_tables();
  int32_t max_id = -1;
  for (const auto& [tok, id] : m["vocab"].items()) max_id = std::max(max_id, id.get<int32_t>());
  t->base_vocab = max_id + 1;
  for (const auto& a : j.value("added_tokens", Json::array()))
    max_id = std::max(max_id, a["id"].get<int32_t>());
  t->id_to_token.resize(static_cast<size_t>(max_id + 1));
  t->is_special.assign(static_cast<size_t>(max_id + 1), 0);
  t->is_added.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [tok, id] : m["vocab"].items()) {
    t->id_to_token[id.get<int32_t>()] = tok;
    t->token_to_id.emplace(tok, id.get<int32_t>());
  }
  for (const auto& a : j.value("added_tokens", Json::array())) {
    AddedToken at;
    at.content = a.value("content", std::string());
    at.id = a["id"].get<int32_t>();
    at.special = a.value("special", false);
    at.lstrip = a.value("lstrip", false);
    at.rstrip = a.value("rstrip", false);
    at.single_word = a.value("single_word", false);
    at.normalized = a.value("normalized", !at.special);
    t->id_to_token[at.id] = at.content;
    t->token_to_id[at.content] = at.id;
    t->is_added[at.id] = 1;
    t->is_special[at.id] = at.special ? 1 : 0;
    t->added.push_back(std::move(at));
  }
  for (const auto& a : t->added)
    if (!a.content.empty()) t->added_first[static_cast<unsigned char>(a.content[0])] = true;
  // Longest first, so "<|im_start|>" wins over a shorter token that prefixes it.
  std::sort(t->added.begin(), t->added.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  t->ignore_merges = m.value("ignore_merges", false);
  t->byte_fallback = m.value("byte_fallback", false);
  if (m.contains("unk_token") && m["unk_token"].is_string()) {
    auto it = t->token_to_id.find(m["unk_token"].get<std::string>());
    if (it != t->token_to_id.end()) t->unk_id = it->second;
  }
  if (m.contains("continuing_subword_prefix") && m["continuing_subword_prefix"].is_string())
    t->continuing_subword_prefix = m["continuing_subword_prefix"].get<std::string>();
  if (m.contains("end_of_word_suffix") && m["end_of_word_suffix"].is_string())
    t->end_of_word_suffix = m["end_of_word_suffix"].get<std::string>();
  int32_t rank = 0;
  for (const auto& mg : m["merges"]) {
    std::string a, b;
    if (mg.is_string()) {  // older files: "a b"
      auto s = mg.get<std::string>();
      auto sp = s.find(' ');
      if (sp == std::string::npos) return corrupt("tokenizer.json: bad merge '" + s + "'");
      a = s.substr(0, sp), b = s.substr(sp + 1);
    } else {
      a = mg[0].get<std::string>(), b = mg[1].get<std::string>();
    }
    auto ia = t->token_to_id.find(a), ib = t->token_to_id.find(b);
    std::string merged = a + b;
    if (!t->continuing_subword_prefix.empty() && merged.starts_with(t->continuing_subword_prefix))
      merged = a + b.substr(std::min(b.size(), t->continuing_subword_prefix.size()));
    auto im = t->token_to_id.find(merged);
    if (ia != t->token_to_id.end() && ib != t->token_to_id.end() && im != t->token_to_id.end()) {
      uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(ia->second)) << 32) |
                     static_cast<uint32_t>(ib->second);
      t->merges.emplace(key, std::make_pair(rank, im->second));
    }
    ++rank;
  }
  for (int b = 0; b < 256; ++b) {
    auto it = t->token_to_id.find(t->byte_to_char[b]);
    t->byte_token[b] = it == t->token_to_id.end() ? -1 : it->second;
  }
  SGL_TRY(add_normalizer(j.value("normalizer", Json()), t->normalizers));
  SGL_TRY(add_pre_tokenizer(j.value("pre_tokenizer", Json()), *t));
  SGL_TRY(add_decoder(j.value("decoder", Json()), *t));
  add_post_processor(j.value("post_processor", Json()), *t);

  SGL_TRY(read_tokenizer_config(config_json, *t));
  return finish_tokenizer(std::move(t));
}

}  // namespace sgl::text
