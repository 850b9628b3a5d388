#include "server/session_store.h"

#include <gtest/gtest.h>

#include <thread>

namespace sgl::server {
namespace {

using Ids = std::vector<int32_t>;

struct Sessions : ::testing::Test {
  SessionStore store{4};
  std::string sid = *store.open({});

  // begin + end: a finished turn that produced `out`.
  Ids turn(const SessionParams& p, const std::string& rid, Ids in, Ids out, int32_t bos = -1) {
    auto t = store.begin(p, rid, std::move(in), bos);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    if (!t.ok()) return {};
    store.end(p.id, rid, std::move(out), true);
    return t->input_ids;
  }
  SessionParams at(std::optional<std::string> rid = std::nullopt) {
    SessionParams p;
    p.id = sid;
    p.rid = std::move(rid);
    return p;
  }
};

TEST_F(Sessions, ATurnContinuesItsParentsInputAndOutput) {
  EXPECT_EQ(turn(at(), "a", {1, 2}, {3, 4}), (Ids{1, 2}));
  EXPECT_EQ(turn(at("a"), "b", {5}, {6}), (Ids{1, 2, 3, 4, 5}));
  EXPECT_EQ(turn(at("b"), "c", {7}, {}), (Ids{1, 2, 3, 4, 5, 6, 7}));
  // Roots need no parent: a second one starts afresh.
  EXPECT_EQ(turn(at(), "d", {9}, {}), (Ids{9}));
}

TEST_F(Sessions, OffsetsSliceAsPythonAndDropPreviousOutputKeepsTheInput) {
  turn(at(), "a", {1, 2, 3}, {4, 5});
  auto p = at("a");
  p.offset = -1;  // SGLang's chaining: the parent's last output token never had its KV computed
  EXPECT_EQ(turn(p, "b", {9}, {}), (Ids{1, 2, 3, 4, 9}));
  p.offset = 2;
  EXPECT_EQ(turn(p, "c", {9}, {}), (Ids{1, 2, 9}));
  p.offset = -100;
  EXPECT_EQ(turn(p, "d", {9}, {}), (Ids{9}));
  p.offset = 100;
  EXPECT_EQ(turn(p, "e", {9}, {}), (Ids{1, 2, 3, 4, 5, 9}));
  p.offset = 0;  // 0 is "append", as SGLang's `if offset and offset != 0`
  EXPECT_EQ(turn(p, "f", {9}, {}), (Ids{1, 2, 3, 4, 5, 9}));
  p.offset.reset();
  p.drop_previous_output = true;
  EXPECT_EQ(turn(p, "g", {9}, {}), (Ids{1, 2, 3, 9}));
  // A continuation drops the new prompt's BOS; a root keeps it.
  p.drop_previous_output = false;
  EXPECT_EQ(turn(p, "h", {0, 9}, {}, /*bos=*/0), (Ids{1, 2, 3, 4, 5, 9}));
  EXPECT_EQ(turn(at(), "i", {0, 9}, {}, /*bos=*/0), (Ids{0, 9}));
}

TEST_F(Sessions, ReplaceClearsWhatFollowedAndWaitsForARunningParent) {
  turn(at(), "a", {1}, {2});
  turn(at("a"), "b", {3}, {4});
  auto running = store.begin(at("b"), "c", {5}, -1);  // still running
  ASSERT_TRUE(running.ok());
  auto p = at("a");
  p.replace = true;
  auto t = store.begin(p, "x", {7}, -1);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->input_ids, (Ids{1, 2, 7}));
  EXPECT_EQ(t->abort_rids, (std::vector<std::string>{"c"})) << "the running descendant is aborted";
  store.end(sid, "x", {8}, true);
  store.end(sid, "c", {6}, true);  // ends after being cleared: nothing to record
  for (const char* gone : {"b", "c"}) {
    auto r = store.begin(at(gone), "y", {1}, -1);
    ASSERT_FALSE(r.ok()) << gone;
    EXPECT_EQ(r.error().message, "Invalid request session id");
  }
  // Replacing a running turn: wait for its end, then continue all it produced.
  ASSERT_TRUE(store.begin(at("x"), "r", {9}, -1).ok());
  auto q = at("r");
  q.replace = true;
  auto w = store.begin(q, "z", {10}, -1);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->wait_for, "r");
  auto n = std::make_shared<net::AsyncNotifier>();
  EXPECT_TRUE(store.notify_when_ended(sid, "r", n));
  store.end(sid, "r", {11, 12}, true);
  EXPECT_FALSE(store.notify_when_ended(sid, "r", n)) << "ended: nothing to wait for";
  auto again = store.begin(q, "z", {10}, -1);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->wait_for.has_value());
  EXPECT_EQ(again->input_ids, (Ids{1, 2, 7, 8, 9, 11, 12, 10}));
  // replace without a rid starts the session over.
  SessionParams all = at();
  all.replace = true;
  auto fresh = store.begin(all, "f", {5}, -1);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->abort_rids, (std::vector<std::string>{"z"}));
  EXPECT_FALSE(store.begin(at("a"), "g", {1}, -1).ok());
}

TEST_F(Sessions, ErrorsSpeakSglangsWords) {
  SessionParams bad;
  bad.id = "nope";
  auto r = store.begin(bad, "a", {1}, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Invalid request: session id nope does not exist");
  ASSERT_TRUE(store.begin(at(), "a", {1}, -1).ok());
  r = store.begin(at("a"), "b", {2}, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Session request is appending to a request that hasn't finished.");
  r = store.begin(at(), "a", {2}, -1);
  EXPECT_FALSE(r.ok()) << "a rid already in the session";
  OpenSessionRequest same;
  same.session_id = sid;
  auto o = store.open(same);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().message,
            "Failed to open the session. Check if a session with the same id is still open.");
}

TEST_F(Sessions, ATurnThatNeverRanIsForgottenAndClosingForgetsAll) {
  ASSERT_TRUE(store.begin(at(), "a", {1}, -1).ok());
  store.end(sid, "a", {}, /*submitted=*/false);
  EXPECT_FALSE(store.begin(at("a"), "b", {2}, -1).ok());
  EXPECT_TRUE(store.begin(at(), "a", {1}, -1).ok()) << "the rid is free again";
  EXPECT_TRUE(store.close(sid));
  EXPECT_FALSE(store.close(sid));
  store.end(sid, "a", {3}, true);  // a turn ending after its session closed
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(Sessions, OpenSessionsAreBoundedAndIdleOnesTimeOut) {
  for (int i = 1; i < 4; ++i) ASSERT_TRUE(store.open({}).ok());
  auto full = store.open({});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kUnavailable);
  store.close(sid);
  OpenSessionRequest brief;
  brief.timeout = 0.05;
  auto b = store.open(brief);
  ASSERT_TRUE(b.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_TRUE(store.open({}).ok()) << "the idle session timed out and made room";
  SessionParams p;
  p.id = *b;
  EXPECT_FALSE(store.begin(p, "a", {1}, -1).ok());
}

}  // namespace
}  // namespace sgl::server
