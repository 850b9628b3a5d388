#include "bench/serving/dataset.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace sgl::bench {
namespace {

// A toy codec with boundary effects: token k is the letter 'a'+k%26 repeated (k/26)+1 times, and
// encoding greedily takes runs of a letter up to 3 long — so decode→encode is not the identity.
TokenCodec toy_codec() {
  TokenCodec c;
  c.vocab_size = 78;
  c.decode = [](std::span<const int32_t> ids) {
    std::string s;
    for (int32_t id : ids) s.append(static_cast<size_t>(id / 26 + 1), static_cast<char>('a' + id % 26));
    return s;
  };
  c.encode = [](std::string_view s) {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i < s.size()) {
      size_t n = 1;
      while (n < 3 && i + n < s.size() && s[i + n] == s[i]) ++n;
      ids.push_back(static_cast<int32_t>((n - 1) * 26 + (s[i] - 'a')));
      i += n;
    }
    return ids;
  };
  return c;
}

TEST(BenchDataset, LengthsUniformInRange) {
  std::mt19937_64 rng(3);
  auto lens = draw_lengths(rng, 2000, 100, 0.5);
  int64_t lo = 1000, hi = 0;
  for (auto l : lens) lo = std::min(lo, l), hi = std::max(hi, l);
  EXPECT_EQ(lo, 50);
  EXPECT_EQ(hi, 100);
  auto fixed = draw_lengths(rng, 10, 64, 1.0);
  for (auto l : fixed) EXPECT_EQ(l, 64);
  auto tiny = draw_lengths(rng, 10, 5, 0.0);
  for (auto l : tiny) EXPECT_GE(l, 1);
}

TEST(BenchDataset, RandomIdsReencodeToExactLength) {
  TokenCodec c = toy_codec();
  RandomDatasetOptions opt;
  opt.num_prompts = 50;
  opt.input_len = 40;
  opt.output_len = 8;
  opt.range_ratio = 0.5;
  auto rows = random_ids_dataset(c, opt);
  ASSERT_GE(rows.size(), 45u);
  for (const auto& r : rows) {
    EXPECT_EQ(static_cast<int64_t>(c.encode(r.prompt).size()), r.prompt_len);
    EXPECT_GE(r.prompt_len, 20);
    EXPECT_LE(r.output_len, 8);
  }
  // Same seed, same prompts.
  auto again = random_ids_dataset(c, opt);
  ASSERT_EQ(again.size(), rows.size());
  EXPECT_EQ(again[7].prompt, rows[7].prompt);
}

TEST(BenchDataset, ShareGptFileErrorsAndRows) {
  TokenCodec c = toy_codec();
  RandomDatasetOptions opt;
  opt.num_prompts = 5;
  opt.input_len = 12;
  opt.range_ratio = 1.0;
  EXPECT_FALSE(random_sharegpt_dataset(c, "/nonexistent/sharegpt.json", opt).ok());
  std::string path = ::testing::TempDir() + "sharegpt_test.json";
  {
    std::ofstream f(path);
    f << R"([{"conversations":[{"from":"human","value":"abcabcab"},{"from":"gpt","value":"xyzxyz"}]},
             {"conversations":[{"from":"human","value":"only one turn"}]}])";
  }
  auto rows = random_sharegpt_dataset(c, path, opt);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 5u);
  for (const auto& r : *rows) EXPECT_EQ(static_cast<int64_t>(c.encode(r.prompt).size()), 12);
  auto plain = sharegpt_dataset(c, path, 10, 0, 1);
  ASSERT_TRUE(plain.ok());
  ASSERT_EQ(plain->size(), 1u);
  EXPECT_EQ((*plain)[0].output_len, 6);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace sgl::bench
