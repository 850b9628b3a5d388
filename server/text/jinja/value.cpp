#include "server/text/jinja/value.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "base/json_escape.h"

namespace sgl::text::jinja {

const Value* Object::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k == key) return &v;
  return nullptr;
}

void Object::set(const std::string& key, Value v) {
  for (auto& [k, old] : items)
    if (k == key) {
      old = std::move(v);
      return;
    }
  items.emplace_back(key, std::move(v));
}

const Value* Args::get(size_t index, std::string_view name) const {
  for (const auto& [k, v] : kw)
    if (k == name) return &v;
  return index < pos.size() ? &pos[index] : nullptr;
}

bool Value::truthy() const {
  switch (kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return b;
    case Kind::kInt:
      return i != 0;
    case Kind::kFloat:
      return f != 0;
    case Kind::kString:
      return !s.empty();
    case Kind::kArray:
      return !arr->empty();
    case Kind::kObject:
      return !obj->items.empty();
    case Kind::kFunction:
      return true;
  }
  return false;
}

namespace {

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string py_quote(const std::string& s) {
  // Python picks single quotes unless the string has one and no double quote.
  char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == static_cast<unsigned char>(q))
      out += std::string("\\") + q;
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out.push_back(static_cast<char>(c));
  }
  out.push_back(q);
  return out;
}

void json_string(std::string& out, const std::string& s, bool ensure_ascii = false) {
  out.push_back('"');
  // ASCII runs take the shared escaper; with ensure_ascii each other code point becomes \uXXXX
  // (a surrogate pair above the BMP), as json.dumps writes it.
  const std::string_view sv(s);
  size_t run = 0, i = 0;
  while (ensure_ascii && i < sv.size()) {
    const auto c = static_cast<unsigned char>(sv[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    append_json_escaped(out, sv.substr(run, i - run));
    const size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (size_t k = 1; k < len && i + k < sv.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(sv[i + k]) & 0x3f);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += fmt::format("\\u{:04x}\\u{:04x}", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      out += fmt::format("\\u{:04x}", cp);
    }
    i += len;
    run = i;
  }
  append_json_escaped(out, sv.substr(run));
  out.push_back('"');
}

}  // namespace

std::string Value::repr() const {
  switch (kind) {
    case Kind::kString:
      return py_quote(s);
    default:
      return str();
  }
}

std::string Value::str() const {
  switch (kind) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return b ? "True" : "False";
    case Kind::kInt:
      return std::to_string(i);
    case Kind::kFloat:
      return float_repr(f);
    case Kind::kString:
      return s;
    case Kind::kArray: {
      std::string out = tuple ? "(" : "[";
      for (size_t k = 0; k < arr->size(); ++k) out += (k ? ", " : "") + (*arr)[k].repr();
      if (tuple && arr->size() == 1) out += ",";
      return out + (tuple ? ")" : "]");
    }
    case Kind::kObject: {
      std::string out = "{";
      for (size_t k = 0; k < obj->items.size(); ++k)
        out += (k ? ", " : "") + py_quote(obj->items[k].first) + ": " + obj->items[k].second.repr();
      return out + "}";
    }
    case Kind::kFunction:
      return "<function>";
  }
  return "";
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.as_double() == b.as_double();
  if (a.kind == Value::Kind::kBool && b.is_number()) return (a.b ? 1.0 : 0.0) == b.as_double();
  if (b.kind == Value::Kind::kBool && a.is_number()) return equals(b, a);
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kBool:
      return a.b == b.b;
    case Value::Kind::kString:
      return a.s == b.s;
    case Value::Kind::kArray:
      if (a.arr->size() != b.arr->size()) return false;
      for (size_t k = 0; k < a.arr->size(); ++k)
        if (!equals((*a.arr)[k], (*b.arr)[k])) return false;
      return true;
    case Value::Kind::kObject:
      if (a.obj->items.size() != b.obj->items.size()) return false;
      for (const auto& [k, v] : a.obj->items) {
        const Value* o = b.obj->find(k);
        if (!o || !equals(v, *o)) return false;
      }
      return true;
    default:
      return a.fn == b.fn;
  }
}

