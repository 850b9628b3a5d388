#include "server/text/jinja/interpreter.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <optional>

#include "server/text/jinja/binary_ops.h"
#include "server/text/jinja/py_string.h"

namespace sgl::text::jinja {

namespace {

enum class Flow { kNormal, kBreak, kContinue };

// Bounds that keep a hostile template from exhausting memory or the stack (Python would hit
// MemoryError / RecursionError; the sandbox caps range() at 100000). RenderOptions bounds the work.
constexpr int kMaxCallDepth = 200;
// Macro recursion also stops when it has used this much of the thread's stack: a level's frames
// differ between builds (ASan's are several times larger: 200 levels overflowed 8 MiB there), and
// the count alone would not keep a deep recursion off the guard page.
constexpr std::ptrdiff_t kMaxStackBytes = 1 << 20;

class Renderer {
 public:
  Renderer(const Value& ctx, const RenderOptions& opt)
      : opt_(opt), stack_base_(static_cast<const char*>(__builtin_frame_address(0))) {
    scopes_.emplace_back();
    if (ctx.is_object())
      for (const auto& [k, v] : ctx.obj->items) scopes_.back()[k] = v;
    globals_ = make_globals(opt_);
  }

  Result<Flow> exec(const Body& body, std::string& out) {
    for (const auto& s : body) {
      SGL_ASSIGN_OR_RETURN(Flow f, exec(*s, out));
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

 private:
  Error err(int line, std::string_view what) {
    return invalid_argument(fmt::format("template line {}: {}", line, what));
  }

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return f->second;
    }
    auto g = globals_.find(name);
    return g == globals_.end() ? Value() : g->second;
  }
  void assign(const std::string& name, Value v) { scopes_.back()[name] = std::move(v); }

