#include "server/protocol/form_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/beast/http/rfc7230.hpp>
#include <cctype>
#include <optional>

namespace sgl::server {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The parameter `key` of a header value "type; k=v; k2=\"v 2\"" (unquoted), if present.
std::optional<std::string> header_param(std::string_view value, std::string_view key) {
  const size_t semi = value.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  for (const auto& [k, v] : boost::beast::http::param_list(value.substr(semi)))
    if (iequals(k, key)) return std::string(v);
  return std::nullopt;
}

// The name="..." of a part whose header block is `headers` (lines ending in CRLF or LF).
std::optional<std::string> part_name(std::string_view headers) {
  while (!headers.empty()) {
    const size_t eol = headers.find('\n');
    std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !iequals(trim(line.substr(0, colon)), "Content-Disposition"))
      continue;
    const std::string_view value = trim(line.substr(colon + 1));
    if (!iequals(trim(value.substr(0, value.find(';'))), "form-data")) return std::nullopt;
    return header_param(value, "name");
  }
  return std::nullopt;
}

}  // namespace

Result<std::string_view> form_data_field(std::string_view content_type, std::string_view body,
                                         std::string_view field) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  if (!iequals(type, "multipart/form-data"))
    return invalid_argument(fmt::format(
        "Expected a multipart/form-data body (an upload with a '{}' field), got Content-Type '{}'.", field,
        content_type));
  const auto boundary = header_param(content_type, "boundary");
  // RFC 2046: 1 to 70 characters.
  if (!boundary || boundary->empty() || boundary->size() > 70)
    return invalid_argument("multipart/form-data: the Content-Type has no valid boundary.");
  const std::string delimiter = "--" + *boundary;
  // The first delimiter opens the body (a preamble before it is allowed); each later one follows a
  // line break. "--" right after a delimiter closes the body.
  size_t pos = body.starts_with(delimiter) ? 0 : body.find("\n" + delimiter);
  if (pos == std::string_view::npos)
    return invalid_argument("multipart/form-data: no part starts with the boundary.");
  if (pos > 0) ++pos;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") break;  // the close delimiter
    // Transport padding, then the line break that ends the delimiter line.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) == "\r\n")
      pos += 2;
    else if (body.substr(pos, 1) == "\n")
      pos += 1;
    else
      return invalid_argument("multipart/form-data: a boundary line does not end with a line break.");
    // Headers up to the blank line, then the content up to the next delimiter's line break.
    size_t headers_end = body.find("\r\n\r\n", pos);
    size_t content_start = headers_end == std::string_view::npos ? headers_end : headers_end + 4;
    if (body.substr(pos, 2) == "\r\n") headers_end = pos, content_start = pos + 2;  // no headers
    if (content_start == std::string_view::npos)
      return invalid_argument("multipart/form-data: a part's headers do not end.");
    const size_t next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos)
      return invalid_argument("multipart/form-data: the body ends inside a part (no closing boundary).");
    if (part_name(body.substr(pos, headers_end - pos)) == std::string(field))
      return body.substr(content_start, next - content_start);
    pos = next + 2;
  }
  return invalid_argument(
      fmt::format("Field required: the form has no '{}' field (an uploaded file).", field));
}

}  // namespace sgl::server
