// Small parsers for the text files of /proc and /sys ("key: value" lines, one number a file),
// shared by the memory probe here and by sglcpp-server --check-env's machine probes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sgl::proc {

// The whole file, or nullopt when it cannot be opened.
std::optional<std::string> read_text(const std::string& path);
// Without leading and trailing blanks, tabs and newlines.
std::string_view trim(std::string_view s);
// A decimal integer filling the (trimmed) text; nullopt otherwise.
std::optional<int64_t> to_int(std::string_view s);

// Calls f(line) for each line of `text`.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// "key<sep>value" → value (trimmed), for the first line whose trimmed key is `key`.
std::optional<std::string_view> field(std::string_view text, std::string_view key, char sep);

}  // namespace sgl::proc
