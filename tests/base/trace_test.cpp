#include "base/trace.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace sgl::trace {
namespace {

// The recorder is process-wide: every test leaves it stopped.
struct TraceTest : ::testing::Test {
  void SetUp() override { (void)stop(); }
  void TearDown() override { (void)stop(); }
};

int count_named(const Capture& c, const std::string& name) {
  int n = 0;
  for (const Event& e : c.events) n += e.name == name;
  return n;
}

// One "forward" the way the step worker records it: counted first, then its span.
void forward(int i) {
  note_forward();
  Span s("forward", "decode");
  s.set_args([&] { return Args().add("i", i); });
}

TEST_F(TraceTest, NothingIsRecordedWithoutACapture) {
  EXPECT_FALSE(recording());
  { Span s("x", "idle span"); }
  ASSERT_TRUE(start({}, nullptr));
  std::optional<Capture> c = stop();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(count_named(*c, "idle span"), 0);
  EXPECT_FALSE(stop().has_value()) << "a second stop has nothing to stop";
}

TEST_F(TraceTest, OneCaptureAtATimeAndStopReturnsItsSpans) {
  ASSERT_TRUE(start({}, nullptr));
  EXPECT_TRUE(active());
  EXPECT_FALSE(start({}, nullptr)) << "a second capture while one runs";
  for (int i = 0; i < 3; ++i) forward(i);
  { Span s("kernel", "attention"); }
  async_begin("request", "rid-1", 7, Args().add("prompt_tokens", 5));
  async_end("request", "rid-1", 7);
  std::optional<Capture> c = stop();
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(active());
  EXPECT_FALSE(recording());
  EXPECT_EQ(c->forwards, 3);
  EXPECT_EQ(count_named(*c, "decode"), 3);
  EXPECT_EQ(count_named(*c, "attention"), 1);
  EXPECT_EQ(count_named(*c, "rid-1"), 2);
  { Span s("x", "after stop"); }
  ASSERT_TRUE(start({}, nullptr));
  EXPECT_EQ(count_named(*stop(), "after stop"), 0);
}

TEST_F(TraceTest, NumStepsStopsByItselfAfterThatManyForwards) {
  std::optional<Capture> handed;
  ASSERT_TRUE(start({std::nullopt, 2}, [&](Capture c) { handed = std::move(c); }));
  forward(0);
  forward(1);
  EXPECT_FALSE(handed.has_value());
  forward(2);  // the third forward ends the capture before it runs
  ASSERT_TRUE(handed.has_value());
  EXPECT_TRUE(handed->stopped_by_step_limit);
  EXPECT_EQ(handed->forwards, 2);
  EXPECT_EQ(count_named(*handed, "decode"), 2);
  EXPECT_FALSE(active());
  EXPECT_FALSE(stop().has_value());
}

TEST_F(TraceTest, StartStepWaitsForItsForward) {
  std::optional<Capture> handed;
  // A start step in the past means "from the next forward" (SGLang: max(start_step, ct + 1)).
  ASSERT_TRUE(start({0, 1}, [&](Capture c) { handed = std::move(c); }));
  EXPECT_TRUE(active());
  EXPECT_FALSE(recording()) << "armed, not recording before its first forward";
  { Span s("x", "before the start step"); }
  forward(1);
  EXPECT_TRUE(recording());
  forward(2);
  ASSERT_TRUE(handed.has_value());
  EXPECT_EQ(handed->forwards, 1);
  EXPECT_EQ(count_named(*handed, "before the start step"), 0);
  EXPECT_EQ(count_named(*handed, "decode"), 1);
}

TEST_F(TraceTest, AFutureStartStepSkipsTheForwardsBeforeIt) {
  // Find the current forward count: arm at a far step, see that nothing records.
  ASSERT_TRUE(start({1'000'000'000, 1}, nullptr));
  forward(0);
  EXPECT_FALSE(recording());
  std::optional<Capture> c = stop();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->forwards, 0);
  EXPECT_TRUE(c->events.empty());
}

TEST_F(TraceTest, ChromeJsonHasTheEventsThreadNamesAndRelativeTimes) {
  ASSERT_TRUE(start({}, nullptr));
  std::thread([] {
    set_thread_name("forward worker");
    forward(0);
  }).join();
  {
    Span s("kernel", "mlp \"quoted\"");
    s.set_args([] { return Args().add("layer", 3).add("kind", "a\nb").add("ratio", 0.5); });
  }
  async_begin("http", "POST /generate", 42);
  async_end("http", "POST /generate", 42, Args().add("status", 200));
  instant("scheduler", "flush");
  std::optional<Capture> c = stop();
  ASSERT_TRUE(c.has_value());
  const auto j = nlohmann::json::parse(to_chrome_json(*c, 1234, "sglcpp-server"));
  const auto& ev = j.at("traceEvents");
  bool worker_named = false, mlp = false, begin = false, end = false, inst = false;
  double min_ts = 1e300;
  for (const auto& e : ev) {
    const std::string ph = e.at("ph");
    if (ph == "M") {
      if (e.at("name") == "thread_name" && e.at("args").at("name") == "forward worker") worker_named = true;
      continue;
    }
    EXPECT_EQ(e.at("pid"), 1234);
    min_ts = std::min(min_ts, e.at("ts").get<double>());
    if (e.at("name") == "mlp \"quoted\"") {
      mlp = true;
      EXPECT_EQ(ph, "X");
      EXPECT_GE(e.at("dur").get<double>(), 0.0);
      EXPECT_EQ(e.at("args").at("layer"), 3);
      EXPECT_EQ(e.at("args").at("kind"), "a\nb");
      EXPECT_DOUBLE_EQ(e.at("args").at("ratio").get<double>(), 0.5);
    }
    if (ph == "b") begin = e.at("id") == "0x2a" && e.at("cat") == "http";
    if (ph == "e") end = e.at("id") == "0x2a" && e.at("args").at("status") == 200;
    if (ph == "i") inst = e.at("name") == "flush";
  }
  EXPECT_TRUE(worker_named && mlp && begin && end && inst);
  EXPECT_DOUBLE_EQ(min_ts, 0.0) << "timestamps start at the capture's first event";
  EXPECT_EQ(j.at("otherData").at("forwards"), 1);
}

}  // namespace
}  // namespace sgl::trace
