#include "bench/serving/profile_client.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace sgl::bench {
namespace {

ProfileReply reply_of(const HttpResult& r) {
  if (r.status == 200) return {ProfileOutcome::kOk, ""};
  // No such route: the server was built without a profiler (sglcpp today, or an old server).
  if (r.status == 404 || r.status == 405) return {ProfileOutcome::kNoProfiler, fmt::format("HTTP {}", r.status)};
  return {ProfileOutcome::kFailed,
          r.status == 0 ? r.error : fmt::format("HTTP {}: {}", r.status, r.body.substr(0, 300))};
}

}  // namespace

ProfileReply start_profile(const Endpoint& ep, const ProfileRequest& req) {
  nlohmann::json body;
  if (!req.output_dir.empty()) body["output_dir"] = req.output_dir;
  if (!req.num_steps) {
    body["num_steps"] = nullptr;
  } else if (req.num_steps_as_string) {
    body["num_steps"] = *req.num_steps;
  } else {
    body["num_steps"] = std::stoll(*req.num_steps);
  }
  body["activities"] = req.activities;
  body["profile_by_stage"] = req.profile_by_stage;
  body["profile_stages"] = req.profile_stages ? nlohmann::json(*req.profile_stages) : nlohmann::json(nullptr);
  return reply_of(http_post(ep, "/start_profile", body.dump(), {}, 600));
}

ProfileReply stop_profile(const Endpoint& ep) { return reply_of(http_post(ep, "/stop_profile", "", {}, 600)); }

std::string no_profiler_warning(const std::string& flag, const Endpoint& ep, const ProfileReply& reply) {
  return fmt::format(
      "warning: {}: the server at {}:{} has no profiler (POST /start_profile answered {}; sglcpp-server has no "
      "profiler yet); the benchmark runs without writing a trace",
      flag, ep.host, ep.port, reply.message);
}

}  // namespace sgl::bench
