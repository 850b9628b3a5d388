#include "server/protocol/json_fields.h"

#include <fmt/format.h>

#include <cmath>

#include "server/protocol/api_error.h"

namespace sgl::server::json {

using simdjson::dom::element_type;

Result<Element> parse_body(simdjson::dom::parser& parser, std::string_view body) {
  if (body.empty()) return bad_body("Request body is empty: expected a JSON object");
  Element el;
  auto err = parser.parse(body.data(), body.size(), /*realloc_if_needed=*/true).get(el);
  if (err == simdjson::UTF8_ERROR) return bad_body("Request body is not valid UTF-8");
  if (err) return bad_body(fmt::format("JSON decode error: {}", simdjson::error_message(err)));
  return el;
}

std::optional<Element> find(Object obj, std::string_view key) {
  Element el;
  if (obj.at_key(key).get(el)) return std::nullopt;
  if (el.is_null()) return std::nullopt;
  return el;
}

Error type_error(std::string_view path, std::string_view expected) {
  return bad_body(fmt::format("{}: Input should be {}", path, expected));
}

Result<int64_t> as_int(Element el, std::string_view path) {
  switch (el.type()) {
    case element_type::INT64:
      return int64_t(el.get_int64().value_unsafe());
    case element_type::UINT64:
      return type_error(path, "a valid integer that fits in 64 bits");
    case element_type::DOUBLE: {
      double d = el.get_double().value_unsafe();
      if (std::floor(d) == d && std::fabs(d) < 9.0e15) return int64_t(d);
      return type_error(path, "a valid integer, got a number with a fractional part");
    }
    default:
      return type_error(path, "a valid integer");
  }
}

Result<double> as_number(Element el, std::string_view path) {
  switch (el.type()) {
    case element_type::INT64:
      return double(el.get_int64().value_unsafe());
    case element_type::UINT64:
      return double(el.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return el.get_double().value_unsafe();
    default:
      return type_error(path, "a valid number");
  }
}

Result<bool> as_bool(Element el, std::string_view path) {
  if (el.type() != element_type::BOOL) return type_error(path, "a valid boolean");
  return bool(el.get_bool().value_unsafe());
}

Result<std::string> as_string(Element el, std::string_view path) {
  if (el.type() != element_type::STRING) return type_error(path, "a valid string");
  return std::string(el.get_string().value_unsafe());
}

Result<Object> as_object(Element el, std::string_view path) {
  if (el.type() != element_type::OBJECT) return type_error(path, "a valid dictionary");
  return Object(el.get_object().value_unsafe());
}

Result<std::vector<int64_t>> as_int_list(Element el, std::string_view path) {
  if (el.type() != element_type::ARRAY) return type_error(path, "a valid list of integers");
  std::vector<int64_t> out;
  size_t i = 0;
  for (Element item : Array(el.get_array().value_unsafe())) {
    SGL_ASSIGN_OR_RETURN(int64_t v, as_int(item, fmt::format("{}.{}", path, i)));
    out.push_back(v);
    ++i;
  }
  return out;
}

Result<std::vector<std::string>> as_string_or_list(Element el, std::string_view path) {
  if (el.type() == element_type::STRING)
    return std::vector<std::string>{std::string(el.get_string().value_unsafe())};
  if (el.type() != element_type::ARRAY) return type_error(path, "a valid string or list of strings");
  std::vector<std::string> out;
  size_t i = 0;
  for (Element item : Array(el.get_array().value_unsafe())) {
    SGL_ASSIGN_OR_RETURN(std::string s, as_string(item, fmt::format("{}.{}", path, i)));
    out.push_back(std::move(s));
    ++i;
  }
  return out;
}

namespace {
std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}
}  // namespace

Status read(Object obj, std::string_view key, std::string_view path, int64_t& out) {
  if (auto el = find(obj, key)) {
    SGL_ASSIGN_OR_RETURN(out, as_int(*el, join(path, key)));
  }
  return ok_status();
}
Status read(Object obj, std::string_view key, std::string_view path, int& out) {
  if (auto el = find(obj, key)) {
    SGL_ASSIGN_OR_RETURN(int64_t v, as_int(*el, join(path, key)));
    if (v < INT32_MIN || v > INT32_MAX) return type_error(join(path, key), "an integer that fits in 32 bits");
    out = int(v);
  }
  return ok_status();
}
Status read(Object obj, std::string_view key, std::string_view path, double& out) {
  if (auto el = find(obj, key)) {
    SGL_ASSIGN_OR_RETURN(out, as_number(*el, join(path, key)));
  }
  return ok_status();
}
Status read(Object obj, std::string_view key, std::string_view path, bool& out) {
  if (auto el = find(obj, key)) {
    SGL_ASSIGN_OR_RETURN(out, as_bool(*el, join(path, key)));
  }
  return ok_status();
}
Status read(Object obj, std::string_view key, std::string_view path, std::string& out) {
  if (auto el = find(obj, key)) {
    SGL_ASSIGN_OR_RETURN(out, as_string(*el, join(path, key)));
  }
  return ok_status();
}
Status read(Object obj, std::string_view key, std::string_view path, std::optional<int64_t>& out) {
  if (auto el = find(obj, key)) {
    SGL_ASSIGN_OR_RETURN(out, as_int(*el, join(path, key)));
  }
  return ok_status();
}
Status read(Object obj, std::string_view key, std::string_view path, std::optional<std::string>& out) {
  if (auto el = find(obj, key)) {
    SGL_ASSIGN_OR_RETURN(out, as_string(*el, join(path, key)));
  }
  return ok_status();
}

std::string to_json(Element el) { return simdjson::minify(el); }

}  // namespace sgl::server::json
