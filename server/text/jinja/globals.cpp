// The global functions HF chat templates call: raise_exception, strftime_now, range, namespace,
// dict (what transformers installs, plus Jinja's own range/namespace/dict).
#include <ctime>

#include "server/text/jinja/interpreter.h"
namespace sgl::text::jinja {

// Jinja's sandbox limit on range() sizes (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

std::map<std::string, Value> make_globals(const RenderOptions& opt) {
  std::map<std::string, Value> g;

  g["raise_exception"] = Value::function([](Args& a) -> Result<Value> {
    return invalid_argument("template raised: " + (a.pos.empty() ? std::string() : a.pos[0].str()));
  });
  g["strftime_now"] = Value::function([&opt](Args& a) -> Result<Value> {
    std::string f = a.pos.empty() ? "%Y-%m-%d" : a.pos[0].str();
    if (opt.strftime_now) return Value::string(opt.strftime_now(f));
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[256];
    size_t n = std::strftime(buf, sizeof(buf), f.c_str(), &tm);
    return Value::string(std::string(buf, n));
  });
  g["range"] = Value::function([](Args& a) -> Result<Value> {
    for (const auto& x : a.pos)
      if (x.kind != Value::Kind::kInt) return invalid_argument("range() takes integers");
    int64_t start = 0, stop = 0, step = 1;
    if (a.pos.size() == 1)
      stop = a.pos[0].i;
    else if (a.pos.size() >= 2)
      start = a.pos[0].i, stop = a.pos[1].i;
    if (a.pos.size() >= 3) step = a.pos[2].i;
    if (step == 0) return invalid_argument("range() step must not be zero");
    Value out = Value::array();
    const int64_t span = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
    if (span > kMaxRange)
      return invalid_argument("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.arr->push_back(Value::integer(i));
    return out;
  });
  auto make_dict = [](Args& a) -> Result<Value> {
    Value o = Value::object();
    for (auto& [k, v] : a.kw) o.obj->set(k, v);
    return o;
  };
  g["namespace"] = Value::function(make_dict);
  g["dict"] = Value::function(make_dict);
  return g;
}

}  // namespace sgl::text::jinja