  Result<Flow> exec(const Stmt& s, std::string& out) {
    switch (s.kind) {
      case Stmt::Kind::kText:
        SGL_TRY(write(out, s.text, s.line));
        return Flow::kNormal;
      case Stmt::Kind::kOutput: {
        SGL_ASSIGN_OR_RETURN(Value v, eval(*s.expr));
        SGL_TRY(write(out, v.str(), s.line));
        return Flow::kNormal;
      }
      case Stmt::Kind::kIf:
        for (const auto& [cond, body] : s.branches) {
          SGL_ASSIGN_OR_RETURN(Value c, eval(*cond));
          if (c.truthy()) return exec(body, out);
        }
        return exec(s.else_body, out);
      case Stmt::Kind::kFor:
        return exec_for(s, out);
      case Stmt::Kind::kSet: {
        SGL_ASSIGN_OR_RETURN(Value v, eval(*s.expr));
        if (!s.attr.empty()) {
          Value ns = lookup(s.targets[0]);
          if (!ns.is_object())
            return err(s.line, "cannot set attribute of non-namespace '" + s.targets[0] + "'");
          ns.obj->set(s.attr, std::move(v));
        } else if (s.targets.size() == 1) {
          assign(s.targets[0], std::move(v));
        } else {
          if (!v.is_array() || v.arr->size() != s.targets.size())
            return err(s.line, "cannot unpack value in set");
          for (size_t k = 0; k < s.targets.size(); ++k) assign(s.targets[k], (*v.arr)[k]);
        }
        return Flow::kNormal;
      }
      case Stmt::Kind::kSetBlock: {
        std::string captured;
        SGL_ASSIGN_OR_RETURN(Flow f, exec(s.body, captured));
        (void)f;
        assign(s.targets[0], Value::string(std::move(captured)));
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro: {
        const Stmt* macro = &s;
        assign(s.targets[0], make_callable(*macro, nullptr));
        return Flow::kNormal;
      }
      case Stmt::Kind::kCallBlock: {
        // The macro sees `caller`, a macro made of this block's body and parameters.
        scopes_.emplace_back();
        assign("caller", make_callable(s, nullptr));
        auto v = eval(*s.expr);
        scopes_.pop_back();
        if (!v.ok()) return std::move(v).take_error();
        SGL_TRY(write(out, v->str(), s.line));
        return Flow::kNormal;
      }
      case Stmt::Kind::kFilterBlock: {
        std::string captured;
        SGL_ASSIGN_OR_RETURN(Flow f, exec(s.body, captured));
        (void)f;
        scopes_.emplace_back();
        assign(kFilterBodyName, Value::string(std::move(captured)));
        auto v = eval(*s.expr);
        scopes_.pop_back();
        if (!v.ok()) return std::move(v).take_error();
        SGL_TRY(write(out, v->str(), s.line));
        return Flow::kNormal;
      }
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
      case Stmt::Kind::kBlock:
        return exec(s.body, out);
    }
    return Flow::kNormal;
  }

  // A macro (or a call block's caller): binds parameters, then `varargs`/`kwargs` with the rest.
  Value make_callable(const Stmt& macro, std::nullptr_t) {
    const Stmt* m = &macro;
    return Value::function([this, m](Args& a) -> Result<Value> {
      const auto* frame = static_cast<const char*>(__builtin_frame_address(0));
      if (depth_ >= kMaxCallDepth || std::abs(stack_base_ - frame) > kMaxStackBytes)
        return err(m->line, "maximum macro recursion depth exceeded");
      SGL_TRY(step(m->line));
      scopes_.emplace_back();
      ++depth_;
      struct Leave {
        Renderer* r;
        ~Leave() {
          r->scopes_.pop_back();
          --r->depth_;
        }
      } leave{this};
      for (size_t k = 0; k < m->params.size(); ++k) {
        const auto& [pname, def] = m->params[k];
        if (const Value* given = a.get(k, pname)) {
          assign(pname, *given);
        } else if (def) {
          SGL_ASSIGN_OR_RETURN(Value d, eval(*def));
          assign(pname, d);
        } else {
          assign(pname, Value());
        }
      }
      Value varargs = Value::array();
      varargs.tuple = true;
      for (size_t k = m->params.size(); k < a.pos.size(); ++k) varargs.arr->push_back(a.pos[k]);
      Value kwargs = Value::object();
      // Not a structured binding: clang before 16 cannot capture one in the lambda (fuzz builds).
      for (const auto& kv : a.kw)
        if (std::none_of(m->params.begin(), m->params.end(),
                         [&](const auto& p) { return p.first == kv.first; }))
          kwargs.obj->set(kv.first, kv.second);
      assign("varargs", std::move(varargs));
      assign("kwargs", std::move(kwargs));
      std::string body;
      SGL_ASSIGN_OR_RETURN(Flow f, exec(m->body, body));
      (void)f;
      return Value::string(std::move(body));
    });
  }

  Result<Flow> exec_for(const Stmt& s, std::string& out) {
    SGL_ASSIGN_OR_RETURN(Value it, eval(*s.expr));
    std::vector<Value> items;
    if (it.is_array()) {
      items = *it.arr;
    } else if (it.is_object()) {
      for (const auto& [k, v] : it.obj->items) items.push_back(Value::string(k));
    } else if (it.is_string()) {
      for (size_t i = 0; i < it.s.size();) {  // by UTF-8 character
        auto b = static_cast<unsigned char>(it.s[i]);
        size_t len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
        items.push_back(Value::string(it.s.substr(i, len)));
        i += len;
      }
    } else if (!it.is_undefined() && !it.is_none()) {
      return err(s.line, "cannot iterate over " + it.repr());
    }
    scopes_.emplace_back();
    // The loop filter applies before loop.index/length are counted, as in Jinja.
    if (s.cond) {
      std::vector<Value> kept;
      for (const auto& v : items) {
        if (!step(s.line).ok()) {
          scopes_.pop_back();
          return step_error(s.line);
        }
        bind_targets(s, v);
        auto c = eval(*s.cond);
        if (!c.ok()) {
          scopes_.pop_back();
          return std::move(c).take_error();
        }
        if (c->truthy()) kept.push_back(v);
      }
      items = std::move(kept);
    }
    const auto n = static_cast<int64_t>(items.size());
    // One loop object, updated in place each iteration (as Jinja's LoopContext), so an
    // iteration costs no allocation; its fields are addressed by position.
    Value loop = Value::object();
    auto counter = std::make_shared<int64_t>(0);
    for (const char* key :
         {"index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem", "nextitem"})
      loop.obj->items.emplace_back(key, Value());
    loop.obj->items.emplace_back("cycle", Value::function([counter](Args& a) -> Result<Value> {
                                   if (a.pos.empty()) return invalid_argument("no items for cycling given");
                                   return a.pos[static_cast<size_t>(*counter) % a.pos.size()];
                                 }));
    auto& fields = loop.obj->items;
    for (int64_t k = 0; k < n; ++k) {
      if (!step(s.line).ok()) {
        scopes_.pop_back();
        return step_error(s.line);
      }
      bind_targets(s, items[k]);
      *counter = k;
      fields[0].second = Value::integer(k + 1);
      fields[1].second = Value::integer(k);
      fields[2].second = Value::integer(n - k);
      fields[3].second = Value::integer(n - k - 1);
      fields[4].second = Value::boolean(k == 0);
      fields[5].second = Value::boolean(k == n - 1);
      fields[6].second = Value::integer(n);
      fields[7].second = k > 0 ? items[k - 1] : Value();
      fields[8].second = k + 1 < n ? items[k + 1] : Value();
      assign("loop", loop);
      auto f = exec(s.body, out);
      if (!f.ok()) {
        scopes_.pop_back();
        return std::move(f).take_error();
      }
      if (*f == Flow::kBreak) break;
    }
    scopes_.pop_back();
    if (n == 0) return exec(s.else_body, out);
    return Flow::kNormal;
  }

  void bind_targets(const Stmt& s, const Value& v) {
    if (s.targets.size() == 1) {
      assign(s.targets[0], v);
    } else if (v.is_array()) {
      for (size_t k = 0; k < s.targets.size(); ++k)
        assign(s.targets[k], k < v.arr->size() ? (*v.arr)[k] : Value());
    }
  }

  Result<Args> eval_args(const Expr& e) {
    Args a;
    for (const auto& x : e.items) {
      SGL_ASSIGN_OR_RETURN(Value v, eval(*x));
      a.pos.push_back(std::move(v));
    }
    for (const auto& [k, x] : e.kwargs) {
      SGL_ASSIGN_OR_RETURN(Value v, eval(*x));
      a.kw.emplace_back(k, std::move(v));
    }
    return a;
  }

  // jinja2's default Undefined prints as "" and iterates as empty, but any attribute, item or
  // arithmetic on it raises.
  Error undefined_error(const Expr& what) {
    return err(what.line, what.kind == Expr::Kind::kName   ? "'" + what.name + "' is undefined"
                          : what.kind == Expr::Kind::kAttr ? "has no attribute '" + what.name + "'"
                                                           : std::string("value is undefined"));
  }

  Result<Value> subscript(const Value& base, const Value& key, int line) {
    (void)line;
    if (base.is_array() && key.kind == Value::Kind::kInt) {
      int64_t i = key.i < 0 ? key.i + static_cast<int64_t>(base.arr->size()) : key.i;
      if (i < 0 || i >= static_cast<int64_t>(base.arr->size())) return Value();
      return (*base.arr)[i];
    }
    if (base.is_string() && key.kind == Value::Kind::kInt) {  // by code point, as Python
      std::string ch = code_point_at(base.s, key.i);
      return ch.empty() ? Value() : Value::string(std::move(ch));
    }
    if (base.is_object()) {
      const Value* v = base.obj->find(key.is_string() ? key.s : key.str());
      return v ? *v : Value();
    }
    (void)line;
    return Value();
  }

  Result<Value> eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.literal;
      case Expr::Kind::kName:
        return lookup(e.name);
      case Expr::Kind::kList: {
        Value l = Value::array();
        l.tuple = e.negated;
        for (const auto& x : e.items) {
          SGL_ASSIGN_OR_RETURN(Value v, eval(*x));
          l.arr->push_back(std::move(v));
        }
        return l;
      }
      case Expr::Kind::kDict: {
        Value d = Value::object();
        for (size_t k = 0; k + 1 < e.items.size(); k += 2) {
          SGL_ASSIGN_OR_RETURN(Value key, eval(*e.items[k]));
          SGL_ASSIGN_OR_RETURN(Value v, eval(*e.items[k + 1]));
          d.obj->set(key.str(), std::move(v));
        }
        return d;
      }
      case Expr::Kind::kAttr: {
        SGL_ASSIGN_OR_RETURN(Value base, eval(*e.a));
        if (base.is_undefined()) return undefined_error(*e.a);
        if (base.is_object()) {
          const Value* v = base.obj->find(e.name);
          if (v) return *v;
        }
        if (base.is_array() && !e.name.empty() && std::isdigit(static_cast<unsigned char>(e.name[0]))) {
          int64_t index = 0;
          const auto [end, ec] = std::from_chars(e.name.data(), e.name.data() + e.name.size(), index);
          if (ec == std::errc() && end == e.name.data() + e.name.size())
            return subscript(base, Value::integer(index), e.line);
        }
        return Value();
      }
      case Expr::Kind::kSubscript: {
        SGL_ASSIGN_OR_RETURN(Value base, eval(*e.a));
        if (base.is_undefined()) return undefined_error(*e.a);
        SGL_ASSIGN_OR_RETURN(Value key, eval(*e.b));
        return subscript(base, key, e.line);
      }
      case Expr::Kind::kSlice:
        return eval_slice(e);
      case Expr::Kind::kCall:
        return eval_call(e);
      case Expr::Kind::kFilter: {
        SGL_ASSIGN_OR_RETURN(Value v, eval(*e.a));
        SGL_ASSIGN_OR_RETURN(Args a, eval_args(e));
        auto r = apply_filter(e.name, v, a, [](const Value& x, const std::string& f, Args& fa) {
          return apply_filter(f, x, fa, nullptr);
        });
        if (!r.ok()) return err(e.line, r.error().message);
        return r;
      }
      case Expr::Kind::kTest: {
        SGL_ASSIGN_OR_RETURN(Value v, eval(*e.a));
        SGL_ASSIGN_OR_RETURN(Args a, eval_args(e));
        auto r = apply_test(e.name, v, a);
        if (!r.ok()) return err(e.line, r.error().message);
        return Value::boolean(*r != e.negated);
      }
      case Expr::Kind::kUnary: {
        SGL_ASSIGN_OR_RETURN(Value v, eval(*e.a));
        if (e.name == "not") return Value::boolean(!v.truthy());
        if (e.name == "-") {
          if (v.kind == Value::Kind::kInt) return Value::integer(-v.i);
          if (v.kind == Value::Kind::kFloat) return Value::number(-v.f);
          return err(e.line, "bad operand for unary -");
        }
        return v;
      }
      case Expr::Kind::kBinary:
        return eval_binary(e);
      case Expr::Kind::kTernary: {
        SGL_ASSIGN_OR_RETURN(Value c, eval(*e.b));
        if (c.truthy()) return eval(*e.a);
        if (e.c) return eval(*e.c);
        return Value();
      }
    }
    return Value();
  }

