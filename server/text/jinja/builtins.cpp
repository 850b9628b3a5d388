// Jinja's built-in filters and tests, and the Python string/dict/list methods templates call.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "server/text/jinja/interpreter.h"
#include "server/text/jinja/py_string.h"
#include "server/text/jinja/string_ops.h"

namespace sgl::text::jinja {

bool is_ws(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Jinja's title filter (not str.title()): each word, split at whitespace and -({[<, gets its
// first character upper-cased and the rest lower-cased.
std::string jinja_title(const std::string& s) {
  std::string out;
  size_t i = 0;
  auto is_sep = [](char c) { return std::isspace(static_cast<unsigned char>(c)) || std::strchr("-({[<", c); };
  while (i < s.size()) {
    size_t j = i;
    if (is_sep(s[i])) {
      while (j < s.size() && is_sep(s[j])) ++j;
      out.append(s, i, j - i);
    } else {
      while (j < s.size() && !is_sep(s[j])) ++j;
      std::string word = s.substr(i, j - i);
      std::string first = code_point_at(word, 0);
      out += py_upper(first) + py_lower(std::string_view(word).substr(first.size()));
    }
    i = j;
  }
  return out;
}

// str.center(width, fill) with CPython's placement of the odd padding character.
std::string py_center(const std::string& s, int64_t width, const std::string& fill) {
  const int64_t marg = width - code_point_count(s);
  if (marg <= 0 || marg > (1 << 24)) return s;
  const int64_t left = marg / 2 + (marg & width & 1);
  std::string out;
  for (int64_t k = 0; k < left; ++k) out += fill;
  out += s;
  for (int64_t k = left; k < marg; ++k) out += fill;
  return out;
}

std::string strip_chars(const std::string& s, const Value* chars, bool left, bool right) {
  auto drop = [&](char c) {
    return chars && chars->is_string() ? chars->s.find(c) != std::string::npos : is_ws(c);
  };
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && drop(s[b])) ++b;
  if (right)
    while (e > b && drop(s[e - 1])) --e;
  return s.substr(b, e - b);
}

Value split(const std::string& s, const Value* sep, int64_t maxsplit, bool from_right) {
  Value out = Value::array();
  if (!sep || sep->is_none() || sep->is_undefined()) {  // whitespace split, empty pieces dropped
    std::vector<std::string> parts;
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && is_ws(s[i])) ++i;
      size_t j = i;
      while (j < s.size() && !is_ws(s[j])) ++j;
      if (j > i) parts.push_back(s.substr(i, j - i));
      i = j;
    }
    for (auto& p : parts) out.arr->push_back(Value::string(p));
    return out;
  }
  const std::string& d = sep->s;
  std::vector<std::string> parts;
  if (!from_right) {
    size_t pos = 0, hit;
    while ((maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) &&
           (hit = s.find(d, pos)) != std::string::npos) {
      parts.push_back(s.substr(pos, hit - pos));
      pos = hit + d.size();
    }
    parts.push_back(s.substr(pos));
  } else {
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      size_t hit = end >= d.size() ? s.rfind(d, end - d.size()) : std::string::npos;
      if (hit == std::string::npos) break;
      parts.insert(parts.begin(), s.substr(hit + d.size(), end - hit - d.size()));
      end = hit;
    }
    parts.insert(parts.begin(), s.substr(0, end));
  }
  for (auto& p : parts) out.arr->push_back(Value::string(p));
  return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) return s;
  std::string out;
  size_t pos = 0, hit;
  int64_t n = 0;
  while ((count < 0 || n < count) && (hit = s.find(from, pos)) != std::string::npos) {
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
    ++n;
  }
  out.append(s, pos);
  return out;
}

Value attr_of(const Value& v, const std::string& path) {
  Value cur = v;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t dot = path.find('.', pos);
    std::string key = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (!cur.is_object()) return Value();
    const Value* next = cur.obj->find(key);
    if (!next) return Value();
    cur = *next;
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return cur;
}

std::vector<Value> items_of(const Value& v) {
  if (v.is_array()) return *v.arr;
  std::vector<Value> out;
  if (v.is_object())
    for (const auto& [k, x] : v.obj->items) out.push_back(Value::string(k));
  if (v.is_string()) {
    // A Python str iterates by code point, not byte (a byte split would make invalid UTF-8: found
    // by tests/fuzz/jinja_fuzz.cpp through `s|sort`).
    const std::vector<size_t> at = code_point_offsets(v.s);
    for (size_t i = 0; i < at.size(); ++i)
      out.push_back(Value::string(v.s.substr(at[i], (i + 1 < at.size() ? at[i + 1] : v.s.size()) - at[i])));
  }
  return out;
}

