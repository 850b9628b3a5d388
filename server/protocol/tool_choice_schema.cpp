#include "server/protocol/tool_choice_schema.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace sgl::server {
namespace {

using OJson = nlohmann::ordered_json;

// One call: {"name": <this tool's name>, "parameters": <its parameters schema>}.
OJson call_schema(const OJson& function) {
  OJson params =
      function.contains("parameters") && function["parameters"].is_object() && !function["parameters"].empty()
          ? function["parameters"]
          : OJson{{"type", "object"}, {"properties", OJson::object()}};
  params.erase("$defs");  // hoisted to the root
  OJson name = {{"type", "string"}, {"enum", OJson::array({function.value("name", "")})}};
  return {{"properties", {{"name", std::move(name)}, {"parameters", std::move(params)}}},
          {"required", OJson::array({"name", "parameters"})}};
}

}  // namespace

Result<std::string> forced_tool_call_schema(std::string_view tools_json, std::string_view tool_choice,
                                            bool parallel_tool_calls) {
  const OJson tools = OJson::parse(tools_json, nullptr, false);
  if (!tools.is_array()) return invalid_argument("tools: Input should be a valid list");
  const bool required = tool_choice == "required";
  OJson branches = OJson::array();
  OJson defs = OJson::object();
  for (const auto& t : tools) {
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
    const OJson& f = t["function"];
    if (!required && f.value("name", "") != tool_choice) continue;
    if (f.contains("parameters") && f["parameters"].is_object() && f["parameters"].contains("$defs") &&
        f["parameters"]["$defs"].is_object()) {
      for (const auto& [name, schema] : f["parameters"]["$defs"].items()) {
        if (defs.contains(name) && defs[name] != schema)
          return invalid_argument(
              fmt::format("Tool definition '{}' has multiple schemas, which is not supported.", name));
        defs[name] = schema;
      }
    }
    branches.push_back(call_schema(f));
  }
  if (branches.empty())
    return invalid_argument(fmt::format("Tool '{}' not found in tools list.", tool_choice));
  OJson schema = {{"type", "array"}, {"minItems", 1}};
  if (required)
    schema["items"] = {{"type", "object"}, {"anyOf", std::move(branches)}};
  else
    schema["items"] = std::move(branches[0]);
  if (!parallel_tool_calls) schema["maxItems"] = 1;
  if (!defs.empty()) schema["$defs"] = std::move(defs);
  return schema.dump();
}

std::optional<std::string> strict_tool_structural_tag(std::string_view tools_json,
                                                      std::string_view tool_call_parser) {
  // Qwen25Detector / HermesDetector.structure_info: the same framing for both.
  if (tool_call_parser != "qwen25" && tool_call_parser != "hermes") return std::nullopt;
  const OJson tools = OJson::parse(tools_json, nullptr, false);
  if (!tools.is_array()) return std::nullopt;
  bool any_strict = false;
  OJson structures = OJson::array();
  for (const auto& t : tools) {
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
    const OJson& f = t["function"];
    const bool strict = f.contains("strict") && f["strict"].is_boolean() && f["strict"].get<bool>();
    any_strict = any_strict || strict;
    OJson schema =
        strict && f.contains("parameters") && !f["parameters"].is_null() ? f["parameters"] : OJson::object();
    structures.push_back({{"begin", "<tool_call>\n{\"name\":\"" + f.value("name", "") + "\", \"arguments\":"},
                          {"schema", std::move(schema)},
                          {"end", "}\n</tool_call>"}});
  }
  if (!any_strict) return std::nullopt;
  OJson tag = {
      {"type", "structural_tag"}, {"structures", std::move(structures)}, {"triggers", {"<tool_call>"}}};
  return tag.dump();
}

}  // namespace sgl::server
