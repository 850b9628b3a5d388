#include "server/flags/flag_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace sgl::server::flags {
namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t cut = s.find(sep);
    std::string_view piece = s.substr(0, cut);
    while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    while (!piece.empty() && piece.back() == ' ') piece.remove_suffix(1);
    if (!piece.empty()) out.emplace_back(piece);
    if (cut == std::string_view::npos) break;
    s.remove_prefix(cut + 1);
  }
  return out;
}

bool is_list(Kind k) { return k == Kind::kStrList || k == Kind::kIntList || k == Kind::kFloatList; }

Kind element_kind(Kind k) {
  return k == Kind::kIntList     ? Kind::kInt
         : k == Kind::kFloatList ? Kind::kFloat
         : k == Kind::kStrList   ? Kind::kStr
                                 : k;
}

// A value as Python prints it (None, True, 4, 0.8, text) → JSON of the field's kind.
nlohmann::json text_json(Kind kind, std::string_view text) {
  if (text == "None") return nullptr;
  switch (kind) {
    case Kind::kTrue:
    case Kind::kFalse:
    case Kind::kBoolPair:
      return text == "True";
    case Kind::kInt:
      try {
        return std::stoll(std::string(text));
      } catch (...) {
        return std::string(text);
      }
    case Kind::kFloat:
      try {
        return std::stod(std::string(text));
      } catch (...) {
        return std::string(text);
      }
    default:
      return std::string(text);
  }
}

// A list default as Python prints it: [], ["CPU", "GPU"], (1,).
nlohmann::json list_default_json(Kind kind, std::string_view text) {
  if (text == "None") return nullptr;
  std::string inner(text);
  inner.erase(std::remove_if(inner.begin(), inner.end(),
                             [](char c) {
                               return c == '[' || c == ']' || c == '(' || c == ')' || c == '"' || c == '\'';
                             }),
              inner.end());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : split(inner, ',')) out.push_back(text_json(element_kind(kind), v));
  return out;
}

nlohmann::json default_json(const Flag& f) {
  return is_list(f.kind) ? list_default_json(f.kind, f.default_text) : text_json(f.kind, f.default_text);
}

nlohmann::json passthrough_json(const Flag& f, const ServerArgs& a) {
  auto it = a.passthrough.find(f.field);
  if (it == a.passthrough.end()) return default_json(f);
  const auto& given = it->second;
  if (is_list(f.kind)) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : given) out.push_back(text_json(element_kind(f.kind), v));
    return out;
  }
  if (given.empty()) return f.kind == Kind::kOptStr ? nlohmann::json("") : default_json(f);
  return text_json(f.kind, given.back());
}

// As Python prints it, so that a refusal quotes the value the way SGLang's docs spell it.
std::string value_text(const nlohmann::json& j) {
  if (j.is_boolean()) return j.get<bool>() ? "True" : "False";
  return j.is_string() ? j.get<std::string>() : j.dump();
}

}  // namespace

std::vector<std::string> split_choices(std::string_view bar_separated) { return split(bar_separated, '|'); }

FlagTable::FlagTable(CLI::App& app, ServerArgs& args) : app_(app), args_(args) {
  add_model_flags(*this);
  add_serving_flags(*this);
  add_parallel_flags(*this);
  add_feature_flags(*this);
  add_observability_flags(*this);
  group("Other SGLang-JAX flags");
  for (const auto& p : jax_passthrough()) add_passthrough(p);
  group("Other SGLang flags");
  for (const auto& p : sglang_passthrough()) add_passthrough(p);
}

Flag& FlagTable::row(const std::string& names, Kind kind, std::string def, std::string note,
                     const std::string& choices) {
  Flag f;
  f.names = split(names, ',');
  f.field = f.names.front().substr(2);
  std::replace(f.field.begin(), f.field.end(), '-', '_');
  f.kind = kind;
  f.default_text = std::move(def);
  f.choices = split_choices(choices);
  f.note = std::move(note);
  f.group = group_;
  rows_.push_back(std::move(f));
  return rows_.back();
}

void FlagTable::finish(Flag& f) {
  f.option->group(f.group)->description(help_of(f));
  // argparse keeps the last of a repeated single-valued option (CLI11 would refuse the repeat).
  if (f.option->get_expected_max() == 1) f.option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  if (!f.choices.empty()) f.option->check(CLI::IsMember(f.choices));
}

