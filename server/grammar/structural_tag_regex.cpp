#include "server/grammar/structural_tag_regex.h"

#include <fmt/format.h>

#include "server/grammar/json_schema_leaves.h"
#include "server/grammar/json_schema_regex.h"

namespace sgl::server {

using json_schema::Json;
using json_schema::regex_escape;

Result<std::string> structural_tag_to_regex(std::string_view tag_json) {
  Json tag = Json::parse(tag_json, nullptr, false);
  if (tag.is_string()) tag = Json::parse(tag.get<std::string>(), nullptr, false);  // /generate sends text
  if (!tag.is_object()) return invalid_argument("structural_tag: not a JSON object");
  const Json* structures = tag.contains("structures") ? &tag["structures"] : nullptr;
  const Json* triggers = tag.contains("triggers") ? &tag["triggers"] : nullptr;
  if (structures == nullptr || !structures->is_array() || structures->empty())
    return invalid_argument("structural_tag: `structures` must be a non-empty list of {begin, schema, end}");
  if (triggers == nullptr || !triggers->is_array() || triggers->empty())
    return invalid_argument("structural_tag: `triggers` must be a non-empty list of strings");
  std::vector<std::string> trigger_texts;
  for (const auto& t : *triggers) {
    if (!t.is_string() || t.get<std::string>().empty())
      return invalid_argument("structural_tag: every trigger must be a non-empty string");
    trigger_texts.push_back(t.get<std::string>());
  }
  std::string tags;  // the structures as alternatives
  for (size_t i = 0; i < structures->size(); ++i) {
    const Json& s = (*structures)[i];
    const std::string path = fmt::format("structural_tag: structures[{}]", i);
    if (!s.is_object() || !s.contains("begin") || !s["begin"].is_string() || !s.contains("end") ||
        !s["end"].is_string())
      return invalid_argument(path + " needs string `begin` and `end`");
    const std::string begin = s["begin"].get<std::string>();
    bool triggered = false;
    for (const auto& t : trigger_texts) triggered = triggered || begin.starts_with(t);
    if (!triggered)
      return invalid_argument(fmt::format("{}: begin '{}' starts with no trigger", path, begin));
    const Json schema = s.contains("schema") ? s["schema"] : Json::object();
    auto body = json_schema_to_regex(schema.dump());
    if (!body.ok()) return invalid_argument(path + ": " + body.error().message);
    if (!tags.empty()) tags += '|';
    tags += regex_escape(begin) + "(?:" + *body + ")" + regex_escape(s["end"].get<std::string>());
  }
  // Free text: any character where no trigger starts (PCRE2's partial matching reports a text
  // ending in a trigger's prefix as viable, so a structure may begin there).
  std::string no_trigger = "(?:(?!";
  for (size_t i = 0; i < trigger_texts.size(); ++i)
    no_trigger += (i ? "|" : "") + regex_escape(trigger_texts[i]);
  no_trigger += ")[\\s\\S])*";
  return no_trigger + "(?:(?:" + tags + ")" + no_trigger + ")*";
}

}  // namespace sgl::server
