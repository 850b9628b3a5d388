// Renders a parsed template against a context of variables.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "server/text/jinja/ast.h"

namespace sgl::text::jinja {

struct RenderOptions {
  // strftime_now(fmt): the clock is injectable so tests render deterministically.
  std::function<std::string(const std::string& fmt)> strftime_now;
  // Work bounds, so that a template — or a client's context it loops over — cannot hang a reactor
  // thread or exhaust memory (jinja2 has none; range() alone is capped): loop iterations plus macro
  // calls, and bytes written, captured blocks and macro bodies included. A 64 MiB request renders
  // well within both with the models' templates.
  uint64_t max_steps = 50'000'000;
  uint64_t max_output_bytes = 256u << 20;
};

Result<std::string> render(const Body& tmpl, const Value& context, const RenderOptions& opt = {});

// raise_exception, strftime_now, range, namespace, dict (globals.cpp). `opt` must outlive them.
std::map<std::string, Value> make_globals(const RenderOptions& opt);

// Filters, tests and methods (builtins.cpp).
Result<Value> apply_filter(
    const std::string& name, const Value& v, Args& args,
    const std::function<Result<Value>(const Value&, const std::string&, Args&)>& call_filter);
Result<bool> apply_test(const std::string& name, const Value& v, Args& args);
// `obj.name(args)` for strings, dicts and lists; nullopt-like error when there is no such method.
Result<Value> call_method(Value& obj, const std::string& name, Args& args);
bool has_method(const Value& obj, const std::string& name);
// The less common filters (filters_more.cpp): batch, slice, groupby, truncate...; an error
// naming the filter when there is none of that name.
Result<Value> apply_more_filters(const std::string& name, const Value& v, Args& args);

}  // namespace sgl::text::jinja
