// tiktoken-format tokenizers on small generated vocabularies: the BPE is tiktoken's exactly (a
// piece that is a token stays whole, else the adjacent pair whose concatenation ranks lowest merges,
// leftmost first), checked against a direct implementation of that rule; Grok-2's
// tokenizer.tok.json; how from_dir finds the files; bad files as error values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "server/text/chat_template.h"
#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

std::string base64(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kAlphabet[(v >> 18) & 63], out += kAlphabet[(v >> 12) & 63], out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63], out += kAlphabet[(v >> 12) & 63], out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// All 256 bytes plus random letter strings over `alphabet`, with shuffled ranks 0..n-1: merged
// tokens need not be reachable by merging, and a byte may rank above a merged token.
std::map<std::string, int32_t> random_vocab(std::mt19937& rng, std::string_view alphabet, int merged) {
  std::set<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.insert(std::string(1, char(b)));
  while (int(tokens.size()) < 256 + merged) {
    std::string s;
    for (size_t len = 2 + rng() % 5; s.size() < len;) s += alphabet[rng() % alphabet.size()];
    tokens.insert(s);
  }
  std::vector<int32_t> ranks(tokens.size());
  for (size_t i = 0; i < ranks.size(); ++i) ranks[i] = int32_t(i);
  std::shuffle(ranks.begin(), ranks.end(), rng);
  std::map<std::string, int32_t> vocab;
  size_t i = 0;
  for (const auto& t : tokens) vocab[t] = ranks[i++];
  return vocab;
}

std::string tiktoken_file(const std::map<std::string, int32_t>& vocab) {
  std::vector<std::pair<int32_t, std::string>> by_rank;
  for (const auto& [t, r] : vocab) by_rank.emplace_back(r, t);
  std::sort(by_rank.begin(), by_rank.end());
  std::string out;
  for (const auto& [r, t] : by_rank) out += base64(t) + " " + std::to_string(r) + "\n";
  return out;
}

// tiktoken's byte_pair_encode, written out directly.
std::vector<int32_t> reference_bpe(const std::string& piece, const std::map<std::string, int32_t>& vocab) {
  if (auto it = vocab.find(piece); it != vocab.end()) return {it->second};
  std::vector<std::string> parts;
  for (char c : piece) parts.emplace_back(1, c);
  for (;;) {
    int best = -1;
    int32_t best_rank = INT32_MAX;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = vocab.find(parts[i] + parts[i + 1]);
      if (it != vocab.end() && it->second < best_rank) best_rank = it->second, best = int(i);
    }
    if (best < 0) break;
    parts[best] += parts[best + 1];
    parts.erase(parts.begin() + best + 1);
  }
  std::vector<int32_t> ids;
  for (const auto& p : parts) ids.push_back(vocab.at(p));
  return ids;
}

TEST(Tiktoken, MergesExactlyAsTiktoken) {
  std::mt19937 rng(11);
  for (std::string_view alphabet : {"ab", "abc", "abcd"}) {
    const auto vocab = random_vocab(rng, alphabet, alphabet.size() == 2 ? 40 : 150);
    auto tok = Tokenizer::from_tiktoken(tiktoken_file(vocab), "");
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    // A word of letters is one piece of the split regex.
    for (int round = 0; round < 3000; ++round) {
      std::string word;
      for (size_t len = 1 + rng() % 40; word.size() < len;) word += alphabet[rng() % alphabet.size()];
      auto ids = (*tok)->encode(word);
      ASSERT_TRUE(ids.ok());
      ASSERT_EQ(*ids, reference_bpe(word, vocab)) << alphabet << " " << word;
      ASSERT_EQ((*tok)->decode(*ids), word);
    }
  }
}

