#include "server/session_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/protocol/request_id.h"

namespace sgl::server {

Result<std::string> SessionStore::open(const OpenSessionRequest& req) {
  std::lock_guard lk(mu_);
  reap_idle_locked();
  const std::string id = req.session_id ? *req.session_id : new_request_id();
  if (sessions_.count(id))
    return invalid_argument("Failed to open the session. Check if a session with the same id is still open.");
  if (sessions_.size() >= max_sessions_)
    return Error{ErrorCode::kUnavailable,
                 fmt::format("Failed to open the session: {} sessions are open (the most this server keeps); "
                             "close some with /close_session.",
                             sessions_.size())};
  Session& s = sessions_[id];
  s.timeout_s = req.timeout;
  s.last_used = std::chrono::steady_clock::now();
  return id;
}

bool SessionStore::close(const std::string& id) {
  std::lock_guard lk(mu_);
  if (sessions_.erase(id)) return true;
  spdlog::warn("session id {} does not exist, cannot delete.", id);
  return false;
}

void SessionStore::clear_children(Session& s, Node& n, std::vector<std::string>& aborted) {
  for (const std::string& c : n.children) {
    auto it = s.nodes.find(c);
    if (it == s.nodes.end()) continue;
    clear_children(s, it->second, aborted);
    if (!it->second.finished) aborted.push_back(c);
    s.nodes.erase(it);
  }
  n.children.clear();
}

Result<SessionStore::Turn> SessionStore::begin(const SessionParams& p, const std::string& rid,
                                               std::vector<int32_t> new_ids, int32_t bos_id) {
  std::lock_guard lk(mu_);
  reap_idle_locked();
  auto sit = sessions_.find(p.id);
  if (sit == sessions_.end())
    return invalid_argument(fmt::format("Invalid request: session id {} does not exist", p.id));
  Session& s = sit->second;
  s.last_used = std::chrono::steady_clock::now();
  if (s.nodes.count(rid))
    return invalid_argument(
        fmt::format("Invalid request: rid {} is already a request of session {}", rid, p.id));
  Turn turn;
  Node* parent = nullptr;
  if (p.replace && !p.rid) {
    // Start the session over: every earlier turn goes (running ones are aborted).
    for (auto& [r, n] : s.nodes)
      if (!n.finished) turn.abort_rids.push_back(r);
    s.nodes.clear();
  } else if (p.rid) {
    auto it = s.nodes.find(*p.rid);
    if (it == s.nodes.end()) return invalid_argument("Invalid request session id");
    parent = &it->second;
    if (p.replace) {
      // Branch again from rid: a running rid is stopped first (the caller waits for its end, so
      // that the turn continues all it produced); its later turns go.
      if (!parent->finished) {
        turn.wait_for = *p.rid;
        return turn;
      }
      clear_children(s, *parent, turn.abort_rids);
    } else if (!parent->finished) {
      return invalid_argument("Session request is appending to a request that hasn't finished.");
    }
  }
  if (parent != nullptr) {
    if (!new_ids.empty() && bos_id >= 0 && new_ids.front() == bos_id) new_ids.erase(new_ids.begin());
    std::vector<int32_t> base = parent->input_ids;
    if (!p.drop_previous_output)
      base.insert(base.end(), parent->output_ids.begin(), parent->output_ids.end());
    if (p.offset && *p.offset != 0) {
      // Python's base[:offset]: negative counts from the end, out of range clamps.
      const auto n = static_cast<int64_t>(base.size());
      const int64_t keep = *p.offset < 0 ? std::max<int64_t>(0, n + *p.offset) : std::min(n, *p.offset);
      base.resize(static_cast<size_t>(keep));
    }
    base.insert(base.end(), new_ids.begin(), new_ids.end());
    turn.input_ids = std::move(base);
  } else {
    turn.input_ids = std::move(new_ids);
  }
  Node node;
  node.input_ids = turn.input_ids;
  if (parent != nullptr) {
    node.parent = *p.rid;
    parent->children.push_back(rid);
  }
  s.nodes.emplace(rid, std::move(node));
  return turn;
}

void SessionStore::end(const std::string& session_id, const std::string& rid, std::vector<int32_t> output_ids,
                       bool submitted) {
  std::lock_guard lk(mu_);
  auto sit = sessions_.find(session_id);
  if (sit == sessions_.end()) return;  // closed meanwhile
  Session& s = sit->second;
  auto it = s.nodes.find(rid);
  if (it == s.nodes.end()) return;  // replaced meanwhile
  for (auto& n : it->second.waiters) n->notify();
  if (!submitted) {
    if (auto p = s.nodes.find(it->second.parent); p != s.nodes.end()) std::erase(p->second.children, rid);
    s.nodes.erase(it);
    return;
  }
  it->second.waiters.clear();
  it->second.output_ids = std::move(output_ids);
  it->second.finished = true;
  s.last_used = std::chrono::steady_clock::now();
}

bool SessionStore::notify_when_ended(const std::string& session_id, const std::string& rid,
                                     std::shared_ptr<net::AsyncNotifier> n) {
  std::lock_guard lk(mu_);
  auto sit = sessions_.find(session_id);
  if (sit == sessions_.end()) return false;
  auto it = sit->second.nodes.find(rid);
  if (it == sit->second.nodes.end() || it->second.finished) return false;
  it->second.waiters.push_back(std::move(n));
  return true;
}

size_t SessionStore::size() const {
  std::lock_guard lk(mu_);
  return sessions_.size();
}

void SessionStore::reap_idle_locked() {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(sessions_, [&](const auto& kv) {
    const Session& s = kv.second;
    if (!s.timeout_s) return false;
    bool running = false;
    for (const auto& [r, n] : s.nodes) running = running || !n.finished;
    return !running && std::chrono::duration<double>(now - s.last_used).count() > *s.timeout_s;
  });
}

}  // namespace sgl::server
