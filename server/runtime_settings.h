// Server state that operations routes change while it serves: the weight version an RL trainer
// tags each weight update with, and the request-logging switch /configure_logging flips. Every
// reactor thread reads these, so each is atomic or guarded.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

namespace sgl::server {

class RuntimeSettings {
 public:
  // SGLang's ServerArgs.weight_version starts as "default".
  std::string weight_version() const {
    std::lock_guard lock(mu_);
    return weight_version_;
  }
  void set_weight_version(std::string v) {
    std::lock_guard lock(mu_);
    weight_version_ = std::move(v);
  }

  std::atomic<bool> log_requests{false};
  // SGLang's --log-requests-level default: metadata, sampling parameters and partial input/output.
  std::atomic<int> log_requests_level{2};
  // --log-requests-format json: one JSON object per line per request received and finished.
  std::atomic<bool> log_requests_json{false};

 private:
  mutable std::mutex mu_;
  std::string weight_version_ = "default";
};

}  // namespace sgl::server
