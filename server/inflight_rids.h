// The rids this server has submitted to the scheduler and not yet seen finish, so
// /abort_request {"abort_all": true} can abort each one: the scheduler aborts by rid only.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sgl::server {

class InflightRids {
 public:
  // Counted: two requests may carry the same client-chosen rid.
  void add(const std::string& rid);
  void remove(const std::string& rid);
  std::vector<std::string> snapshot() const;

 private:
  mutable std::mutex mu_;  // reactor threads add and remove concurrently
  std::unordered_map<std::string, int> count_;
};

}  // namespace sgl::server
