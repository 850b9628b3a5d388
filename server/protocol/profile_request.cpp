#include "server/protocol/profile_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string_view>

#include "server/protocol/object_body.h"

namespace sgl::server {
namespace {

using nlohmann::json;

// An int, or a string holding one; null → nullopt.
Result<std::optional<int64_t>> int_field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>{};
  if (it->is_number_integer()) return std::optional<int64_t>{it->get<int64_t>()};
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return std::optional<int64_t>{v};
  }
  return invalid_argument(fmt::format("{}: must be an integer", key));
}

Result<std::string> string_field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return invalid_argument(fmt::format("{}: must be a string", key));
  return it->get<std::string>();
}

Status optional_bool(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null() || it->is_boolean()) return ok_status();
  return invalid_argument(fmt::format("{}: must be a boolean", key));
}

// SGLang's ProfileActivity names (CPU, GPU and CUDA_PROFILER are what its bench tools send).
constexpr std::array<std::string_view, 6> kActivities = {"CPU", "GPU", "MEM", "RPD", "CUDA_PROFILER", "XPU"};

}  // namespace

Result<ProfileOptions> parse_profile_request(const std::string& text) {
  ProfileOptions o;
  SGL_ASSIGN_OR_RETURN(json body, parse_object_body(text));
  SGL_ASSIGN_OR_RETURN(o.output_dir, string_field(body, "output_dir"));
  SGL_ASSIGN_OR_RETURN(o.prefix, string_field(body, "profile_prefix"));
  SGL_ASSIGN_OR_RETURN(o.start_step, int_field(body, "start_step"));
  SGL_ASSIGN_OR_RETURN(o.num_steps, int_field(body, "num_steps"));
  if (o.start_step && *o.start_step < 0) return invalid_argument("start_step: must be >= 0");
  if (o.num_steps && *o.num_steps <= 0) return invalid_argument("num_steps: must be > 0");
  for (const char* key : {"with_stack", "record_shapes", "merge_profiles", "profile_by_stage"})
    SGL_TRY(optional_bool(body, key));
  for (const char* key : {"host_tracer_level", "python_tracer_level"}) {
    SGL_ASSIGN_OR_RETURN(std::optional<int64_t> level, int_field(body, key));
    (void)level;
  }
  if (auto it = body.find("activities"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return invalid_argument("activities: must be a list of strings");
    for (const auto& a : *it) {
      if (!a.is_string()) return invalid_argument("activities: must be a list of strings");
      const auto& name = a.get_ref<const std::string&>();
      if (std::find(kActivities.begin(), kActivities.end(), name) == kActivities.end())
        return invalid_argument(fmt::format(
            "activities: unknown activity '{}' (expected CPU, GPU, MEM, RPD, CUDA_PROFILER or XPU)", name));
      o.activities.push_back(name);
    }
  }
  if (o.prefix.find('/') != std::string::npos)
    return invalid_argument("profile_prefix: must not contain '/'");
  return o;
}

}  // namespace sgl::server
