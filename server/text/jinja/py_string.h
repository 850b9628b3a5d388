// Python str semantics over UTF-8 bytes: templates index, slice, measure and case-map strings by
// code point (as Python does), never by byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sgl::text::jinja {

// Byte offsets of each code point, plus s.size() at the end.
std::vector<size_t> code_point_offsets(std::string_view s);
int64_t code_point_count(std::string_view s);
// The code point at Python index i (negative counts from the end); empty when out of range.
std::string code_point_at(std::string_view s, int64_t i);
// Code point index of a byte offset (for str.find results).
int64_t code_point_index(std::string_view s, size_t byte_offset);
// Full Unicode case mapping of each code point (utf8proc), as str.upper()/lower().
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
// str.title(): uppercase after a non-letter, lowercase after a letter.
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);
// printf-style `fmt % args` for %s %r %d %i %f %.Nf %x %%.
bool py_percent_format(const std::string& fmt, const std::vector<std::string>& as_str,
                       const std::vector<std::string>& as_repr, const std::vector<double>& as_num,
                       std::string& out);

}  // namespace sgl::text::jinja
