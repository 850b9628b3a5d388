// Loading tokenizers: every model directory under ../shared/models, tokenizer_config.json shapes
// (named templates, token objects), and the error values a bad file or bad input gives instead of
// a crash (the server turns them into a load error or HTTP 400).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/shared_dir.h"
#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

// Generated at configure time by gen_sp_tokenizer.py (tests/text/CMakeLists.txt).
const std::string kSpDir = std::string(SGL_BINARY_DIR) + "/tests/text/fixtures/sp";

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

// The small SentencePiece-style tokenizer.json with one part replaced.
std::string sp_tokenizer_with(const std::string& key, const nlohmann::json& value) {
  auto j = read_json(kSpDir + "/tokenizer.json");
  j[key] = value;
  return j.dump();
}

std::string file_or_empty(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(TokenizerLoading, EveryModelDirLoadsWithItsConfig) {
  std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  if (shared.empty()) GTEST_SKIP() << "../shared not found";
  // Model dirs often carry byte-identical tokenizer files: load each distinct set once (CI time),
  // but check every directory's config.json against it.
  std::map<std::string, std::shared_ptr<const Tokenizer>> by_files;
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(shared + "/models")) {
    const std::string dir = entry.path().string();
    if (!std::filesystem::exists(dir + "/tokenizer.json") && !std::filesystem::exists(dir + "/qwen.tiktoken"))
      continue;
    const std::string key =
        file_or_empty(dir + "/tokenizer.json") + '\0' + file_or_empty(dir + "/qwen.tiktoken") + '\0' +
        file_or_empty(dir + "/tokenizer_config.json") + '\0' + file_or_empty(dir + "/chat_template.jinja");
    auto& tok = by_files[key];
    if (!tok) {
      auto loaded = Tokenizer::from_dir(dir);
      ASSERT_TRUE(loaded.ok()) << dir << ": " << loaded.error().message;
      tok = *loaded;
    }
    ++checked;
    // The eos named by tokenizer_config.json is one of the model's stop ids (config.json's and
    // generation_config.json's eos_token_id).
    ASSERT_GE(tok->eos_token_id(), 0) << dir;
    if (std::filesystem::exists(dir + "/config.json")) {
      auto cfg = read_json(dir + "/config.json");
      std::vector<int32_t> stops;
      for (const char* file : {"/config.json", "/generation_config.json"}) {
        if (!std::filesystem::exists(dir + file)) continue;
        auto eos = read_json(dir + file).value("eos_token_id", nlohmann::json());
        if (eos.is_array())
          for (const auto& id : eos) stops.push_back(id.get<int32_t>());
        else if (eos.is_number())
          stops.push_back(eos.get<int32_t>());
      }
      EXPECT_NE(std::find(stops.begin(), stops.end(), tok->eos_token_id()), stops.end()) << dir;
      EXPECT_LE(tok->vocab_size(), cfg.value("vocab_size", int64_t{1} << 40)) << dir;
    }
    EXPECT_EQ(tok->id_to_token(tok->eos_token_id()), tok->eos_token()) << dir;
    EXPECT_TRUE(tok->is_special(tok->eos_token_id())) << dir;
    EXPECT_FALSE(tok->chat_template().empty()) << dir;
    EXPECT_GT(tok->vocab_size(), tok->base_vocab_size()) << dir << " has added tokens";
  }
  EXPECT_GE(checked, 1);
}

