// SGLang's ProfileReqInput, the body of /start_profile (SGLang's and SGLang-JAX's fields).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace sgl::server {

struct ProfileOptions {
  std::string output_dir;  // "": the server's default directory
  std::optional<int64_t> start_step, num_steps;
  std::string prefix;  // profile_prefix
  std::vector<std::string> activities;
};

// Parses a /start_profile body ("" or {} or null for the defaults). Integers may come as numeric
// strings (SGLang's profiler client sends num_steps as one). Accepted and without effect here:
// with_stack, record_shapes, merge_profiles, profile_by_stage, profile_stages, host/python tracer
// levels (JAX), profile_id; unknown activities are an error, as in SGLang.
Result<ProfileOptions> parse_profile_request(const std::string& body);

}  // namespace sgl::server
