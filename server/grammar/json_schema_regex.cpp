// JSON Schema → PCRE2 pattern, modelled on outlines-core's build_regex_from_schema and on what
// xgrammar accepts (SGLang's backends). Choices, in one place:
//  - Whitespace between tokens and around the value: [ \n\t]{0,kMaxWhitespace} (20).
//  - Objects list `properties` in schema order; `required` ones are mandatory, the others may be
//    omitted. With `properties` present (even empty) no other key is admitted, whatever
//    `additionalProperties` says (xgrammar's strict mode). Without `properties`:
//    `additionalProperties: false` → {}; a schema → any string keys with such values; absent or
//    true → free-form keys and values. `required` keys missing from `properties` are ignored.
//  - Free-form JSON (`{}`/`true`, a missing `items`, an open object's values) nests containers
//    up to kAnyValueDepth (3) levels counted from the root, but always admits one level below a
//    free-form position. Each level copies the one below 4x (the list element appears twice in
//    arrays and in objects), and PCRE2 as usually built (LINK_SIZE 2) caps a compiled pattern
//    at 64 KiB: a top-level `{}` takes ~40 KiB of it, a free-form member of the root ~10 KiB.
//  - A `$ref` is inlined; one already being expanded kMaxRefExpansions (3) times on the current
//    path admits nothing there, so an optional property or array holding it drops out (a tree
//    node's children end as `[]` or absent) — finite, and still valid for the schema.
//  - `anyOf`/`oneOf` → alternation (oneOf's exclusivity is not enforced); sibling keywords are
//    inherited by branches that lack them (`type: object` + branches with `properties`).
//    `allOf` merges its members when their keywords do not conflict.
//  - `prefixItems` (or a draft-4 `items` array) are all required; more items only when `items`
//    is given as a schema.
//  - Ignored: minimum/maximum (except that `minimum` >= 0 drops the minus sign), multipleOf,
//    minProperties/maxProperties, uniqueItems, propertyNames, unknown formats, annotations.
//  - Rejected: not, if/then/else, patternProperties, contains, dependent*, non-local `$ref`.
// No recursion, subroutine calls, backreferences or lookaround: pcre2_dfa_match can restart it.
#include "server/grammar/json_schema_regex.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "server/grammar/json_schema_leaves.h"