int64_t length_of(const Value& v) {
  if (v.is_array()) return static_cast<int64_t>(v.arr->size());
  if (v.is_object()) return static_cast<int64_t>(v.obj->items.size());
  if (v.is_string()) return code_point_count(v.s);  // characters, not bytes
  return 0;
}

Result<bool> apply_test(const std::string& name, const Value& v, Args& a) {
  const Value* arg = a.pos.empty() ? nullptr : &a.pos[0];
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == Value::Kind::kInt;
  if (name == "float") return v.kind == Value::Kind::kFloat;
  if (name == "boolean") return v.kind == Value::Kind::kBool;
  if (name == "true") return v.kind == Value::Kind::kBool && v.b;
  if (name == "false") return v.kind == Value::Kind::kBool && !v.b;
  if (name == "mapping") return v.is_object();
  if (name == "sequence") return v.is_array() || v.is_string();
  if (name == "iterable") return v.is_array() || v.is_string() || v.is_object();
  // Undefined is callable in Python (calling it raises).
  if (name == "callable") return v.kind == Value::Kind::kFunction || v.is_undefined();
  if (name == "lower") return v.is_string() && v.s == py_lower(v.s);
  if (name == "upper") return v.is_string() && v.s == py_upper(v.s);
  if (name == "odd") return v.kind == Value::Kind::kInt && v.i % 2 != 0;
  if (name == "even") return v.kind == Value::Kind::kInt && v.i % 2 == 0;
  if (!arg) return invalid_argument("test '" + name + "' needs an argument");
  if (name == "equalto" || name == "eq" || name == "==" || name == "sameas") return equals(v, *arg);
  if (name == "ne" || name == "!=") return !equals(v, *arg);
  if (name == "divisibleby")
    return arg->kind == Value::Kind::kInt && arg->i != 0 && v.kind == Value::Kind::kInt && v.i % arg->i == 0;
  if (name == "in") {
    if (arg->is_string() && v.is_string()) return arg->s.find(v.s) != std::string::npos;
    if (arg->is_array())
      return std::any_of(arg->arr->begin(), arg->arr->end(), [&](const Value& x) { return equals(x, v); });
    if (arg->is_object()) return arg->obj->find(v.str()) != nullptr;
    return false;
  }
  if (name == "lt" || name == "gt" || name == "le" || name == "ge" || name == "lessthan" ||
      name == "greaterthan") {
    SGL_ASSIGN_OR_RETURN(int c, compare(v, *arg));
    if (name == "lt" || name == "lessthan") return c < 0;
    if (name == "gt" || name == "greaterthan") return c > 0;
    return name == "le" ? c <= 0 : c >= 0;
  }
  return invalid_argument("unknown test '" + name + "'");
}

