// The launch flags as one table: every flag of SGLang-JAX's server_args.py and the SGLang flags a
// CPU/GPU deployment passes, each with its upstream spelling, type, default and a status (honoured,
// ignored with a start-up warning, or refused unless left at its default). The same rows register
// the CLI11 options, print the warnings and refusals, fill /get_server_info and write docs/flags.md,
// so none of them can drift from the others.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "server/args.h"

namespace sgl::server::flags {

enum class Status { kHonoured, kIgnored, kRefused };

// argparse's shapes: store_true / store_false / BooleanOptionalAction, nargs='?', '+' and '*'.
enum class Kind { kStr, kInt, kFloat, kTrue, kFalse, kBoolPair, kOptStr, kStrList, kIntList, kFloatList };

// A flag sglcpp keeps but does not act on: its raw value is stored in ServerArgs::passthrough.
struct Passthrough {
  std::string_view names;  // CLI11 spelling, comma-separated; the first gives the field
  Kind kind;
  std::string_view default_text;  // the upstream default as Python prints it (None, False, 0.8, auto)
  std::string_view choices;       // "a|b|c", or "" for any value
  Status status;                  // kIgnored or kRefused
  std::string_view note;          // ignored: why it has no effect; refused: the capability sglcpp lacks
};
std::span<const Passthrough> jax_passthrough();     // jax_passthrough.cpp
std::span<const Passthrough> sglang_passthrough();  // sglang_passthrough.cpp

struct Flag {
  std::vector<std::string> names;  // "--tp-size", "--tensor-parallel-size"
  std::string field;               // SGLang(-JAX)'s ServerArgs field: the /get_server_info key
  Kind kind = Kind::kStr;
  std::string default_text;  // sglcpp's default as Python would print it
  std::vector<std::string> choices;
  Status status = Status::kHonoured;
  std::string note;
  std::string group;
  std::string deviation;                    // why sglcpp's default differs from SGLang-JAX's
  std::vector<std::string> refused_values;  // honoured flags: values refused, with `refusal`
  std::string refusal;
  std::function<nlohmann::json(const ServerArgs&)> value;  // typed field; empty: passthrough
  CLI::Option* option = nullptr;

  Flag& ignored(std::string why) {
    status = Status::kIgnored;
    note = std::move(why);
    if (option) option->description("[no effect] " + note);
    return *this;
  }
  Flag& deviates(std::string why) {
    deviation = std::move(why);
    return *this;
  }
  Flag& refuse(std::vector<std::string> values, std::string why) {
    refused_values = std::move(values);
    refusal = std::move(why);
    return *this;
  }
};

std::vector<std::string> split_choices(std::string_view bar_separated);

// nlohmann conversions of a typed field, as SGLang prints its ServerArgs: an empty string or
// list and an unset optional are null.
template <class T>
nlohmann::json field_json(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
  } else if constexpr (requires { v.has_value(); }) {
    return v ? field_json(*v) : nlohmann::json(nullptr);
  } else if constexpr (requires { v.begin(); }) {
    return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
  } else {
    return nlohmann::json(v);
  }
}

class FlagTable {
 public:
  // Registers every row on `app`, storing into `args`.
  FlagTable(CLI::App& app, ServerArgs& args);

  const std::vector<Flag>& rows() const { return rows_; }
  const Flag* find(std::string_view name) const;  // by any of its names
  // Each flag's long names (its aliases together), for argparse-style prefix expansion.
  std::vector<std::vector<std::string>> long_names() const;

  // After parsing: one line per ignored flag that was passed, and one per refused flag or value.
  std::vector<std::string> warnings() const;
  std::vector<std::string> refusals() const;

  // Every row's value by its field name (the typed field or the passthrough text).
  nlohmann::ordered_json values(const ServerArgs& a) const;

  // A bound, honoured flag: names "--a,--b"; `def` is sglcpp's default as Python prints it.
  template <class T>
  Flag& add(const std::string& names, T ServerArgs::*member, Kind kind, std::string def, std::string note,
            std::string choices = "") {
    Flag& f = row(names, kind, std::move(def), std::move(note), choices);
    f.value = [member](const ServerArgs& a) { return field_json(a.*member); };
    f.option = bind(names, args_.*member, f);
    finish(f);
    return f;
  }
  void group(std::string g) { group_ = std::move(g); }
  void add_passthrough(const Passthrough& p);

 private:
  Flag& row(const std::string& names, Kind kind, std::string def, std::string note,
            const std::string& choices);
  void finish(Flag& f);
  bool passed_non_default(const Flag& f) const;
  std::string help_of(const Flag& f) const;

  template <class T>
  CLI::Option* bind(const std::string& names, T& target, const Flag& f) {
    if constexpr (std::is_same_v<T, bool>) {
      return app_.add_flag(names, target);
    } else if constexpr (requires { target.has_value(); }) {
      using V = typename T::value_type;
      return app_.add_option_function<V>(names, [&target](const V& v) { target = v; });
    } else if constexpr (!std::is_same_v<T, std::string> && requires { target.push_back(target.front()); }) {
      return app_.add_option(names, target)->expected(1, CLI::detail::expected_max_vector_size);
    } else {
      return app_.add_option(names, target);
    }
  }

  CLI::App& app_;
  ServerArgs& args_;
  std::string group_;
  std::vector<Flag> rows_;
};

// Registration of the typed rows, one file per group.
void add_model_flags(FlagTable& t);
void add_serving_flags(FlagTable& t);
void add_parallel_flags(FlagTable& t);
void add_feature_flags(FlagTable& t);
void add_observability_flags(FlagTable& t);

// docs/flags.md, from the table (the `flags-doc` build target writes it).
std::string flags_markdown();

}  // namespace sgl::server::flags