  Result<Value> eval_slice(const Expr& e) {
    SGL_ASSIGN_OR_RETURN(Value base, eval(*e.a));
    if (base.is_undefined()) return undefined_error(*e.a);
    std::vector<size_t> cps;  // strings slice by code point
    if (base.is_string()) cps = code_point_offsets(base.s);
    int64_t len = base.is_array()    ? static_cast<int64_t>(base.arr->size())
                  : base.is_string() ? static_cast<int64_t>(cps.size()) - 1
                                     : 0;
    std::optional<int64_t> parts[3];
    for (int k = 0; k < 3; ++k) {
      if (!e.items[k]) continue;
      SGL_ASSIGN_OR_RETURN(Value v, eval(*e.items[k]));
      if (v.kind == Value::Kind::kInt) parts[k] = v.i;
    }
    int64_t step = parts[2].value_or(1);
    if (step == 0) return err(e.line, "slice step cannot be zero");
    auto norm = [&](std::optional<int64_t> x, int64_t dflt) {
      if (!x) return dflt;
      int64_t v = *x < 0 ? *x + len : *x;
      return step > 0 ? std::clamp<int64_t>(v, 0, len) : std::clamp<int64_t>(v, -1, len - 1);
    };
    int64_t start = norm(parts[0], step > 0 ? 0 : len - 1), stop = norm(parts[1], step > 0 ? len : -1);
    Value out = base.is_string() ? Value::string("") : Value::array();
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (base.is_array())
        out.arr->push_back((*base.arr)[i]);
      else if (base.is_string())
        out.s.append(base.s, cps[static_cast<size_t>(i)],
                     cps[static_cast<size_t>(i) + 1] - cps[static_cast<size_t>(i)]);
    }
    return out;
  }