TEST(TokenizerLoading, NamedChatTemplatesAndTokenObjects) {
  nlohmann::json cfg = {
      {"bos_token", {{"content", "<s>"}, {"lstrip", false}}},
      {"eos_token", "</s>"},
      {"add_bos_token", true},
      {"chat_template",
       {{{"name", "default"}, {"template", "{{ messages }}"}}, {{"name", "tool_use"}, {"template", "T"}}}}};
  std::ifstream f(kSpDir + "/tokenizer.json");
  std::string tj((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto tok = Tokenizer::from_json(tj, cfg.dump());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ((*tok)->chat_template(), "{{ messages }}");
  EXPECT_EQ((*tok)->named_chat_template("tool_use"), "T");
  EXPECT_EQ((*tok)->named_chat_template("absent"), "");
  EXPECT_EQ((*tok)->bos_token(), "<s>");
  EXPECT_EQ((*tok)->bos_token_id(), 1);
  EXPECT_EQ((*tok)->eos_token_id(), 2);
  // Without a config: no bos/eos, no template, but the tokenizer works.
  auto bare = Tokenizer::from_json(tj, "");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ((*bare)->bos_token_id(), -1);
  EXPECT_EQ((*bare)->chat_template(), "");
  EXPECT_TRUE((*bare)->encode("the").ok());
}

TEST(TokenizerLoading, MissingOrCorruptFilesAreErrorValues) {
  auto missing = Tokenizer::from_dir("/nonexistent/model/dir");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("tokenizer.json"), std::string::npos);

  for (std::string bad : {"", "{", "[1,2,3]", "{\"version\": \"1.0\"}", "\xff\xfe"}) {
    auto r = Tokenizer::from_json(bad, "");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << bad;
  }
  std::ifstream f(kSpDir + "/tokenizer.json");
  std::string tj((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto bad_config = Tokenizer::from_json(tj, "{not json");
  ASSERT_FALSE(bad_config.ok());
  EXPECT_EQ(bad_config.error().code, ErrorCode::kCorrupt);
}

TEST(TokenizerLoading, UnsupportedComponentsAreNamedInTheError) {
  struct Case {
    std::string key;
    nlohmann::json value;
    std::string named;
  };
  auto model = read_json(kSpDir + "/tokenizer.json")["model"];
  model["type"] = "WordPiece";
  using nlohmann::json;
  const std::vector<Case> cases = {
      {"model", model, "WordPiece"},
      {"normalizer", json::parse(R"({"type": "BertNormalizer"})"), "BertNormalizer"},
      {"normalizer",
       json::parse(R"({"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Precompiled"}]})"),
       "Precompiled"},
      {"pre_tokenizer", json::parse(R"({"type": "Digits", "individual_digits": true})"), "Digits"},
      {"pre_tokenizer", json::parse(R"({"type": "UnicodeScripts"})"), "UnicodeScripts"},
      {"decoder", json::parse(R"({"type": "WordPiece"})"), "WordPiece"},
  };
  for (const auto& c : cases) {
    auto r = Tokenizer::from_json(sp_tokenizer_with(c.key, c.value), "");
    ASSERT_FALSE(r.ok()) << c.key << " " << c.value.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kUnsupported) << r.error().message;
    EXPECT_NE(r.error().message.find(c.named), std::string::npos) << r.error().message;
  }
  // A split regex PCRE2 rejects is an error value too, not an exception or a crash.
  auto bad_regex = Tokenizer::from_json(
      sp_tokenizer_with("pre_tokenizer", json::parse(R"({"type": "Split", "pattern": {"Regex": "(unclosed"},
                                                         "behavior": "Isolated", "invert": false})")),
      "");
  ASSERT_FALSE(bad_regex.ok());
  EXPECT_NE(bad_regex.error().message.find("(unclosed"), std::string::npos) << bad_regex.error().message;
}

TEST(TokenizerLoading, InvalidUtf8InputIsAnInvalidArgument) {
  auto tok = Tokenizer::from_dir(kSpDir);
  ASSERT_TRUE(tok.ok());
  for (std::string bad :
       {std::string("\xff"), std::string("ab\xc3"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
        std::string("\xf4\x90\x80\x80"), std::string("\x80z"), std::string("ok \xe2\x82 then")}) {
    auto r = (*tok)->encode(bad);
    ASSERT_FALSE(r.ok()) << "accepted invalid UTF-8 of " << bad.size() << " bytes";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  // Valid edge cases: NUL, the largest code point, a lone combining mark.
  for (std::string good :
       {std::string("a\0b", 3), std::string("\xf4\x8f\xbf\xbf"), std::string("\xcc\x81")}) {
    auto r = (*tok)->encode(good);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->empty());
  }
  EXPECT_TRUE((*tok)->encode("")->empty());
}

}  // namespace
}  // namespace sgl::text