TEST(Tiktoken, HandWrittenMergeOrder) {
  std::map<std::string, int32_t> vocab;
  for (int b = 0; b < 256; ++b) vocab[std::string(1, char(b))] = b;
  // "bc" ranks before "ab"; "abc" is made from a + bc; "xyz" only whole (neither "xy" nor "yz").
  vocab["bc"] = 256, vocab["ab"] = 257, vocab["abc"] = 258, vocab["xyz"] = 259, vocab["aa"] = 260;
  auto tok = Tokenizer::from_tiktoken(tiktoken_file(vocab), "").value();
  EXPECT_EQ(tok->encode("abcd").value(), (std::vector<int32_t>{258, 'd'}));
  EXPECT_EQ(tok->encode("abab").value(), (std::vector<int32_t>{257, 257}));
  EXPECT_EQ(tok->encode("xyz").value(), (std::vector<int32_t>{259}));
  EXPECT_EQ(tok->encode("xyzz").value(), (std::vector<int32_t>{'x', 'y', 'z', 'z'}));
  EXPECT_EQ(tok->encode("aaa").value(), (std::vector<int32_t>{260, 'a'}));  // leftmost on a tie
  // Specials follow the ranks, in QWenTokenizer's order.
  EXPECT_EQ(tok->token_to_id("<|endoftext|>"), 261);
  EXPECT_EQ(tok->token_to_id("<|im_end|>"), 263);
  EXPECT_EQ(tok->token_to_id("<|extra_204|>"), 468);
  EXPECT_EQ(tok->vocab_size(), 469);
  EXPECT_EQ(tok->eos_token_id(), 261);
  EXPECT_EQ(tok->extra_stop_token_ids(), std::vector<int32_t>{263});
  // NFC first: e + U+0301 is é (C3 A9).
  EXPECT_EQ(tok->encode("e\xcc\x81").value(), (std::vector<int32_t>{0xc3, 0xa9}));
}

std::string tok_json(const std::map<std::string, int32_t>& vocab, const std::vector<std::string>& specials) {
  nlohmann::json j;
  j["word_split"] = "V1";
  for (const auto& [t, r] : vocab)
    j["regular_tokens"].push_back({{"bytes", std::vector<uint8_t>(t.begin(), t.end())}, {"token", r}});
  int32_t id = int32_t(vocab.size());
  for (const auto& s : specials)
    j["special_tokens"].push_back({{"bytes", std::vector<uint8_t>(s.begin(), s.end())}, {"token", id++}});
  j["vocab_size"] = id;
  return j.dump();
}

TEST(Tiktoken, GrokTokJson) {
  std::map<std::string, int32_t> vocab;
  for (int b = 0; b < 256; ++b) vocab[std::string(1, char(b))] = b;
  vocab["He"] = 256, vocab["llo"] = 257, vocab["Hello"] = 258, vocab["ll"] = 259;
  const std::vector<std::string> specials = {"<|pad|>", "<|eos|>", "<|separator|>", "<|reserved_0|>",
                                             "<|control1|>"};
  auto r = Tokenizer::from_tok_json(tok_json(vocab, specials));
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto tok = *r;
  EXPECT_EQ(tok->vocab_size(), 265);
  EXPECT_EQ(tok->eos_token(), "<|eos|>");
  EXPECT_EQ(tok->eos_token_id(), 261);
  EXPECT_EQ(tok->bos_token_id(), -1);
  EXPECT_EQ(tok->extra_stop_token_ids(), std::vector<int32_t>{262});
  EXPECT_EQ(tok->encode("Hello<|separator|>").value(), (std::vector<int32_t>{258, 262}));
  EXPECT_EQ(tok->encode("<|control1|><|eos|>").value(), (std::vector<int32_t>{264, 261}));
  // SGLang lets only its own list of specials through; <|reserved_0|> stays text.
  auto reserved = tok->encode("<|reserved_0|>").value();
  EXPECT_GT(reserved.size(), 1u);
  EXPECT_EQ(tok->decode(reserved), "<|reserved_0|>");
  EXPECT_EQ(tok->decode(std::vector<int32_t>{263}, {.skip_special_tokens = false}), "<|reserved_0|>");
  EXPECT_EQ(tok->decode(std::vector<int32_t>{258, 262}, {.skip_special_tokens = true}), "Hello");
  // No NFC: the decomposed é stays three bytes.
  EXPECT_EQ(tok->encode("e\xcc\x81").value(), (std::vector<int32_t>{'e', 0xcc, 0x81}));
  // SGLang's Grok-2 template.
  auto tmpl = ChatTemplate::create(tok->chat_template()).value();
  nlohmann::json ctx = {{"messages",
                         {{{"role", "system"}, {"content", " Be nice. "}},
                          {{"role", "user"}, {"content", "Hi\n"}},
                          {{"role", "assistant"}, {"content", "Hello"}},
                          {{"role", "user"}, {"content", "Again"}}}},
                        {"add_generation_prompt", true}};
  EXPECT_EQ(tmpl->render(ctx.dump()).value(),
            "System: Be nice.<|separator|>\n\nHuman: Hi<|separator|>\n\nAssistant: Hello<|separator|>\n\n"
            "Human: Again<|separator|>\n\nAssistant:");
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("sgl_tiktoken_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
  }
};

