// The small tokenizers generated at configure time (tests/text/CMakeLists.txt) and the check of
// one against its committed transformers.js reference ids.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "server/text/tokenizer.h"

namespace sgl::text::testing {

inline std::string generated_dir(const std::string& name) {
  return std::string(SGL_BINARY_DIR) + "/tests/text/fixtures/" + name;
}
inline std::string reference_dir(const std::string& name) {
  return std::string(SGL_SOURCE_DIR) + "/tests/text/fixtures/" + name;
}

// Every reference string: ids without and with special tokens, and the decode, equal the reference.
inline void expect_matches_reference(const std::string& name, size_t min_cases) {
  auto tok = Tokenizer::from_dir(generated_dir(name));
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  std::ifstream f(reference_dir(name) + "/reference.json");
  auto ref = nlohmann::json::parse(f);
  ASSERT_GE(ref.size(), min_cases);
  for (const auto& c : ref) {
    const std::string text = c["text"];
    auto ids = (*tok)->encode(text);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, c["ids"].get<std::vector<int32_t>>())
        << "transformers.js differs on " << c["text"].dump();
    auto with_bos = (*tok)->encode(text, /*add_special_tokens=*/true);
    EXPECT_EQ(*with_bos, c["ids_with_special"].get<std::vector<int32_t>>()) << c["text"].dump();
    EXPECT_EQ((*tok)->decode(*ids, {.skip_special_tokens = false}), c["decoded"].get<std::string>())
        << c["text"].dump();
  }
}

}  // namespace sgl::text::testing
