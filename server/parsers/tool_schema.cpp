#include "server/parsers/tool_schema.h"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

namespace sgl::server {

const std::string* ToolSchema::param_type(std::string_view param) const {
  for (const auto& [name, type] : param_types)
    if (name == param) return &type;
  return nullptr;
}

const ToolSchema* find_tool(const std::vector<ToolSchema>& tools, std::string_view name) {
  for (const auto& t : tools)
    if (t.name == name) return &t;
  return nullptr;
}

Result<std::vector<ToolSchema>> parse_tools_json(std::string_view tools_json) {
  using Json = nlohmann::ordered_json;
  Json j = Json::parse(tools_json.begin(), tools_json.end(), nullptr, false);
  if (j.is_discarded() || !j.is_array()) return invalid_argument("`tools` must be an array of tool objects");
  std::vector<ToolSchema> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& t = j[i];
    auto bad = [&](std::string_view why) { return invalid_argument(fmt::format("tools[{}]: {}", i, why)); };
    if (!t.is_object()) return bad("must be an object");
    if (t.contains("type") && !(t["type"].is_string() && t["type"] == "function"))
      return bad("`type` must be \"function\"");
    if (!t.contains("function") || !t["function"].is_object()) return bad("missing `function` object");
    const Json& f = t["function"];
    if (!f.contains("name") || !f["name"].is_string() || f["name"].get_ref<const std::string&>().empty())
      return bad("`function.name` must be a non-empty string");
    ToolSchema schema;
    schema.name = f["name"].get<std::string>();
    if (f.contains("parameters") && !f["parameters"].is_null()) {
      const Json& p = f["parameters"];
      if (!p.is_object()) return bad("`function.parameters` must be a JSON-schema object");
      if (p.contains("properties")) {
        if (!p["properties"].is_object()) return bad("`parameters.properties` must be an object");
        for (const auto& [name, prop] : p["properties"].items()) {
          std::string type;
          if (prop.is_object() && prop.contains("type") && prop["type"].is_string()) {
            type = prop["type"].get<std::string>();
            for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          }
          schema.param_types.emplace_back(name, std::move(type));
        }
      }
    }
    out.push_back(std::move(schema));
  }
  return out;
}

}  // namespace sgl::server