TEST(Tiktoken, FromDirFindsQwenAndGrokFiles) {
  std::map<std::string, int32_t> vocab;
  for (int b = 0; b < 256; ++b) vocab[std::string(1, char(b))] = b;
  vocab["ab"] = 256;
  {
    TempDir d;
    d.write("qwen.tiktoken", tiktoken_file(vocab));
    d.write("tokenizer_config.json", R"({"tokenizer_class": "QWenTokenizer", "model_max_length": 8192})");
    auto tok = Tokenizer::from_dir(d.path.string());
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ((*tok)->encode("ab").value(), std::vector<int32_t>{256});
    EXPECT_EQ((*tok)->chat_template(), builtin_chat_template("chatml"));
    // A template in tokenizer_config.json, then chat_template.jinja, take precedence over ChatML.
    d.write("tokenizer_config.json", R"({"tokenizer_class": "QWenTokenizer", "chat_template": "T1"})");
    EXPECT_EQ(Tokenizer::from_dir(d.path.string()).value()->chat_template(), "T1");
    d.write("chat_template.jinja", "T2");
    EXPECT_EQ(Tokenizer::from_dir(d.path.string()).value()->chat_template(), "T2");
  }
  {
    TempDir d;
    d.write("tokenizer.tok.json", tok_json(vocab, {"<|eos|>", "<|separator|>"}));
    auto tok = Tokenizer::from_dir(d.path.string());
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ((*tok)->eos_token_id(), 257);
    // --tokenizer-path may name the file itself.
    auto file = Tokenizer::from_dir((d.path / "tokenizer.tok.json").string());
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ((*file)->encode("ab<|separator|>").value(), (std::vector<int32_t>{256, 258}));
  }
  {
    TempDir d;
    auto missing = Tokenizer::from_dir(d.path.string());
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    EXPECT_NE(missing.error().message.find("tokenizer.json"), std::string::npos);
  }
}

TEST(Tiktoken, BadFilesAreErrorValues) {
  std::map<std::string, int32_t> vocab;
  for (int b = 0; b < 256; ++b) vocab[std::string(1, char(b))] = b;
  const std::string good = tiktoken_file(vocab);
  ASSERT_TRUE(Tokenizer::from_tiktoken(good, "").ok());
  for (const std::string& bad : {std::string(""), std::string("not base64! 1\n"), std::string("YQ== x\n"),
                                 good + "YQ== 300\n",                  // bytes twice
                                 good + "YWI= 5\n",                    // rank twice
                                 good.substr(good.find('\n') + 1)}) {  // byte 0x00 missing
    auto r = Tokenizer::from_tiktoken(bad, "");
    ASSERT_FALSE(r.ok()) << bad.substr(0, 40);
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << bad.substr(0, 40);
  }
  EXPECT_EQ(Tokenizer::from_tiktoken(good, "{not json").error().code, ErrorCode::kCorrupt);
  for (const std::string& bad : {std::string("{"), std::string("[]"), std::string(R"({"regular_tokens": 3})"),
                                 std::string(R"({"regular_tokens": [{"bytes": [300], "token": 0}]})")}) {
    auto r = Tokenizer::from_tok_json(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << bad;
  }
  auto unknown_split = nlohmann::json::parse(tok_json(vocab, {}));
  unknown_split["word_split"] = "V9";
  EXPECT_EQ(Tokenizer::from_tok_json(unknown_split.dump()).error().code, ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace sgl::text