  Result<Value> eval_call(const Expr& e) {
    SGL_ASSIGN_OR_RETURN(Args a, eval_args(e));
    if (e.a->kind == Expr::Kind::kAttr) {
      SGL_ASSIGN_OR_RETURN(Value obj, eval(*e.a->a));
      if (has_method(obj, e.a->name)) {
        auto r = call_method(obj, e.a->name, a);
        if (!r.ok()) return err(e.line, r.error().message);
        return r;
      }
    }
    SGL_ASSIGN_OR_RETURN(Value f, eval(*e.a));
    if (f.kind != Value::Kind::kFunction) return err(e.line, "called value is not callable");
    return (*f.fn)(a);
  }

  Result<Value> eval_binary(const Expr& e) {
    if (e.name == "and") {
      SGL_ASSIGN_OR_RETURN(Value l, eval(*e.a));
      if (!l.truthy()) return l;
      return eval(*e.b);
    }
    if (e.name == "or") {
      SGL_ASSIGN_OR_RETURN(Value l, eval(*e.a));
      if (l.truthy()) return l;
      return eval(*e.b);
    }
    SGL_ASSIGN_OR_RETURN(Value l, eval(*e.a));
    SGL_ASSIGN_OR_RETURN(Value r, eval(*e.b));
    auto v = apply_binary_op(e.name, l, r);
    if (!v.ok()) return err(e.line, v.error().message);
    return v;
  }

