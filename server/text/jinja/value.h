// Values of the Jinja interpreter, with Python's semantics where templates can observe them:
// truthiness, str() of lists and dicts, int/float distinction, insertion-ordered dicts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sgl::text::jinja {

struct Value;
using Array = std::vector<Value>;

// A dict (insertion order kept, as Python's) or a namespace() (same storage, mutable attributes).
struct Object {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);
};

struct Args;
using NativeFn = std::function<Result<Value>(Args&)>;

struct Value {
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kArray, kObject, kFunction };
  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::shared_ptr<Array> arr;
  std::shared_ptr<Object> obj;
  std::shared_ptr<NativeFn> fn;
  bool tuple = false;  // an array that prints as a Python tuple: (1, 2), dict.items() pairs

  static Value none() {
    Value v;
    v.kind = Kind::kNone;
    return v;
  }
  static Value boolean(bool x) {
    Value v;
    v.kind = Kind::kBool;
    v.b = x;
    return v;
  }
  static Value integer(int64_t x) {
    Value v;
    v.kind = Kind::kInt;
    v.i = x;
    return v;
  }
  static Value number(double x) {
    Value v;
    v.kind = Kind::kFloat;
    v.f = x;
    return v;
  }
  static Value string(std::string x) {
    Value v;
    v.kind = Kind::kString;
    v.s = std::move(x);
    return v;
  }
  static Value array(Array a = {}) {
    Value v;
    v.kind = Kind::kArray;
    v.arr = std::make_shared<Array>(std::move(a));
    return v;
  }
  static Value pair(Value a, Value b) {
    Value v = array({std::move(a), std::move(b)});
    v.tuple = true;
    return v;
  }
  static Value object() {
    Value v;
    v.kind = Kind::kObject;
    v.obj = std::make_shared<Object>();
    return v;
  }
  static Value function(NativeFn f) {
    Value v;
    v.kind = Kind::kFunction;
    v.fn = std::make_shared<NativeFn>(std::move(f));
    return v;
  }

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_none() const { return kind == Kind::kNone; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_object() const { return kind == Kind::kObject; }
  double as_double() const {
    return kind == Kind::kInt ? static_cast<double>(i) : kind == Kind::kBool ? (b ? 1 : 0) : f;
  }

  bool truthy() const;
  // str(value) as Python prints it (what {{ value }} writes); undefined prints as "".
  std::string str() const;
  // repr(value): strings quoted, as inside a printed list.
  std::string repr() const;
};

bool equals(const Value& a, const Value& b);
// Python ordering for sort/comparisons; an error for incomparable kinds.
Result<int> compare(const Value& a, const Value& b);

// json.dumps as transformers' tojson filter calls it (ensure_ascii=False).
// Python's json.dumps options beyond indent/sort_keys: separators (default ", " / ": ", or ","
// with an indent) and ensure_ascii (non-ASCII as \uXXXX escapes).
struct JsonOptions {
  std::optional<std::string> item, key;
  bool ensure_ascii = false;
};
std::string to_json(const Value& v, int indent = -1, bool sort_keys = false, int depth = 0,
                    const JsonOptions& seps = {});
// A JSON document as a Value (objects keep their key order).
Result<Value> from_json(std::string_view json);

// Arguments of a call: positional then keyword.
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  const Value* get(size_t index, std::string_view name) const;
};

}  // namespace sgl::text::jinja
