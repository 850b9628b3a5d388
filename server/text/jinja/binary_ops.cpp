#include "server/text/jinja/binary_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "server/text/jinja/py_string.h"

namespace sgl::text::jinja {

Result<Value> apply_binary_op(const std::string& op, const Value& l, const Value& r) {
  if (op == "==") return Value::boolean(equals(l, r));
  if (op == "!=") return Value::boolean(!equals(l, r));
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    auto c = compare(l, r);
    if (!c.ok()) return invalid_argument(c.error().message);
    return Value::boolean(op == "<" ? *c < 0 : op == ">" ? *c > 0 : op == "<=" ? *c <= 0 : *c >= 0);
  }
  if (op == "in" || op == "not in") {
    bool found = false;
    if (r.is_string() && l.is_string())
      found = r.s.find(l.s) != std::string::npos;
    else if (r.is_array())
      found = std::any_of(r.arr->begin(), r.arr->end(), [&](const Value& x) { return equals(x, l); });
    else if (r.is_object())
      found = r.obj->find(l.str()) != nullptr;
    else if (!r.is_undefined() && !r.is_none())
      return invalid_argument("'in' needs a string, list or dict");
    return Value::boolean(found != (op == "not in"));
  }
  if (op == "~") {
    std::string ls = l.str(), rs = r.str();
    if (ls.size() + rs.size() > kMaxValueBytes) return invalid_argument("string result too large");
    return Value::string(ls + rs);
  }
  if (op == "+") {
    if (l.is_string() && r.is_string()) {
      if (l.s.size() + r.s.size() > kMaxValueBytes) return invalid_argument("string result too large");
      return Value::string(l.s + r.s);
    }
    if (l.is_array() && r.is_array()) {
      if (l.arr->size() + r.arr->size() > kMaxListItems) return invalid_argument("list result too large");
      Value out = Value::array(*l.arr);
      out.arr->insert(out.arr->end(), r.arr->begin(), r.arr->end());
      return out;
    }
  }
  if ((l.is_number() || l.kind == Value::Kind::kBool) && (r.is_number() || r.kind == Value::Kind::kBool)) {
    const bool ints = l.kind != Value::Kind::kFloat && r.kind != Value::Kind::kFloat;
    const double x = l.as_double(), y = r.as_double();
    const int64_t xi = l.kind == Value::Kind::kBool ? l.b : l.i,
                  yi = r.kind == Value::Kind::kBool ? r.b : r.i;
    if (ints && (op == "+" || op == "-" || op == "*")) {
      int64_t out = 0;
      bool overflow = op == "+"   ? __builtin_add_overflow(xi, yi, &out)
                      : op == "-" ? __builtin_sub_overflow(xi, yi, &out)
                                  : __builtin_mul_overflow(xi, yi, &out);
      if (overflow) return invalid_argument("integer overflow (beyond 64 bits)");
      return Value::integer(out);
    }
    if (op == "+") return Value::number(x + y);
    if (op == "-") return Value::number(x - y);
    if (op == "*") return Value::number(x * y);
    if (op == "/") {
      if (y == 0) return invalid_argument("division by zero");
      return Value::number(x / y);
    }
    if (op == "//") {
      if (y == 0) return invalid_argument("division by zero");
      if (ints) {
        if (yi == -1 && xi == INT64_MIN) return invalid_argument("integer overflow (beyond 64 bits)");
        int64_t q = xi / yi;
        if ((xi % yi != 0) && ((xi < 0) != (yi < 0))) --q;  // floor, as Python
        return Value::integer(q);
      }
      return Value::number(std::floor(x / y));
    }
    if (op == "%") {
      if (y == 0) return invalid_argument("modulo by zero");
      if (ints) {
        if (yi == -1) return Value::integer(0);
        int64_t m = xi % yi;
        if (m != 0 && ((m < 0) != (yi < 0))) m += yi;  // the sign of the divisor, as Python
        return Value::integer(m);
      }
      return Value::number(x - std::floor(x / y) * y);
    }
    if (op == "**") {
      if (!ints || yi < 0) return Value::number(std::pow(x, y));
      int64_t out = 1;
      for (int64_t k = 0; k < yi; ++k) {
        if (__builtin_mul_overflow(out, xi, &out))
          return invalid_argument("integer overflow (beyond 64 bits)");
        if (out == 0 || out == 1) break;
      }
      if (out == 1 && xi == -1 && yi % 2 == 1) out = -1;
      return Value::integer(out);
    }
  }
  if (op == "*" && (((l.is_string() || l.is_array()) && r.kind == Value::Kind::kInt) ||
                    ((r.is_string() || r.is_array()) && l.kind == Value::Kind::kInt))) {
    const Value& seq = l.kind == Value::Kind::kInt ? r : l;
    const int64_t times = std::max<int64_t>(0, l.kind == Value::Kind::kInt ? l.i : r.i);
    const size_t unit = seq.is_string() ? seq.s.size() : seq.arr->size();
    if (unit != 0 && static_cast<uint64_t>(times) > (seq.is_string() ? kMaxValueBytes : kMaxListItems) / unit)
      return invalid_argument("repetition result too large");
    Value out = seq.is_string() ? Value::string("") : Value::array();
    for (int64_t k = 0; k < times; ++k) {
      if (seq.is_string())
        out.s += seq.s;
      else
        out.arr->insert(out.arr->end(), seq.arr->begin(), seq.arr->end());
    }
    return out;
  }
  if (op == "%" && l.is_string()) {  // printf-style formatting
    std::vector<Value> args = r.is_array() && r.tuple ? *r.arr : std::vector<Value>{r};
    std::vector<std::string> strs, reprs;
    std::vector<double> nums;
    for (const auto& a : args) {
      strs.push_back(a.str());
      reprs.push_back(a.repr());
      nums.push_back(a.is_number() || a.kind == Value::Kind::kBool ? a.as_double() : std::nan(""));
    }
    std::string out;
    if (!py_percent_format(l.s, strs, reprs, nums, out))
      return invalid_argument("bad '%' format or arguments for " + Value::string(l.s).repr());
    return Value::string(std::move(out));
  }
  return invalid_argument(fmt::format("unsupported operands for {}: {} and {}", op, l.repr(), r.repr()));
}

}  // namespace sgl::text::jinja