void FlagTable::add_passthrough(const Passthrough& p) {
  Flag& f = row(std::string(p.names), p.kind, std::string(p.default_text), std::string(p.note),
                std::string(p.choices));
  f.status = p.status;
  std::string names(p.names);
  const std::string field = f.field;
  auto& store = args_.passthrough;
  switch (p.kind) {
    case Kind::kTrue:
    case Kind::kFalse:
      f.option = app_.add_flag_function(names, [&store, field, k = p.kind](int64_t) {
        store[field] = {k == Kind::kTrue ? "True" : "False"};
      });
      break;
    case Kind::kBoolPair:
      // BooleanOptionalAction: --x sets True, --no-x sets False.
      names += ",!--no-" + f.names.front().substr(2);
      f.option = app_.add_flag_function(
          names, [&store, field](int64_t n) { store[field] = {n > 0 ? "True" : "False"}; });
      break;
    default: {
      f.option = app_.add_option_function<std::vector<std::string>>(
          names, [&store, field](const std::vector<std::string>& v) { store[field] = v; });
      if (p.kind == Kind::kOptStr)
        f.option->expected(0, 1);
      else if (is_list(p.kind))
        f.option->expected(1, CLI::detail::expected_max_vector_size);
      else
        f.option->expected(1);
      const Kind elem = element_kind(p.kind);
      if (elem == Kind::kInt) f.option->check(CLI::TypeValidator<int64_t>("INT"));
      if (elem == Kind::kFloat) f.option->check(CLI::TypeValidator<double>("FLOAT"));
    }
  }
  finish(f);
}

const Flag* FlagTable::find(std::string_view name) const {
  for (const auto& f : rows_) {
    for (const auto& n : f.names)
      if (n == name) return &f;
    if (f.kind == Kind::kBoolPair && name.starts_with("--no-") && f.names.front().substr(2) == name.substr(5))
      return &f;
  }
  return nullptr;
}

std::vector<std::vector<std::string>> FlagTable::long_names() const {
  std::vector<std::vector<std::string>> out;
  for (const auto& f : rows_) {
    out.push_back(f.names);  // one option's aliases: a prefix of several of them is still unique
    if (f.kind == Kind::kBoolPair && f.status != Status::kHonoured)
      out.push_back({"--no-" + f.names.front().substr(2)});
  }
  return out;
}

bool FlagTable::passed_non_default(const Flag& f) const {
  if (!f.option || f.option->count() == 0) return false;
  const nlohmann::json now = f.value ? f.value(args_) : passthrough_json(f, args_);
  return now != default_json(f);
}

std::string FlagTable::help_of(const Flag& f) const {
  switch (f.status) {
    case Status::kIgnored:
      return "[no effect] " + f.note;
    case Status::kRefused:
      return "[refused unless default] not in sglcpp: " + f.note;
    default:
      return f.note;
  }
}

std::vector<std::string> FlagTable::warnings() const {
  std::vector<std::string> out;
  for (const auto& f : rows_)
    if (f.status == Status::kIgnored && f.option && f.option->count() > 0)
      out.push_back(fmt::format("{} has no effect on this backend: {}", f.names.front(), f.note));
  return out;
}

std::vector<std::string> FlagTable::refusals() const {
  std::vector<std::string> out;
  for (const auto& f : rows_) {
    if (!f.option || f.option->count() == 0) continue;
    const nlohmann::json now = f.value ? f.value(args_) : passthrough_json(f, args_);
    if (f.status == Status::kRefused && passed_non_default(f)) {
      out.push_back(fmt::format("{} {}: sglcpp has no {}; leave the flag at its default ({})",
                                f.names.front(), value_text(now), f.note, f.default_text));
    } else if (!f.refused_values.empty() && now.is_string() &&
               std::find(f.refused_values.begin(), f.refused_values.end(), now.get<std::string>()) !=
                   f.refused_values.end()) {
      out.push_back(fmt::format("{} {}: {}", f.names.front(), now.get<std::string>(), f.refusal));
    }
  }
  return out;
}

nlohmann::ordered_json FlagTable::values(const ServerArgs& a) const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& f : rows_) {
    if (f.group.empty()) continue;  // hidden test hooks
    j[f.field] = nlohmann::ordered_json::parse((f.value ? f.value(a) : passthrough_json(f, a)).dump());
  }
  return j;
}

}  // namespace sgl::server::flags
