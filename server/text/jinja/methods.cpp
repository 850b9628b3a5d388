// The Python methods templates call on strings, dicts and lists (`s.startswith(..)`,
// `d.items()`...), with the immutable sandbox's refusal of mutating ones.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "server/text/jinja/interpreter.h"
#include "server/text/jinja/py_string.h"
#include "server/text/jinja/string_ops.h"

namespace sgl::text::jinja {

bool has_method(const Value& obj, const std::string& name) {
  static const char* kString[] = {"startswith", "endswith", "strip",  "lstrip", "rstrip",     "split",
                                  "rsplit",     "replace",  "upper",  "lower",  "title",      "capitalize",
                                  "find",       "rfind",    "count",  "join",   "splitlines", "isdigit",
                                  "isalpha",    "isspace",  "format", "center"};
  static const char* kDict[] = {"items", "keys", "values", "get", "update", "pop"};
  static const char* kList[] = {"append", "pop", "index", "count", "extend", "insert"};
  auto in = [&](const auto& names) {
    return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return name == n; });
  };
  if (obj.is_string()) return in(kString);
  if (obj.is_object()) return in(kDict) && obj.obj->find(name) == nullptr;
  if (obj.is_array()) return in(kList);
  return false;
}

Result<Value> call_method(Value& obj, const std::string& name, Args& a) {
  const Value* a0 = a.pos.empty() ? nullptr : &a.pos[0];
  // transformers renders in an ImmutableSandboxedEnvironment: methods that mutate a dict or
  // list are refused there, so templates cannot rely on them and we refuse them too.
  if ((obj.is_object() && (name == "update" || name == "pop")) ||
      (obj.is_array() && (name == "append" || name == "pop" || name == "extend" || name == "insert")))
    return invalid_argument(fmt::format("access to attribute '{}' of '{}' object is unsafe.", name,
                                        obj.is_object() ? "dict" : "list"));
  if (obj.is_string()) {
    const std::string& s = obj.s;
    if (name == "startswith" || name == "endswith") {
      std::vector<std::string> cands;
      if (a0 && a0->is_array())
        for (const auto& x : *a0->arr) cands.push_back(x.str());
      else if (a0)
        cands.push_back(a0->str());
      for (const auto& c : cands)
        if (name == "startswith" ? s.starts_with(c) : s.ends_with(c)) return Value::boolean(true);
      return Value::boolean(false);
    }
    if (name == "strip") return Value::string(strip_chars(s, a0, true, true));
    if (name == "lstrip") return Value::string(strip_chars(s, a0, true, false));
    if (name == "rstrip") return Value::string(strip_chars(s, a0, false, true));
    if (name == "split" || name == "rsplit") {
      const Value* maxsplit = a.get(1, "maxsplit");
      return split(s, a.get(0, "sep"), maxsplit && maxsplit->kind == Value::Kind::kInt ? maxsplit->i : -1,
                   name == "rsplit");
    }
    if (name == "replace") {
      if (a.pos.size() < 2) return invalid_argument("replace needs two arguments");
      return Value::string(
          replace_all(s, a.pos[0].str(), a.pos[1].str(), a.pos.size() > 2 ? a.pos[2].i : -1));
    }
    if (name == "upper") return Value::string(py_upper(s));
    if (name == "lower") return Value::string(py_lower(s));
    if (name == "title") return Value::string(py_title(s));
    if (name == "capitalize") return Value::string(py_capitalize(s));
    if (name == "find" || name == "rfind") {
      if (!a0) return invalid_argument(name + " needs an argument");
      size_t p = name == "find" ? s.find(a0->str()) : s.rfind(a0->str());
      return Value::integer(p == std::string::npos ? -1 : code_point_index(s, p));
    }
    if (name == "count") {
      if (!a0 || a0->str().empty()) return Value::integer(0);
      int64_t n = 0;
      for (size_t p = s.find(a0->str()); p != std::string::npos; p = s.find(a0->str(), p + a0->str().size()))
        ++n;
      return Value::integer(n);
    }
    if (name == "join") {
      std::string out;
      bool first = true;
      for (const auto& x : items_of(a0 ? *a0 : Value())) {
        if (!first) out += s;
        first = false;
        out += x.str();
      }
      return Value::string(out);
    }
    if (name == "splitlines") {
      Value out = split(s, nullptr, -1, false);
      out = Value::array();
      size_t pos = 0;
      while (pos < s.size()) {
        size_t nl = s.find('\n', pos);
        out.arr->push_back(
            Value::string(s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos)));
        if (nl == std::string::npos) break;
        pos = nl + 1;
      }
      return out;
    }
    if (name == "isdigit")
      return Value::boolean(!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      }));
    if (name == "isalpha")
      return Value::boolean(!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalpha(static_cast<unsigned char>(c));
      }));
    if (name == "center") {
      const Value* fill = a.get(1, "fillchar");
      return Value::string(
          py_center(s, a0 && a0->kind == Value::Kind::kInt ? a0->i : 0, fill ? fill->str() : " "));
    }
    if (name == "isspace") return Value::boolean(!s.empty() && std::all_of(s.begin(), s.end(), is_ws));
    if (name == "format") {  // "{}" placeholders filled in order
      std::string out;
      size_t arg = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '{' && i + 1 < s.size() && s[i + 1] == '}') {
          out += arg < a.pos.size() ? a.pos[arg++].str() : "";
          ++i;
        } else {
          out += s[i];
        }
      }
      return Value::string(out);
    }
  }
  if (obj.is_object()) {
    if (name == "items") {
      Args none;
      return apply_filter("items", obj, none, nullptr);
    }
    if (name == "keys" || name == "values") {
      Value out = Value::array();
      for (const auto& [k, x] : obj.obj->items) out.arr->push_back(name == "keys" ? Value::string(k) : x);
      return out;
    }
    if (name == "get") {
      if (!a0) return invalid_argument("get needs a key");
      const Value* v = obj.obj->find(a0->str());
      return v ? *v : (a.pos.size() > 1 ? a.pos[1] : Value::none());
    }
    if (name == "update") {
      if (a0 && a0->is_object())
        for (const auto& [k, x] : a0->obj->items) obj.obj->set(k, x);
      for (const auto& [k, x] : a.kw) obj.obj->set(k, x);
      return Value::none();
    }
    if (name == "pop") {
      if (!a0) return invalid_argument("pop needs a key");
      auto& items = obj.obj->items;
      for (auto it = items.begin(); it != items.end(); ++it)
        if (it->first == a0->str()) {
          Value v = it->second;
          items.erase(it);
          return v;
        }
      return a.pos.size() > 1 ? a.pos[1] : Value();
    }
  }
  if (obj.is_array()) {
    auto& arr = *obj.arr;
    if (name == "append") {
      if (a0) arr.push_back(*a0);
      return Value::none();
    }
    if (name == "extend") {
      if (a0)
        for (const auto& x : items_of(*a0)) arr.push_back(x);
      return Value::none();
    }
    if (name == "insert") {
      if (a.pos.size() < 2) return invalid_argument("insert needs an index and a value");
      int64_t i = std::clamp<int64_t>(a.pos[0].i, 0, static_cast<int64_t>(arr.size()));
      arr.insert(arr.begin() + i, a.pos[1]);
      return Value::none();
    }
    if (name == "pop") {
      if (arr.empty()) return invalid_argument("pop from empty list");
      int64_t i = a0 ? (a0->i < 0 ? a0->i + static_cast<int64_t>(arr.size()) : a0->i)
                     : static_cast<int64_t>(arr.size()) - 1;
      if (i < 0 || i >= static_cast<int64_t>(arr.size())) return invalid_argument("pop index out of range");
      Value v = arr[static_cast<size_t>(i)];
      arr.erase(arr.begin() + i);
      return v;
    }
    if (name == "index" || name == "count") {
      int64_t n = 0;
      for (size_t i = 0; i < arr.size(); ++i)
        if (a0 && equals(arr[i], *a0)) {
          if (name == "index") return Value::integer(static_cast<int64_t>(i));
          ++n;
        }
      if (name == "index") return invalid_argument("value not in list");
      return Value::integer(n);
    }
  }
  return invalid_argument("no method '" + name + "'");
}

}  // namespace sgl::text::jinja
