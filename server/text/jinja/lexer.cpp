#include "server/text/jinja/lexer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace sgl::text::jinja {

namespace {

// ---- template chunks --------------------------------------------------------------------------

// Line numbers of source offsets, counted incrementally: offsets are asked for in increasing
// order while splitting, so the whole pass stays linear in the template size.
class LineCounter {
 public:
  explicit LineCounter(std::string_view src) : src_(src) {}
  int operator()(size_t pos) {
    if (pos < pos_) pos_ = 0, line_ = 1;
    line_ += static_cast<int>(
        std::count(src_.begin() + static_cast<long>(pos_), src_.begin() + static_cast<long>(pos), '\n'));
    pos_ = pos;
    return line_;
  }

 private:
  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
};

// Finds the closing delimiter, skipping string literals inside the tag.
size_t find_close(std::string_view src, size_t from, std::string_view close) {
  char quote = 0;
  for (size_t i = from; i + close.size() <= src.size(); ++i) {
    char c = src[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (src.compare(i, close.size(), close) == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Finds `{%[-+]? endraw -?%}` from `from`: where the tag starts, where it ends, and whether its
// `{%-` strips the raw text's trailing whitespace.
bool find_endraw(std::string_view src, size_t from, size_t& tag_start, size_t& after, bool& strip_before) {
  for (size_t open = src.find("{%", from); open != std::string_view::npos; open = src.find("{%", open + 2)) {
    size_t k = open + 2;
    strip_before = k < src.size() && src[k] == '-';
    if (k < src.size() && (src[k] == '-' || src[k] == '+')) ++k;
    while (k < src.size() && std::isspace(static_cast<unsigned char>(src[k]))) ++k;
    if (src.compare(k, 6, "endraw") != 0) continue;
    k += 6;
    while (k < src.size() && std::isspace(static_cast<unsigned char>(src[k]))) ++k;
    if (k < src.size() && src[k] == '-') ++k;
    if (src.compare(k, 2, "%}") != 0) continue;
    tag_start = open;
    after = k + 2;
    return true;
  }
  return false;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

}  // namespace

Result<std::vector<Chunk>> split_chunks(std::string_view src, const ParseOptions& opt) {
  LineCounter line_at(src);
  std::vector<Chunk> out;
  size_t pos = 0;
  bool strip_next = false, trim_newline = false;
  while (pos <= src.size()) {
    size_t open = src.find('{', pos);
    while (open != std::string_view::npos && open + 1 < src.size() && src[open + 1] != '{' &&
           src[open + 1] != '%' && src[open + 1] != '#')
      open = src.find('{', open + 1);
    if (open != std::string_view::npos && open + 1 >= src.size()) open = std::string_view::npos;
    std::string text(src.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
    if (strip_next) {
      text.erase(0, text.find_first_not_of(" \t\r\n"));
      if (text.find_first_not_of(" \t\r\n") == std::string::npos) text.clear();
    } else if (trim_newline) {
      if (text.starts_with("\r\n"))
        text.erase(0, 2);
      else if (text.starts_with("\n"))
        text.erase(0, 1);
    }
    strip_next = trim_newline = false;
    if (open == std::string_view::npos) {
      if (!text.empty()) out.push_back({Chunk::Kind::kText, text, line_at(pos)});
      break;
    }
    const char type = src[open + 1];
    size_t body = open + 2;
    const bool minus_left = body < src.size() && src[body] == '-';
    const bool plus_left = body < src.size() && src[body] == '+';
    if (minus_left || plus_left) ++body;
    if (minus_left) {
      size_t e = text.find_last_not_of(" \t\r\n");
      text.erase(e == std::string::npos ? 0 : e + 1);
    } else if (opt.lstrip_blocks && !plus_left && (type == '%' || type == '#')) {
      // Spaces and tabs between a line start and a block tag belong to the tag (judged on the
      // source, as Jinja's lexer does, not on the already-trimmed text).
      size_t k = open;
      while (k > pos && (src[k - 1] == ' ' || src[k - 1] == '\t')) --k;
      if (k == 0 || src[k - 1] == '\n') text.erase(text.size() - std::min(text.size(), open - k));
    }
    if (!text.empty()) out.push_back({Chunk::Kind::kText, text, line_at(pos)});
    std::string_view close = type == '{' ? "}}" : type == '%' ? "%}" : "#}";
    size_t end = type == '#' ? src.find("#}", body) : find_close(src, body, close);
    if (end == std::string_view::npos)
      return invalid_argument(fmt::format("template line {}: unclosed '{{{}'", line_at(open), type));
    size_t content_end = end;
    if (end > body && src[end - 1] == '-') {
      strip_next = true;
      --content_end;
    }
    std::string content(src.substr(body, content_end - body));
    if (type == '%' && trimmed(content) == "raw") {
      // {% raw %}…{% endraw %}: the body is text, whatever tags it holds.
      size_t raw_end = 0, after = 0;
      bool strip_before_end = false;
      if (!find_endraw(src, end + 2, raw_end, after, strip_before_end))
        return invalid_argument(fmt::format("template line {}: missing '{{% endraw %}}'", line_at(open)));
      std::string raw(src.substr(end + 2, raw_end - (end + 2)));
      if (strip_next) raw.erase(0, std::min(raw.size(), raw.find_first_not_of(" \t\r\n")));
      if (strip_before_end) {
        size_t e = raw.find_last_not_of(" \t\r\n");
        raw.erase(e == std::string::npos ? 0 : e + 1);
      } else if (opt.trim_blocks && !strip_next && (raw.starts_with("\n") || raw.starts_with("\r\n"))) {
        raw.erase(0, raw[0] == '\r' ? 2 : 1);
      }
      if (!raw.empty()) out.push_back({Chunk::Kind::kText, raw, line_at(end)});
      strip_next = src[after - 3] == '-';
      if (!strip_next && opt.trim_blocks) trim_newline = true;
      pos = after;
      continue;
    }
    if (type != '#') {
      out.push_back(
          {type == '{' ? Chunk::Kind::kExpr : Chunk::Kind::kStmt, std::move(content), line_at(open)});
    }
    if (!strip_next && opt.trim_blocks && type != '{') trim_newline = true;
    pos = end + 2;
  }
  return out;
}

// ---- expression tokens --------------------------------------------------------------------------

Result<std::vector<Tok>> lex(const std::string& s, int line) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Tok::Kind::kName, s.substr(i, j - i)});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      bool is_float = false;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        is_float = true;
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        is_float = true;
        ++j;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      std::string num = s.substr(i, j - i);
      num.erase(std::remove(num.begin(), num.end(), '_'), num.end());
      out.push_back({is_float ? Tok::Kind::kFloat : Tok::Kind::kInt, num});
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string str;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          char e = s[++j];
          switch (e) {
            case 'n':
              str += '\n';
              break;
            case 't':
              str += '\t';
              break;
            case 'r':
              str += '\r';
              break;
            case '\\':
              str += '\\';
              break;
            case '\'':
              str += '\'';
              break;
            case '"':
              str += '"';
              break;
            case 'a':
              str += '\a';
              break;
            case 'b':
              str += '\b';
              break;
            case 'f':
              str += '\f';
              break;
            case 'v':
              str += '\v';
              break;
            case '\n':  // a backslash-newline continues the line
              break;
            case 'x':
            case 'u':
            case 'U': {  // Python's unicode-escape, as Jinja decodes string literals
              const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
              if (j + digits >= s.size() ||
                  !std::all_of(s.begin() + static_cast<long>(j) + 1,
                               s.begin() + static_cast<long>(j + digits) + 1,
                               [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); }))
                return invalid_argument(fmt::format("template line {}: truncated \\{} escape", line, e));
              const unsigned long cp = std::stoul(s.substr(j + 1, digits), nullptr, 16);
              if (cp > 0x10ffff)
                return invalid_argument(fmt::format("template line {}: bad \\U escape", line));
              append_utf8(str, static_cast<uint32_t>(cp));
              j += digits;
              break;
            }
            default:
              str += '\\';
              str += e;
          }
        } else {
          str += s[j];
        }
      }
      if (j >= s.size()) return invalid_argument(fmt::format("template line {}: unterminated string", line));
      out.push_back({Tok::Kind::kString, str});
      i = j + 1;
    } else {
      static const char* two[] = {"==", "!=", "<=", ">=", "//", "**"};
      bool matched = false;
      for (const char* op : two)
        if (s.compare(i, 2, op) == 0) {
          out.push_back({Tok::Kind::kOp, op});
          i += 2;
          matched = true;
          break;
        }
      if (matched) continue;
      if (std::string_view("+-*/%<>=()[]{},.:|~").find(c) == std::string_view::npos)
        return invalid_argument(fmt::format("template line {}: unexpected character '{}'", line, c));
      out.push_back({Tok::Kind::kOp, std::string(1, c)});
      ++i;
    }
  }
  out.push_back({Tok::Kind::kEnd, ""});
  return out;
}

}  // namespace sgl::text::jinja
