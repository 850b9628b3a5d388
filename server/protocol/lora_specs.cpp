#include "server/protocol/lora_specs.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "server/protocol/api_error.h"

namespace sgl::server {
namespace {

using simdjson::dom::element_type;

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Result<LoraPathSpec> parse_json_spec(std::string_view value) {
  auto j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](std::string_view why) {
    return invalid_argument(fmt::format(
        "--lora-paths: {} in '{}' (expected {{\"lora_name\": str, \"lora_path\": str, \"pinned\": bool}})",
        why, value));
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  LoraPathSpec s;
  auto name = j.find("lora_name");
  auto path = j.find("lora_path");
  if (name == j.end() || !name->is_string()) return bad("lora_name must be a string");
  if (path == j.end() || !path->is_string()) return bad("lora_path must be a string");
  s.name = name->get<std::string>();
  s.path = path->get<std::string>();
  if (auto p = j.find("pinned"); p != j.end() && !p->is_null()) {
    if (!p->is_boolean()) return bad("pinned must be a boolean");
    s.pinned = p->get<bool>();
  }
  return s;
}

Result<std::optional<std::string>> read_one(json::Element el, std::string_view path) {
  if (el.is_null()) return std::optional<std::string>();
  SGL_ASSIGN_OR_RETURN(std::string name, json::as_string(el, path));
  if (name.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(name));
}

}  // namespace

Result<LoraPathSpec> parse_lora_path_spec(std::string_view value) {
  std::string_view v = trim(value);
  LoraPathSpec s;
  if (v.starts_with('{')) {
    SGL_ASSIGN_OR_RETURN(s, parse_json_spec(v));
  } else if (auto eq = v.find('='); eq != std::string_view::npos) {
    s.name = std::string(v.substr(0, eq));
    s.path = std::string(v.substr(eq + 1));
  } else {
    s.name = s.path = std::string(v);  // SGLang: a bare path is its own name
  }
  if (s.name.empty() || s.path.empty())
    return invalid_argument(
        fmt::format("--lora-paths: '{}' needs a name and a path (PATH, NAME=PATH or a JSON object)", value));
  return s;
}

Result<std::vector<LoraPathSpec>> parse_lora_path_specs(const std::vector<std::string>& values) {
  std::vector<LoraPathSpec> out;
  std::set<std::string> names;
  for (const auto& v : values) {
    SGL_ASSIGN_OR_RETURN(LoraPathSpec s, parse_lora_path_spec(v));
    if (!names.insert(s.name).second)
      return invalid_argument(fmt::format("--lora-paths: the adapter name '{}' is given twice", s.name));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<std::optional<std::string>>> read_lora_paths(json::Object body, size_t num_prompts) {
  std::vector<std::optional<std::string>> out;
  auto el = json::find(body, "lora_path");
  if (!el) return out;
  if (el->type() != element_type::ARRAY) {
    SGL_ASSIGN_OR_RETURN(auto one, read_one(*el, "lora_path"));
    if (one) out.assign(num_prompts, one);
    return out;
  }
  size_t i = 0;
  for (json::Element item : json::Array(el->get_array().value_unsafe())) {
    SGL_ASSIGN_OR_RETURN(auto one, read_one(item, fmt::format("lora_path.{}", i++)));
    out.push_back(std::move(one));
  }
  if (out.size() != num_prompts)
    return invalid_argument(fmt::format("The lora_path list has {} entries but the batch has {} prompts.",
                                        out.size(), num_prompts));
  return out;
}

void assign_lora_paths(const std::vector<std::optional<std::string>>& per_prompt,
                       std::vector<GenerateItem>& items) {
  if (per_prompt.empty()) return;
  for (auto& it : items)
    if (it.prompt_index < per_prompt.size()) it.lora_path = per_prompt[it.prompt_index];
}

std::optional<std::string> adapter_of_model(std::string_view model) {
  const auto colon = model.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view adapter = trim(model.substr(colon + 1));
  if (adapter.empty()) return std::nullopt;
  return std::string(adapter);
}

}  // namespace sgl::server
