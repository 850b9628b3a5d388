#include "server/text/jinja/py_string.h"

#include <fmt/format.h>
#include <utf8proc.h>

#include <cmath>

namespace sgl::text::jinja {

namespace {

size_t seq_len(unsigned char b) { return b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1; }

// Decodes one code point; invalid bytes map to themselves so nothing is lost.
utf8proc_int32_t decode_at(std::string_view s, size_t i, size_t& len) {
  utf8proc_int32_t cp = -1;
  auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                            static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  len = n > 0 ? static_cast<size_t>(n) : 1;
  return n > 0 ? cp : -1;
}

void encode(std::string& out, utf8proc_int32_t cp) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(cp, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

template <class Map>
std::string map_code_points(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size());
  bool prev_cased = false;
  for (size_t i = 0; i < s.size();) {
    size_t len;
    utf8proc_int32_t cp = decode_at(s, i, len);
    if (cp < 0) {
      out.append(s.substr(i, len));
    } else {
      encode(out, map(cp, prev_cased));
      auto cat = utf8proc_category(cp);
      prev_cased = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
    }
    i += len;
  }
  return out;
}

}  // namespace

std::vector<size_t> code_point_offsets(std::string_view s) {
  std::vector<size_t> off;
  off.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); i += seq_len(static_cast<unsigned char>(s[i]))) off.push_back(i);
  off.push_back(s.size());
  return off;
}

int64_t code_point_count(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string code_point_at(std::string_view s, int64_t i) {
  auto off = code_point_offsets(s);
  const auto n = static_cast<int64_t>(off.size()) - 1;
  if (i < 0) i += n;
  if (i < 0 || i >= n) return {};
  return std::string(s.substr(off[i], std::min(off[i + 1], s.size()) - off[i]));
}

int64_t code_point_index(std::string_view s, size_t byte_offset) {
  return code_point_count(s.substr(0, byte_offset));
}

std::string py_upper(std::string_view s) {
  return map_code_points(s, [](utf8proc_int32_t c, bool) { return utf8proc_toupper(c); });
}
std::string py_lower(std::string_view s) {
  return map_code_points(s, [](utf8proc_int32_t c, bool) { return utf8proc_tolower(c); });
}
std::string py_title(std::string_view s) {
  return map_code_points(s, [](utf8proc_int32_t c, bool prev_cased) {
    return prev_cased ? utf8proc_tolower(c) : utf8proc_totitle(c);
  });
}
std::string py_capitalize(std::string_view s) {
  bool first = true;
  return map_code_points(s, [&first](utf8proc_int32_t c, bool) {
    bool f = first;
    first = false;
    return f ? utf8proc_totitle(c) : utf8proc_tolower(c);
  });
}

bool py_percent_format(const std::string& fmt, const std::vector<std::string>& as_str,
                       const std::vector<std::string>& as_repr, const std::vector<double>& as_num,
                       std::string& out) {
  size_t arg = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) return false;
    if (fmt[i] == '%') {
      out.push_back('%');
      continue;
    }
    int precision = -1;
    if (fmt[i] == '.') {
      precision = 0;
      while (++i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
        precision = precision * 10 + (fmt[i] - '0');
      if (i >= fmt.size()) return false;
    }
    if (arg >= as_str.size()) return false;
    switch (fmt[i]) {
      case 's':
        out += as_str[arg];
        break;
      case 'r':
        out += as_repr[arg];
        break;
      case 'd':
      case 'i':
        if (std::isnan(as_num[arg])) return false;
        out += fmt::format("{}", static_cast<int64_t>(std::trunc(as_num[arg])));
        break;
      case 'f':
        if (std::isnan(as_num[arg])) return false;
        out += fmt::format("{:.{}f}", as_num[arg], precision < 0 ? 6 : precision);
        break;
      case 'x':
        if (std::isnan(as_num[arg])) return false;
        out += fmt::format("{:x}", static_cast<int64_t>(as_num[arg]));
        break;
      default:
        return false;
    }
    ++arg;
  }
  return arg == as_str.size();
}

}  // namespace sgl::text::jinja