Result<Value> apply_filter(
    const std::string& name, const Value& v, Args& a,
    const std::function<Result<Value>(const Value&, const std::string&, Args&)>& call_filter) {
  const Value* a0 = a.pos.empty() ? nullptr : &a.pos[0];
  if (name == "tojson") {  // transformers' tojson: json.dumps(ensure_ascii=False, ...)
    const Value* indent = a.get(1, "indent");
    const Value* seps = a.get(2, "separators");
    const Value* sort = a.get(3, "sort_keys");
    JsonOptions js;
    if (const Value* ascii = a.get(0, "ensure_ascii")) js.ensure_ascii = ascii->truthy();
    if (seps && seps->is_array() && seps->arr->size() == 2) {
      js.item = (*seps->arr)[0].str();
      js.key = (*seps->arr)[1].str();
    }
    return Value::string(
        to_json(v, indent && indent->kind == Value::Kind::kInt ? static_cast<int>(indent->i) : -1,
                sort && sort->truthy(), 0, js));
  }
  if (name == "trim" || name == "strip") return Value::string(strip_chars(v.str(), a0, true, true));
  if (name == "length" || name == "count") return Value::integer(length_of(v));
  if (name == "upper") return Value::string(py_upper(v.str()));
  if (name == "lower") return Value::string(py_lower(v.str()));
  if (name == "title") return Value::string(jinja_title(v.str()));
  if (name == "capitalize") return Value::string(py_capitalize(v.str()));
  if (name == "replace") {
    if (a.pos.size() < 2) return invalid_argument("replace needs two arguments");
    int64_t count = a.pos.size() > 2 && a.pos[2].kind == Value::Kind::kInt ? a.pos[2].i : -1;
    return Value::string(replace_all(v.str(), a.pos[0].str(), a.pos[1].str(), count));
  }
  if (name == "default" || name == "d") {
    const Value* boolean = a.get(1, "boolean");
    bool use_default = v.is_undefined() || (boolean && boolean->truthy() && !v.truthy());
    return use_default ? (a0 ? *a0 : Value::string("")) : v;
  }
  if (name == "join") {
    const Value* sep = a.get(0, "d");
    const Value* attribute = a.get(1, "attribute");
    std::string out;
    bool first = true;
    for (const auto& x : items_of(v)) {
      if (!first && sep) out += sep->str();
      first = false;
      out += attribute ? attr_of(x, attribute->str()).str() : x.str();
    }
    return Value::string(out);
  }
  if (name == "first") {
    auto items = items_of(v);
    return items.empty() ? Value() : items.front();
  }
  if (name == "last") {
    auto items = items_of(v);
    return items.empty() ? Value() : items.back();
  }
  if (name == "list") return Value::array(items_of(v));
  if (name == "items") {
    Value out = Value::array();
    if (v.is_object())
      for (const auto& [k, x] : v.obj->items) out.arr->push_back(Value::pair(Value::string(k), x));
    return out;
  }
  if (name == "dictsort") {
    Value out = Value::array();
    if (v.is_object()) {
      auto items = v.obj->items;
      std::sort(items.begin(), items.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
      for (const auto& [k, x] : items) out.arr->push_back(Value::pair(Value::string(k), x));
    }
    return out;
  }
  if (name == "selectattr" || name == "rejectattr") {
    if (!a0) return invalid_argument(name + " needs an attribute");
    Value out = Value::array();
    for (const auto& x : items_of(v)) {
      Value field = attr_of(x, a0->str());
      bool keep;
      if (a.pos.size() >= 2) {
        Args targs;
        targs.pos.assign(a.pos.begin() + 2, a.pos.end());
        SGL_ASSIGN_OR_RETURN(keep, apply_test(a.pos[1].str(), field, targs));
      } else {
        keep = field.truthy();
      }
      if (keep == (name == "selectattr")) out.arr->push_back(x);
    }
    return out;
  }
  if (name == "map") {
    Value out = Value::array();
    const Value* attribute = a.get(99, "attribute");
    for (const auto& x : items_of(v)) {
      if (attribute) {
        Value field = attr_of(x, attribute->str());
        const Value* dflt = a.get(99, "default");
        out.arr->push_back(field.is_undefined() && dflt ? *dflt : field);
      } else if (a0 && call_filter) {
        Args fa;
        fa.pos.assign(a.pos.begin() + 1, a.pos.end());
        SGL_ASSIGN_OR_RETURN(Value y, call_filter(x, a0->str(), fa));
        out.arr->push_back(y);
      } else {
        out.arr->push_back(x);
      }
    }
    return out;
  }
  if (name == "select" || name == "reject") {
    Value out = Value::array();
    for (const auto& x : items_of(v)) {
      bool keep = x.truthy();
      if (a0) {
        Args targs;
        targs.pos.assign(a.pos.begin() + 1, a.pos.end());
        SGL_ASSIGN_OR_RETURN(keep, apply_test(a0->str(), x, targs));
      }
      if (keep == (name == "select")) out.arr->push_back(x);
    }
    return out;
  }
  if (name == "string") return Value::string(v.str());
  if (name == "int") {
    if (v.kind == Value::Kind::kInt) return v;
    if (v.kind == Value::Kind::kFloat) return Value::integer(static_cast<int64_t>(v.f));
    try {
      return Value::integer(std::stoll(v.str()));
    } catch (...) {
      return Value::integer(a0 && a0->kind == Value::Kind::kInt ? a0->i : 0);
    }
  }
  if (name == "float") {
    if (v.is_number()) return Value::number(v.as_double());
    try {
      return Value::number(std::stod(v.str()));
    } catch (...) {
      return Value::number(0.0);
    }
  }
  if (name == "abs")
    return v.kind == Value::Kind::kInt ? Value::integer(std::llabs(v.i))
                                       : Value::number(std::fabs(v.as_double()));
  if (name == "round") {
    const Value* p = a.get(0, "precision");
    const Value* method = a.get(1, "method");
    int64_t prec = p && p->kind == Value::Kind::kInt ? p->i : 0;
    std::string how = method ? method->str() : "common";
    if (how == "common") {
      // Python's round(): correctly rounded from the exact binary value, ties to even; an int
      // stays an int (jinja's round(3) is 3, round(2.5) is 2.0).
      if (v.kind == Value::Kind::kInt && prec >= 0) return v;
      if (prec < 0 || prec > 30) return Value::number(v.as_double());
      std::string txt = fmt::format("{:.{}f}", v.as_double(), static_cast<int>(prec));
      return Value::number(std::strtod(txt.c_str(), nullptr));
    }
    double m = std::pow(10.0, static_cast<double>(prec));
    double x = v.as_double() * m;
    return Value::number((how == "ceil" ? std::ceil(x) : std::floor(x)) / m);
  }
  if (name == "safe" || name == "e" || name == "escape" || name == "forceescape") {
    if (name == "safe") return v;
    std::string out;
    for (char c : v.str()) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&#34;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          out.push_back(c);
      }
    }
    return Value::string(out);
  }
  if (name == "indent") {
    const Value* width = a.get(0, "width");
    const Value* first = a.get(1, "first");
    const Value* blank = a.get(2, "blank");
    std::string pad =
        width ? (width->is_string() ? width->s : std::string(static_cast<size_t>(width->i), ' ')) : "    ";
    std::string s = v.str(), out;
    size_t pos = 0;
    bool is_first = true;
    while (pos <= s.size()) {
      size_t nl = s.find('\n', pos);
      std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      bool indent_line =
          is_first ? (first && first->truthy()) : (!line.empty() || (blank && blank->truthy()));
      out += (indent_line ? pad : "") + line;
      if (nl == std::string::npos) break;
      out += "\n";
      pos = nl + 1;
      is_first = false;
    }
    return Value::string(out);
  }
  if (name == "unique") {
    Value out = Value::array();
    for (const auto& x : items_of(v))
      if (std::none_of(out.arr->begin(), out.arr->end(), [&](const Value& y) { return equals(x, y); }))
        out.arr->push_back(x);
    return out;
  }
  if (name == "sort") {
    auto items = items_of(v);
    const Value* reverse = a.get(0, "reverse");
    const Value* attribute = a.get(2, "attribute");
    std::string failure;
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      auto c =
          attribute ? compare(attr_of(x, attribute->str()), attr_of(y, attribute->str())) : compare(x, y);
      if (!c.ok()) {
        failure = c.error().message;
        return false;
      }
      return *c < 0;
    });
    if (!failure.empty()) return invalid_argument(failure);
    if (reverse && reverse->truthy()) std::reverse(items.begin(), items.end());
    return Value::array(items);
  }
  if (name == "reverse") {
    if (v.is_string()) return Value::string(std::string(v.s.rbegin(), v.s.rend()));
    auto items = items_of(v);
    std::reverse(items.begin(), items.end());
    return Value::array(items);
  }
  if (name == "sum") {
    double s = 0;
    bool all_int = true;
    for (const auto& x : items_of(v)) {
      s += x.as_double();
      all_int = all_int && x.kind == Value::Kind::kInt;
    }
    return all_int ? Value::integer(static_cast<int64_t>(s)) : Value::number(s);
  }
  if (name == "min" || name == "max") {
    auto items = items_of(v);
    if (items.empty()) return Value();
    Value best = items[0];
    for (const auto& x : items) {
      SGL_ASSIGN_OR_RETURN(int c, compare(x, best));
      if ((name == "min" && c < 0) || (name == "max" && c > 0)) best = x;
    }
    return best;
  }
  if (name == "wordcount")
    return Value::integer(static_cast<int64_t>(split(v.str(), nullptr, -1, false).arr->size()));
  if (name == "center")
    return Value::string(py_center(v.str(), a0 && a0->kind == Value::Kind::kInt ? a0->i : 80, " "));
  return apply_more_filters(name, v, a);
}

}  // namespace sgl::text::jinja
