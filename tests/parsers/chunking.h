// Feeds a whole text into the streaming parsers cut in different ways (whole, one byte at a
// time, pseudo-random pieces) so tests can hold every cut to the same result.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sgl::server::testing {

inline std::vector<std::vector<std::string>> cuts_of(std::string_view text) {
  std::vector<std::vector<std::string>> cuts;
  cuts.push_back({std::string(text)});
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  cuts.push_back(bytes);
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    std::vector<std::string> pieces;
    size_t i = 0;
    while (i < text.size()) {
      size_t n = 1 + rng() % 9;
      pieces.emplace_back(text.substr(i, n));
      i += n;
    }
    cuts.push_back(pieces);
  }
  return cuts;
}

}  // namespace sgl::server::testing