  // Counts one loop iteration or macro call against RenderOptions::max_steps.
  Status step(int line) {
    if (++steps_ > opt_.max_steps) return step_error(line);
    return ok_status();
  }
  Error step_error(int line) {
    return err(line, fmt::format("more than {} loop iterations and macro calls", opt_.max_steps));
  }
  // Appends rendered text, counting it against RenderOptions::max_output_bytes.
  Status write(std::string& out, std::string_view text, int line) {
    written_ += text.size();
    if (written_ > opt_.max_output_bytes)
      return err(line, fmt::format("output larger than {} bytes", opt_.max_output_bytes));
    out += text;
    return ok_status();
  }

  const RenderOptions& opt_;
  std::vector<std::map<std::string, Value>> scopes_;
  std::map<std::string, Value> globals_;
  int depth_ = 0;
  const char* stack_base_;  // the frame that made the renderer (stack budget)
  uint64_t steps_ = 0;
  uint64_t written_ = 0;
};

}  // namespace

Result<std::string> render(const Body& tmpl, const Value& context, const RenderOptions& opt) {
  Renderer r(context, opt);
  std::string out;
  SGL_ASSIGN_OR_RETURN(auto flow, r.exec(tmpl, out));
  (void)flow;
  return out;
}

}  // namespace sgl::text::jinja
