// Jinja filters that chat templates rarely use but users' custom templates might: batch, slice,
// groupby, truncate. Kept apart from builtins.cpp so each file stays small.
#include <algorithm>

#include "server/text/jinja/interpreter.h"
#include "server/text/jinja/py_string.h"
#include "server/text/jinja/string_ops.h"

namespace sgl::text::jinja {

namespace {

int64_t int_arg(const Args& a, size_t index, const char* name, int64_t dflt) {
  const Value* v = a.get(index, name);
  return v && v->kind == Value::Kind::kInt ? v->i : dflt;
}

// Dotted attribute path (`user.name`) or an integer index, as Jinja's make_attrgetter.
Value attribute(const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur.is_object()) {
      const Value* f = cur.obj->find(part);
      cur = f ? *f : Value();
    } else if (cur.is_array() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      size_t i = std::stoul(part);
      cur = i < cur.arr->size() ? (*cur.arr)[i] : Value();
    } else {
      return Value();
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

}  // namespace

Result<Value> apply_more_filters(const std::string& name, const Value& v, Args& a) {
  if (name == "batch") {
    const int64_t n = int_arg(a, 0, "linecount", 0);
    if (n <= 0) return invalid_argument("batch: linecount must be positive");
    const Value* fill = a.get(1, "fill_with");
    Value out = Value::array();
    Array cur;
    for (auto& x : items_of(v)) {
      cur.push_back(x);
      if (static_cast<int64_t>(cur.size()) == n)
        out.arr->push_back(Value::array(std::move(cur))), cur.clear();
    }
    if (!cur.empty()) {
      if (fill && !fill->is_none())
        while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*fill);
      out.arr->push_back(Value::array(std::move(cur)));
    }
    return out;
  }
  if (name == "slice") {
    const int64_t slices = int_arg(a, 0, "slices", 0);
    if (slices <= 0) return invalid_argument("slice: slices must be positive");
    const Value* fill = a.get(1, "fill_with");
    Array seq = items_of(v);
    const auto len = static_cast<int64_t>(seq.size());
    const int64_t per = len / slices, extra = len % slices;
    int64_t offset = 0;
    Value out = Value::array();
    for (int64_t k = 0; k < slices; ++k) {
      int64_t start = offset + k * per;
      if (k < extra) ++offset;
      int64_t end = offset + (k + 1) * per;
      Array part(seq.begin() + start, seq.begin() + end);
      if (fill && !fill->is_none() && k >= extra) part.push_back(*fill);
      out.arr->push_back(Value::array(std::move(part)));
    }
    return out;
  }
  if (name == "groupby") {
    const Value* attr = a.get(0, "attribute");
    if (!attr) return invalid_argument("groupby needs an attribute");
    const Value* dflt = a.get(1, "default");
    std::vector<std::pair<Value, Value>> keyed;
    for (auto& x : items_of(v)) {
      Value key =
          attr->kind == Value::Kind::kInt ? attribute(x, std::to_string(attr->i)) : attribute(x, attr->str());
      if (key.is_undefined() && dflt) key = *dflt;
      keyed.emplace_back(std::move(key), x);
    }
    Status bad;
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& l, const auto& r) {
      auto c = compare(l.first, r.first);
      if (!c.ok()) {
        if (bad.ok()) bad = c.error();
        return false;
      }
      return *c < 0;
    });
    if (!bad.ok()) return std::move(bad).take_error();
    Value out = Value::array();
    for (size_t i = 0; i < keyed.size();) {
      Value group = Value::array();
      size_t j = i;
      for (; j < keyed.size() && equals(keyed[j].first, keyed[i].first); ++j)
        group.arr->push_back(keyed[j].second);
      out.arr->push_back(Value::pair(keyed[i].first, std::move(group)));
      i = j;
    }
    return out;
  }
  if (name == "truncate") {
    const std::string s = v.str();
    const int64_t length = int_arg(a, 0, "length", 255);
    const Value* kill = a.get(1, "killwords");
    const Value* end_v = a.get(2, "end");
    const std::string end = end_v ? end_v->str() : "...";
    const int64_t leeway = int_arg(a, 3, "leeway", 5);
    const int64_t n = code_point_count(s);
    if (n <= length + leeway) return Value::string(s);
    const int64_t keep = std::max<int64_t>(0, length - code_point_count(end));
    auto off = code_point_offsets(s);
    std::string head = s.substr(0, off[static_cast<size_t>(std::min(keep, n))]);
    if (!(kill && kill->truthy())) {
      size_t sp = head.rfind(' ');
      if (sp != std::string::npos) head.resize(sp);
    }
    return Value::string(head + end);
  }
  return invalid_argument("unknown filter '" + name + "'");
}

}  // namespace sgl::text::jinja
