// SGLang's sessions (/open_session, /close_session, /generate's session_params): a session keeps
// the token sequences of its requests as a tree, so that a turn can continue any earlier one —
// after its output, after its input only, cut at an offset, or replacing what followed it — without
// the client resending the history. The KV of the turns stays in the radix cache (each finished
// sequence is cached), so a continuation prefills only its new tokens while the cache holds them;
// when the pool evicted them it recomputes, with the same result.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "net/async_notifier.h"
#include "server/protocol/session_params.h"

namespace sgl::server {

class SessionStore {
 public:
  // At most `max_sessions` open at once (an open beyond it is refused): each holds token ids.
  explicit SessionStore(size_t max_sessions = 4096) : max_sessions_(max_sessions) {}

  // The new session's id (a fresh one when none is asked for). Errors: the id is open; too many.
  Result<std::string> open(const OpenSessionRequest& req);
  // False when no such session was open (SGLang answers 200 either way).
  bool close(const std::string& id);

  struct Turn {
    std::vector<int32_t> input_ids;       // what the request runs on
    std::vector<std::string> abort_rids;  // running requests the turn replaces
    // Set (nothing else is): the turn replaces this running request and continues its output.
    // Abort it, wait for its end (notify_when_ended), then begin again.
    std::optional<std::string> wait_for;
  };
  // Builds request `rid`'s input from its session (SGLang's Session.create_req) and records it as
  // running. `new_ids` are the request's own prompt ids; a leading `bos_id` is dropped when the
  // turn continues an earlier one. Errors (400 in SGLang's words): unknown session, unknown rid,
  // appending to a request that has not finished, a rid already in the session.
  Result<Turn> begin(const SessionParams& p, const std::string& rid, std::vector<int32_t> new_ids,
                     int32_t bos_id);
  // The request ended (finished, aborted or refused): what it produced is what later turns
  // continue. `submitted` false (never ran): it is forgotten instead.
  void end(const std::string& session_id, const std::string& rid, std::vector<int32_t> output_ids,
           bool submitted);
  // Wakes `n` when request `rid` of the session ends; false (no wake-up to wait for) when it is not
  // running.
  bool notify_when_ended(const std::string& session_id, const std::string& rid,
                         std::shared_ptr<net::AsyncNotifier> n);

  size_t size() const;

 private:
  struct Node {
    std::string parent;  // "" for a root
    std::vector<std::string> children;
    std::vector<int32_t> input_ids, output_ids;
    bool finished = false;
    std::vector<std::shared_ptr<net::AsyncNotifier>> waiters;  // woken at the end
  };
  struct Session {
    std::unordered_map<std::string, Node> nodes;
    std::optional<double> timeout_s;
    std::chrono::steady_clock::time_point last_used;
  };
  void clear_children(Session& s, Node& n, std::vector<std::string>& aborted);
  void reap_idle_locked();

  size_t max_sessions_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;
};

}  // namespace sgl::server