Result<int> compare(const Value& a, const Value& b) {
  if ((a.is_number() || a.kind == Value::Kind::kBool) && (b.is_number() || b.kind == Value::Kind::kBool)) {
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  if (a.is_array() && b.is_array()) {
    for (size_t k = 0; k < std::min(a.arr->size(), b.arr->size()); ++k) {
      SGL_ASSIGN_OR_RETURN(int c, compare((*a.arr)[k], (*b.arr)[k]));
      if (c != 0) return c;
    }
    return a.arr->size() < b.arr->size() ? -1 : a.arr->size() > b.arr->size() ? 1 : 0;
  }
  return invalid_argument("cannot compare " + a.repr() + " and " + b.repr());
}

std::string to_json(const Value& v, int indent, bool sort_keys, int depth, const JsonOptions& seps) {
  std::string out;
  auto nl = [&](int d) {
    if (indent >= 0) out += "\n" + std::string(static_cast<size_t>(indent * d), ' ');
  };
  const std::string_view item_sep = seps.item ? std::string_view(*seps.item) : indent >= 0 ? "," : ", ";
  const std::string_view key_sep = seps.key ? std::string_view(*seps.key) : ": ";
  switch (v.kind) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return "null";
    case Value::Kind::kBool:
      return v.b ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(v.i);
    case Value::Kind::kFloat:
      if (std::isnan(v.f)) return "NaN";
      if (std::isinf(v.f)) return v.f > 0 ? "Infinity" : "-Infinity";
      return float_repr(v.f);
    case Value::Kind::kString:
      json_string(out, v.s, seps.ensure_ascii);
      return out;
    case Value::Kind::kArray:
      if (v.arr->empty()) return "[]";
      out = "[";
      for (size_t k = 0; k < v.arr->size(); ++k) {
        if (k) out += item_sep;
        nl(depth + 1);
        out += to_json((*v.arr)[k], indent, sort_keys, depth + 1, seps);
      }
      nl(depth);
      return out + "]";
    case Value::Kind::kObject: {
      if (v.obj->items.empty()) return "{}";
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& it : v.obj->items) items.push_back(&it);
      if (sort_keys)
        std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out = "{";
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += item_sep;
        nl(depth + 1);
        json_string(out, items[k]->first, seps.ensure_ascii);
        out += key_sep;
        out += to_json(items[k]->second, indent, sort_keys, depth + 1, seps);
      }
      nl(depth);
      return out + "}";
    }
    case Value::Kind::kFunction:
      return "null";
  }
  return "null";
}

namespace {
// simdjson's DOM keeps object keys in document order, as Python's json.loads does.
Value convert(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return Value::none();
    case simdjson::dom::element_type::BOOL:
      return Value::boolean(bool(e));
    case simdjson::dom::element_type::INT64:
      return Value::integer(int64_t(e));
    case simdjson::dom::element_type::UINT64:  // beyond int64: Python would keep an exact int
      return Value::number(static_cast<double>(uint64_t(e)));
    case simdjson::dom::element_type::DOUBLE:
      return Value::number(double(e));
    case simdjson::dom::element_type::STRING:
      return Value::string(std::string(std::string_view(e)));
    case simdjson::dom::element_type::ARRAY: {
      Value a = Value::array();
      simdjson::dom::array arr(e);
      a.arr->reserve(arr.size());
      for (simdjson::dom::element x : arr) a.arr->push_back(convert(x));
      return a;
    }
    case simdjson::dom::element_type::OBJECT: {
      Value o = Value::object();
      simdjson::dom::object obj(e);
      o.obj->items.reserve(obj.size());
      for (auto field : obj) o.obj->items.emplace_back(std::string(field.key), convert(field.value));
      return o;
    }
  }
  return Value();
}

}  // namespace

Result<Value> from_json(std::string_view json) {
  thread_local simdjson::dom::parser parser;  // reused: its buffers grow once per thread
  simdjson::dom::element doc;
  if (auto err = parser.parse(simdjson::padded_string(json)).get(doc))
    return invalid_argument(std::string("chat template context is not valid JSON: ") +
                            simdjson::error_message(err));
  return convert(doc);
}

}  // namespace sgl::text::jinja