namespace sgl::server {
namespace {

using json_schema::Json;
using json_schema::ws;

constexpr int kMaxRefExpansions = 3;
constexpr int kMaxSchemaDepth = 128;                  // nesting of schemas (a guard, not a feature)
constexpr size_t kMaxPatternBytes = size_t{1} << 20;  // stops refs that fan out exponentially

// Keywords whose constraint we cannot express: better an error than output the schema forbids.
constexpr std::string_view kUnsupported[] = {
    "not", "if", "then", "else", "patternProperties", "contains", "dependentSchemas", "dependentRequired"};
// Keywords that only describe; they never make two allOf members conflict.
constexpr std::string_view kAnnotations[] = {"title",   "description", "default",    "examples", "$comment",
                                             "$schema", "$id",         "deprecated", "readOnly", "writeOnly"};
constexpr std::string_view kTypes[] = {"string", "integer", "number", "boolean", "null", "object", "array"};

// The empty pattern stands for "admits no value" (no value pattern is empty).
bool is_never(const std::string& re) { return re.empty(); }

std::string at(const std::string& path) { return path.empty() ? "/" : path; }

std::string child(const std::string& path, std::string_view key) {
  std::string out = path + "/";
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

template <class List>
bool contains(const List& list, std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

// Alternation of the patterns that admit something; never when none do.
std::string alternation(const std::vector<std::string>& alts) {
  std::vector<std::string> kept;
  for (const auto& a : alts) {
    if (!is_never(a) && !contains(kept, a)) kept.push_back(a);
  }
  if (kept.size() <= 1) return kept.empty() ? "" : kept[0];
  return "(?:" + fmt::format("{}", fmt::join(kept, "|")) + ")";
}

// `base` plus those keywords of `extra` it lacks (except the ones that would re-apply a
// combinator or a reference already being handled).
Json with_missing(const Json& base, const Json& extra) {
  Json out = base.is_boolean() ? Json::object() : base;
  for (const auto& [key, value] : extra.items()) {
    if (key == "anyOf" || key == "oneOf" || key == "allOf" || key == "$ref" || key == "$defs" ||
        key == "definitions") {
      continue;
    }
    if (!out.contains(key)) out[key] = value;
  }
  return out;
}

// One object member: its pattern and whether it must appear.
struct Member {
  std::string re;
  bool required;
};

// The members in order, separated by commas, optional ones omissible; linear in size. With a
// required member, the optional ones before it carry their comma after, those after it before.
// With none required, nest by last member: Z(i) = (?:Z(i-1)(?:,m_i)?|m_i) admits every
// non-empty ordered subset of m_1..m_i (the caller makes it optional).
std::string members_pattern(const std::vector<Member>& members) {
  const std::string comma = ws() + "," + ws();
  size_t first_required = 0;
  while (first_required < members.size() && !members[first_required].required) ++first_required;
  if (first_required == members.size()) {
    std::string z = members[0].re;
    for (size_t i = 1; i < members.size(); ++i) {
      z = "(?:" + z + "(?:" + comma + members[i].re + ")?|" + members[i].re + ")";
    }
    return z;
  }
  std::string out;
  for (size_t i = 0; i < first_required; ++i) out += "(?:" + members[i].re + comma + ")?";
  out += members[first_required].re;
  for (size_t j = first_required + 1; j < members.size(); ++j) {
    out += members[j].required ? comma + members[j].re : "(?:" + comma + members[j].re + ")?";
  }
  return out;
}

class Converter {
 public:
  explicit Converter(const Json& root) : root_(root) {}

  Result<std::string> visit(const Json& schema, const std::string& path) {
    if (depth_ >= kMaxSchemaDepth) {
      return invalid_argument(fmt::format("json_schema: schema nests too deeply at {}", at(path)));
    }
    ++depth_;
    auto result = visit_schema(schema, path);
    --depth_;
    if (result.ok() && result->size() > kMaxPatternBytes) {
      return invalid_argument(
          fmt::format("json_schema: schema expands to a too large pattern at {}", at(path)));
    }
    return result;
  }

 private:
  // A value inside one more container (an object member or an array item).
  Result<std::string> visit_inside(const Json& schema, const std::string& path) {
    ++containers_;
    auto result = visit(schema, path);
    --containers_;
    return result;
  }

  // Free-form JSON `extra` containers below this position: nesting counts from the root up to
  // kAnyValueDepth, but a free-form position always admits one level of containers.
  const std::string& any_value(int extra) const {
    return json_schema::any_value(std::max(1, json_schema::kAnyValueDepth - containers_ - extra));
  }

  Result<std::string> visit_schema(const Json& s, const std::string& path) {
    if (s.is_boolean()) return s.get<bool>() ? any_value(0) : "";
    if (!s.is_object()) {
      return invalid_argument(
          fmt::format("json_schema: a schema must be an object or a boolean at {}", at(path)));
    }
    for (std::string_view kw : kUnsupported) {
      if (s.contains(kw)) {
        return invalid_argument(fmt::format("json_schema: unsupported keyword '{}' at {}", kw, at(path)));
      }
    }
    if (s.contains("$ref")) return visit_ref(s, path);
    if (s.contains("allOf")) return visit_all_of(s, path);
    if (s.contains("anyOf") || s.contains("oneOf")) return visit_any_of(s, path);

    SGL_ASSIGN_OR_RETURN(std::vector<std::string> types, read_types(s, path));
    std::vector<std::string> alts;
    if (s.contains("const") || s.contains("enum")) {
      SGL_ASSIGN_OR_RETURN(alts, literals(s, types, path));
    } else if (types.empty()) {
      alts.push_back(any_value(0));
    } else {
      for (const auto& type : types) {
        SGL_ASSIGN_OR_RETURN(std::string re, visit_typed(s, type, path));
        alts.push_back(std::move(re));
      }
    }
    if (s.value("nullable", false)) alts.push_back("null");  // OpenAPI's spelling of `| null`
    return alternation(alts);
  }

  // `type` as a list; when absent, inferred from keywords only one type has (empty = any).
  Result<std::vector<std::string>> read_types(const Json& s, const std::string& path) {
    std::vector<std::string> types;
    auto it = s.find("type");
    if (it == s.end()) {
      auto has_any = [&](std::initializer_list<const char*> keys) {
        for (const char* k : keys) {
          if (s.contains(k)) return true;
        }
        return false;
      };
      if (has_any({"properties", "additionalProperties", "required"}))
        return std::vector<std::string>{"object"};
      if (has_any({"items", "prefixItems", "minItems", "maxItems"})) return std::vector<std::string>{"array"};
      if (has_any({"pattern", "format", "minLength", "maxLength"})) return std::vector<std::string>{"string"};
      return types;
    }
    Json list = it->is_array() ? *it : Json::array({*it});
    for (const auto& t : list) {
      if (!t.is_string() || !contains(kTypes, t.get<std::string>())) {
        return invalid_argument(
            fmt::format("json_schema: unknown type {} at {}", t.dump(), child(path, "type")));
      }
      types.push_back(t.get<std::string>());
    }
    return types;
  }

  // `const` / `enum` values (of the schema's types, if any), serialized exactly.
  Result<std::vector<std::string>> literals(const Json& s, const std::vector<std::string>& types,
                                            const std::string& path) {
    Json values = s.contains("const") ? Json::array({s["const"]}) : s["enum"];
    if (!values.is_array()) {
      return invalid_argument(fmt::format("json_schema: 'enum' must be an array at {}", at(path)));
    }
    std::vector<std::string> alts;
    for (const auto& v : values) {
      bool typed = types.empty();
      for (const auto& t : types) typed = typed || json_schema::value_matches_type(v, t);
      if (!typed) continue;
      SGL_ASSIGN_OR_RETURN(std::string re, json_schema::literal_pattern(v, path));
      alts.push_back(std::move(re));
    }
    return alts;
  }

  Result<std::string> visit_typed(const Json& s, const std::string& type, const std::string& path) {
    auto non_negative = [&] {
      for (const char* k : {"minimum", "exclusiveMinimum"}) {
        if (s.contains(k) && s[k].is_number() && s[k].get<double>() >= 0) return true;
      }
      return false;
    };
    if (type == "string") return json_schema::string_pattern(s, path);
    if (type == "integer") return json_schema::integer_pattern(non_negative());
    if (type == "number") return json_schema::number_pattern(non_negative());
    if (type == "boolean") return std::string("(?:true|false)");
    if (type == "null") return std::string("null");
    if (type == "object") return visit_object(s, path);
    return visit_array(s, path);
  }

  Result<std::string> visit_object(const Json& s, const std::string& path) {
    const std::string open = R"(\{)" + ws();
    const std::string close = R"(\})";
    auto props = s.find("properties");
    if (props == s.end()) return open_object(s, path);
    if (!props->is_object()) {
      return invalid_argument(fmt::format("json_schema: 'properties' must be an object at {}", at(path)));
    }
    std::set<std::string> required;
    if (auto req = s.find("required"); req != s.end()) {
      if (!req->is_array()) {
        return invalid_argument(fmt::format("json_schema: 'required' must be an array at {}", at(path)));
      }
      for (const auto& name : *req) {
        if (name.is_string()) required.insert(name.get<std::string>());
      }
    }
    std::vector<Member> members;
    for (const auto& [name, sub] : props->items()) {
      SGL_ASSIGN_OR_RETURN(std::string value, visit_inside(sub, child(child(path, "properties"), name)));
      bool req = required.count(name) > 0;
      if (is_never(value)) {
        if (req) return std::string();  // a required member that admits nothing
        continue;                       // e.g. a recursion cut off: leave the key out
      }
      std::string key = json_schema::regex_escape(Json(name).dump());
      members.push_back({key + ws() + ":" + ws() + value, req});
    }
    if (members.empty()) return open + close;
    std::string body = members_pattern(members) + ws();
    bool any_required =
        std::any_of(members.begin(), members.end(), [](const Member& m) { return m.required; });
    // "{" WS is then followed by either a key or "}": one whitespace run, never two in a row.
    return open + (any_required ? body : "(?:" + body + ")?") + close;
  }

  // An object without `properties`: keys are free, values follow `additionalProperties`.
  Result<std::string> open_object(const Json& s, const std::string& path) {
    auto extra = s.find("additionalProperties");
    std::string value;
    if (extra == s.end() || (extra->is_boolean() && extra->get<bool>())) {
      value = any_value(1);
    } else {
      SGL_ASSIGN_OR_RETURN(value, visit_inside(*extra, child(path, "additionalProperties")));
    }
    if (is_never(value)) return R"(\{)" + ws() + R"(\})";
    return json_schema::open_object_of(value);
  }

  Result<std::string> visit_array(const Json& s, const std::string& path) {
    SGL_ASSIGN_OR_RETURN(auto range, json_schema::read_range(s, "minItems", "maxItems", path));
    auto [min, max] = range;
    const Json* prefix = s.contains("prefixItems") ? &s["prefixItems"] : nullptr;
    const Json* items = s.contains("items") ? &s["items"] : nullptr;
    const char* items_key = "items";
    if (items && items->is_array()) {  // draft 4-2019 tuple form
      prefix = items;
      items = s.contains("additionalItems") ? &s["additionalItems"] : nullptr;
      items_key = "additionalItems";
    }
    if (prefix && !prefix->empty()) return visit_tuple(s, *prefix, items, items_key, min, max, path);
    std::string element = any_value(1);
    if (items) {
      SGL_ASSIGN_OR_RETURN(element, visit_inside(*items, child(path, items_key)));
    }
    if (is_never(element)) return min == 0 ? R"(\[)" + ws() + R"(\])" : "";
    return json_schema::array_of(element, min, max);
  }

  // prefixItems all required, then `items` (only when given as a schema) up to maxItems.
  Result<std::string> visit_tuple(const Json& s, const Json& prefix, const Json* items, const char* items_key,
                                  int64_t min, int64_t max, const std::string& path) {
    if (!prefix.is_array()) {
      return invalid_argument(fmt::format("json_schema: 'prefixItems' must be an array at {}", at(path)));
    }
    const auto k = static_cast<int64_t>(prefix.size());
    if (max >= 0 && max < k) {
      return invalid_argument(fmt::format("json_schema: maxItems below the tuple length at {}", at(path)));
    }
    const std::string comma = ws() + "," + ws();
    const char* prefix_key = s.contains("prefixItems") ? "prefixItems" : "items";
    std::string body;
    for (int64_t i = 0; i < k; ++i) {
      SGL_ASSIGN_OR_RETURN(std::string e,
                           visit_inside(prefix[i], child(child(path, prefix_key), std::to_string(i))));
      if (is_never(e)) return std::string();
      body += (i ? comma : "") + e;
    }
    if (items && !(items->is_boolean() && !items->get<bool>())) {
      SGL_ASSIGN_OR_RETURN(std::string e, visit_inside(*items, child(path, items_key)));
      if (!is_never(e))
        body += json_schema::repeat("(?:" + comma + e + ")", std::max<int64_t>(min - k, 0),
                                    max < 0 ? -1 : max - k);
    } else if (min > k) {
      return std::string();  // more items required than the tuple allows
    }
    return R"(\[)" + ws() + body + ws() + R"(\])";
  }

  Result<const Json*> resolve(const Json& ref, const std::string& path) {
    if (!ref.is_string()) {
      return invalid_argument(fmt::format("json_schema: '$ref' must be a string at {}", at(path)));
    }
    const std::string r = ref.get<std::string>();
    if (r == "#") return &root_;
    if (r.rfind("#/", 0) == 0) {
      try {
        Json::json_pointer pointer(r.substr(1));
        if (root_.contains(pointer)) return &root_.at(pointer);
      } catch (const Json::exception&) {
      }
      return invalid_argument(fmt::format("json_schema: $ref '{}' does not resolve at {}", r, at(path)));
    }
    return invalid_argument(
        fmt::format("json_schema: unsupported $ref '{}' (only local '#/...') at {}", r, at(path)));
  }

  // Inlines the target (with this schema's other keywords where it lacks them); a reference
  // already expanded kMaxRefExpansions times on this path admits nothing (see the top).
  Result<std::string> visit_ref(const Json& s, const std::string& path) {
    SGL_ASSIGN_OR_RETURN(const Json* target, resolve(s["$ref"], child(path, "$ref")));
    const std::string ref = s["$ref"].get<std::string>();
    int& active = active_refs_[ref];
    if (active >= kMaxRefExpansions) return std::string();
    ++active;
    auto result = visit(with_missing(*target, s), ref.substr(1));
    --active;
    return result;
  }

  Result<std::string> visit_any_of(const Json& s, const std::string& path) {
    if (s.contains("anyOf") && s.contains("oneOf")) {
      return invalid_argument(fmt::format("json_schema: both anyOf and oneOf at {}", at(path)));
    }
    const char* key = s.contains("anyOf") ? "anyOf" : "oneOf";
    const Json& branches = s[key];
    if (!branches.is_array() || branches.empty()) {
      return invalid_argument(
          fmt::format("json_schema: '{}' must be a non-empty array at {}", key, at(path)));
    }
    std::vector<std::string> alts;
    for (size_t i = 0; i < branches.size(); ++i) {
      if (branches[i].is_boolean() && !branches[i].get<bool>()) continue;
      SGL_ASSIGN_OR_RETURN(std::string re,
                           visit(with_missing(branches[i], s), child(child(path, key), std::to_string(i))));
      alts.push_back(std::move(re));
    }
    return alternation(alts);
  }

  // Merges the members into one schema: `properties` and `required` are united, other keywords
  // must agree (a single member overrides the outer schema's).
  Result<std::string> visit_all_of(const Json& s, const std::string& path) {
    const Json& parts = s["allOf"];
    if (!parts.is_array() || parts.empty()) {
      return invalid_argument(fmt::format("json_schema: 'allOf' must be a non-empty array at {}", at(path)));
    }
    Json merged = s;
    merged.erase("allOf");
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string part_path = child(child(path, "allOf"), std::to_string(i));
      if (parts[i].is_boolean()) {
        if (!parts[i].get<bool>()) return std::string();
        continue;
      }
      Json part = parts[i];
      for (int hops = 0; part.is_object() && part.contains("$ref"); ++hops) {
        SGL_ASSIGN_OR_RETURN(const Json* target, resolve(part["$ref"], part_path));
        if (hops == kMaxRefExpansions) {
          return invalid_argument(fmt::format("json_schema: $ref chain too long at {}", part_path));
        }
        part = with_missing(*target, part);
      }
      SGL_TRY(merge_into(merged, part, parts.size() == 1, part_path));
    }
    return visit(merged, path);
  }

  Status merge_into(Json& merged, const Json& part, bool single, const std::string& path) {
    if (!part.is_object()) {
      return invalid_argument(
          fmt::format("json_schema: a schema must be an object or a boolean at {}", at(path)));
    }
    auto conflict = [&](const std::string& what) {
      return invalid_argument(fmt::format(
          "json_schema: allOf with more than one schema is not supported (conflicting '{}') at {}", what,
          at(path)));
    };
    for (const auto& [key, value] : part.items()) {
      if (key == "properties" && value.is_object() && merged.contains(key)) {
        for (const auto& [name, sub] : value.items()) {
          Json& props = merged[key];
          if (props.contains(name) && props[name] != sub && !single) return conflict("properties/" + name);
          props[name] = sub;
        }
      } else if (key == "required" && value.is_array() && merged.contains(key) && merged[key].is_array()) {
        for (const auto& name : value) {
          Json& list = merged[key];
          if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
        }
      } else if (!merged.contains(key) || single) {
        merged[key] = value;
      } else if (merged[key] != value && !contains(kAnnotations, key)) {
        return conflict(key);
      }
    }
    return ok_status();
  }

  const Json& root_;
  std::map<std::string, int> active_refs_;  // $ref → expansions on the current path
  int depth_ = 0;                           // schema nesting, for the kMaxSchemaDepth guard
  int containers_ = 0;  // JSON containers around the current position, for free-form depth
};

}  // namespace

Result<std::string> json_schema_to_regex(std::string_view schema_json) {
  json_schema::Json root;
  try {
    root = json_schema::Json::parse(schema_json);
  } catch (const json_schema::Json::exception& e) {
    return invalid_argument(fmt::format("json_schema: the schema is not valid JSON: {}", e.what()));
  }
  try {
    Converter converter(root);
    SGL_ASSIGN_OR_RETURN(std::string value, converter.visit(root, ""));
    if (is_never(value)) return invalid_argument("json_schema: the schema admits no value");
    return ws() + value + ws();
  } catch (const json_schema::Json::exception& e) {  // a keyword of the wrong JSON type
    return invalid_argument(fmt::format("json_schema: malformed schema: {}", e.what()));
  }
}

}  // namespace sgl::server
