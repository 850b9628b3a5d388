// Fuzzer-chosen chunkings of generated text for the streaming parsers' targets: the input names the
// piece lengths (0 included: an empty feed), used in turn until the text runs out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"

namespace sgl::fuzz {

// Input: [k][k piece lengths] before the text; k = 0 feeds the text whole.
inline std::vector<uint8_t> read_lengths(Input& in) {
  std::vector<uint8_t> lengths(in.byte() % 16);
  for (auto& l : lengths) l = in.byte();
  return lengths;
}

inline std::vector<std::string_view> cut(std::string_view text, const std::vector<uint8_t>& lengths) {
  std::vector<std::string_view> pieces;
  if (lengths.empty()) return {text};
  size_t i = 0, k = 0, empty_run = 0;
  while (i < text.size()) {
    const size_t n = std::min<size_t>(lengths[k++ % lengths.size()], text.size() - i);
    if (n == 0 && ++empty_run > lengths.size()) {  // only zero lengths: take the rest
      pieces.push_back(text.substr(i));
      break;
    }
    if (n > 0) empty_run = 0;
    pieces.push_back(text.substr(i, n));
    i += n;
  }
  return pieces;
}

}  // namespace sgl::fuzz
