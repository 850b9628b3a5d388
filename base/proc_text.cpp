#include "base/proc_text.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace sgl::proc {

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> to_int(std::string_view s) {
  s = trim(s);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string_view> field(std::string_view text, std::string_view key, char sep) {
  std::optional<std::string_view> out;
  for_each_line(text, [&](std::string_view line) {
    const size_t at = line.find(sep);
    if (!out && at != std::string_view::npos && trim(line.substr(0, at)) == key)
      out = trim(line.substr(at + 1));
  });
  return out;
}

}  // namespace sgl::proc
