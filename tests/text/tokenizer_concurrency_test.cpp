// One loaded tokenizer is shared by every reactor thread, and tokenizers are loaded and dropped
// over a process's life (tests, model swaps): neither may change the ids a text gets.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/shared_dir.h"
#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

std::vector<std::string> corpus() {
  std::ifstream f(std::string(SGL_SOURCE_DIR) + "/tests/text/fixtures/corpus.json");
  return nlohmann::json::parse(f).get<std::vector<std::string>>();
}

TEST(TokenizerConcurrency, ThreadsSharingOneTokenizerGetTheSerialIds) {
  std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  if (shared.empty()) GTEST_SKIP() << "../shared not found";
  auto loaded = Tokenizer::from_dir(shared + "/models/qwen3-tokenizer");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  std::shared_ptr<const Tokenizer> tok = *loaded;
  const auto texts = corpus();
  std::vector<std::vector<int32_t>> serial;
  for (const auto& t : texts) serial.push_back(*tok->encode(t));
  // Each thread walks the corpus in its own order (so caches fill differently) and also streams
  // the ids back, the two things a reactor thread does per request.
  constexpr int kThreads = 4;
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (size_t k = 0; k < texts.size(); ++k) {
        size_t i = (k * (2 * w + 1) + static_cast<size_t>(w) * 37) % texts.size();
        auto ids = tok->encode(texts[i]);
        if (!ids.ok() || *ids != serial[i]) {
          ++wrong[w];
          continue;
        }
        StreamingDetokenizer d(tok, {.skip_special_tokens = false});
        std::string streamed;
        for (int32_t id : *ids) streamed += d.feed(id);
        streamed += d.finish();
        if (streamed != tok->decode(*ids, {.skip_special_tokens = false})) ++wrong[w];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kThreads; ++w) EXPECT_EQ(wrong[w], 0) << "thread " << w << " of " << texts.size();
}

// A tiny byte-level BPE whose only merge is `merge`: "hel" encodes as [he, l] or [h, el].
std::shared_ptr<const Tokenizer> tiny_byte_level(const char* left, const char* right) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "version": "1.0", "added_tokens": [], "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
    "post_processor": null, "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"h": 0, "e": 1, "l": 2, "he": 3, "el": 4}, "merges": []}})");
  j["model"]["merges"].push_back({left, right});
  auto t = Tokenizer::from_json(j.dump(), "");
  return t.ok() ? *t : nullptr;
}

TEST(TokenizerConcurrency, ATokenizerLoadedAfterAnotherDoesNotSeeItsCachedWords) {
  // Per-thread caches must be tied to one tokenizer instance, not to an address the allocator
  // hands out again after the previous tokenizer is dropped.
  for (int round = 0; round < 20; ++round) {
    {
      auto a = tiny_byte_level("h", "e");
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(*a->encode("hel"), (std::vector<int32_t>{3, 2}));
    }
    auto b = tiny_byte_level("e", "l");
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(*b->encode("hel"), (std::vector<int32_t>{0, 4})) << "round " << round;
  }
}

}  // namespace
}  // namespace sgl::text
