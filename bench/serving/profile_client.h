// --profile on the serving benchmarks: SGLang's profiler routes (POST /start_profile, /stop_profile)
// driven as SGLang-JAX's bench tools drive them. A server without them (sglcpp has no profiler
// yet) answers 404: the run goes on, with a warning naming the flag, and no trace is claimed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/serving/transport.h"

namespace sgl::bench {

struct ProfileRequest {
  std::vector<std::string> activities = {"CPU", "GPU"};
  // SGLang-JAX's bench_serving sends an int (or null); its profiler.run_profile sends a string.
  std::optional<std::string> num_steps;
  bool num_steps_as_string = false;
  bool profile_by_stage = false;
  std::optional<std::vector<std::string>> profile_stages;
  std::string output_dir;  // "" → not sent (the server's default directory)
};

enum class ProfileOutcome { kOk, kNoProfiler, kFailed };
struct ProfileReply {
  ProfileOutcome outcome = ProfileOutcome::kFailed;
  std::string message;  // kFailed: status and body; kNoProfiler: what the server answered
};

ProfileReply start_profile(const Endpoint& ep, const ProfileRequest& req);
ProfileReply stop_profile(const Endpoint& ep);

// "<flag>: the server at host:port has no profiler (...); the benchmark runs without a trace".
std::string no_profiler_warning(const std::string& flag, const Endpoint& ep, const ProfileReply& reply);

}  // namespace sgl::bench
