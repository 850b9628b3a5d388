// The weight-loading progress log: what it counts, when it speaks and what it says.
#include "engine/load_progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sgl::engine {
namespace {

struct FakeClock {
  LoadProgress::Clock::time_point t{};
  void advance_ms(int ms) { t += std::chrono::milliseconds(ms); }
};

TEST(LoadProgress, BigCheckpointLogsAtMostOncePerIntervalAndAtTheEnd) {
  FakeClock clock;
  std::vector<std::string> lines;
  const int64_t gb = 1'000'000'000;
  // Three shards, 4 GB in all: over the 1 GiB threshold, so it logs from the start.
  LoadProgress p(
      {2 * gb, gb, gb}, {}, [&](const std::string& l) { lines.push_back(l); }, [&] { return clock.t; });
  int keys[8];
  clock.advance_ms(500);
  p.add(&keys[0], 0, gb);  // 0.5 s since the start: under the 1 s interval, silent
  EXPECT_TRUE(lines.empty());
  clock.advance_ms(600);
  p.add(&keys[1], 0, gb);  // 1.1 s: a line
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "Loading safetensors shards: 1/3, 2.0/4.0 GB, 1818 MB/s");
  p.add(&keys[1], 0, gb);  // the same tensor again (a fused qkv read thrice): counted once
  EXPECT_EQ(p.bytes_done(), 2 * gb);
  clock.advance_ms(200);
  p.add(&keys[2], 1, gb);  // within a second of the last line: silent
  EXPECT_EQ(lines.size(), 1u);
  EXPECT_EQ(p.shards_reached(), 2u);
  clock.advance_ms(900);
  p.add(&keys[3], 2, gb);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "Loading safetensors shards: 3/3, 4.0/4.0 GB, 1818 MB/s");
  p.finish();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "Loaded safetensors shards: 3/3, 4.0 GB in 2.2 s (1818 MB/s)");
  p.finish();  // once only
  p.add(&keys[4], 0, gb);
  EXPECT_EQ(lines.size(), 3u);
}

TEST(LoadProgress, SmallFastCheckpointStaysSilent) {
  FakeClock clock;
  std::vector<std::string> lines;
  LoadProgress p(
      {1000, 2000}, {}, [&](const std::string& l) { lines.push_back(l); }, [&] { return clock.t; });
  int keys[2];
  clock.advance_ms(1500);
  p.add(&keys[0], 0, 1000);
  clock.advance_ms(100);
  p.add(&keys[1], 1, 2000);
  p.finish();
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(p.bytes_done(), 3000);
}

TEST(LoadProgress, SmallButSlowCheckpointLogsOnceItTakesTwoSeconds) {
  FakeClock clock;
  std::vector<std::string> lines;
  LoadProgress p(
      {1000, 2000}, {}, [&](const std::string& l) { lines.push_back(l); }, [&] { return clock.t; });
  int keys[2];
  clock.advance_ms(1900);
  p.add(&keys[0], 0, 1000);
  EXPECT_TRUE(lines.empty());
  clock.advance_ms(200);  // 2.1 s: slow enough to matter
  p.add(&keys[1], 1, 2000);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("Loading safetensors shards: 2/2, 0.0/0.0 GB", 0), 0u) << lines[0];
  p.finish();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].rfind("Loaded safetensors shards: 2/2", 0), 0u) << lines[1];
}

}  // namespace
}  // namespace sgl::engine
