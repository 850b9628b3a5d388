#include "server/crash_dump.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace sgl::server {
namespace {

namespace fs = std::filesystem;

double g_now = 1'000'000.0;
double fake_now() { return g_now; }

class CrashDumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sgl-crash-dump-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    g_now = 1'000'000.0;
    rec_.set_clock_for_test(&fake_now);
  }
  void TearDown() override { fs::remove_all(dir_); }

  nlohmann::json read(const std::string& path) {
    std::ifstream f(path);
    return nlohmann::json::parse(f);
  }

  fs::path dir_;
  CrashDumpRecorder rec_;
};

TEST_F(CrashDumpTest, OffRecordsNothingAndWritesNothing) {
  EXPECT_FALSE(rec_.enabled());
  EXPECT_EQ(rec_.received(R"({"text":"a"})"), 0u);
  auto f = rec_.dump(nlohmann::ordered_json::object(), "test");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->path.empty());
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(CrashDumpTest, WritesFinishedAndRunningRequestsUnderTheHostName) {
  rec_.set_folder(dir_.string());
  ASSERT_TRUE(rec_.enabled());
  const uint64_t a = rec_.received(R"({"text":"first"})");
  const uint64_t b = rec_.received(R"({"text":"still running"})");
  ASSERT_NE(a, 0u);
  ASSERT_NE(b, a);
  g_now += 2;
  rec_.finished(a, nlohmann::ordered_json{{"text", " out"}});
  auto f = rec_.dump(nlohmann::ordered_json{{"port", 30000}}, "watchdog: step hung");
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_FALSE(f->path.empty());
  EXPECT_EQ(f->finished, 1u);
  EXPECT_EQ(f->unfinished, 1u);
  const fs::path p(f->path);
  EXPECT_EQ(p.parent_path().parent_path(), dir_);
  EXPECT_TRUE(p.filename().string().starts_with("crash_dump_"));
  const auto doc = read(f->path);
  EXPECT_EQ(doc["server_args"]["port"], 30000);
  EXPECT_EQ(doc["reason"], "watchdog: step hung");
  ASSERT_EQ(doc["requests"].size(), 2u);
  EXPECT_EQ(doc["requests"][0]["obj"]["text"], "first");
  EXPECT_EQ(doc["requests"][0]["out"]["text"], " out");
  EXPECT_DOUBLE_EQ(
      doc["requests"][0]["finished_time"].get<double>() - doc["requests"][0]["created_time"].get<double>(),
      2.0);
  EXPECT_EQ(doc["requests"][1]["obj"]["text"], "still running");
  EXPECT_TRUE(doc["requests"][1]["out"].empty());
}

TEST_F(CrashDumpTest, DumpsOncePerProcess) {
  rec_.set_folder(dir_.string());
  rec_.finished(rec_.received("{}"), nlohmann::ordered_json::object());
  auto first = rec_.dump(nlohmann::ordered_json::object(), "SIGTERM");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->path.empty());
  rec_.finished(rec_.received("{}"), nlohmann::ordered_json::object());
  auto second = rec_.dump(nlohmann::ordered_json::object(), "SIGTERM");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->path.empty());
}

TEST_F(CrashDumpTest, KeepsOnlyTheLastFiveMinutes) {
  rec_.set_folder(dir_.string());
  rec_.finished(rec_.received(R"({"text":"old"})"), nlohmann::ordered_json::object());
  g_now += CrashDumpRecorder::kWindowSeconds - 1;
  rec_.finished(rec_.received(R"({"text":"recent"})"), nlohmann::ordered_json::object());
  g_now += 2;  // "old" is now past the window, "recent" is not
  auto f = rec_.dump(nlohmann::ordered_json::object(), "test");
  ASSERT_TRUE(f.ok());
  const auto doc = read(f->path);
  ASSERT_EQ(doc["requests"].size(), 1u);
  EXPECT_EQ(doc["requests"][0]["obj"]["text"], "recent");
}

TEST_F(CrashDumpTest, BoundsTheBytesKept) {
  rec_.set_folder(dir_.string());
  const std::string big(CrashDumpRecorder::kMaxBytes / 4 + 1, 'x');
  for (int i = 0; i < 8; ++i) rec_.finished(rec_.received(big), nlohmann::ordered_json::object());
  auto f = rec_.dump(nlohmann::ordered_json::object(), "test");
  ASSERT_TRUE(f.ok());
  EXPECT_LE(f->finished, 3u);  // 4 of them would exceed the cap
  EXPECT_GE(f->finished, 1u);
}

TEST_F(CrashDumpTest, NonJsonBodyIsKeptAsText) {
  rec_.set_folder(dir_.string());
  rec_.finished(rec_.received("not json {"), nlohmann::ordered_json::object());
  auto f = rec_.dump(nlohmann::ordered_json::object(), "test");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(read(f->path)["requests"][0]["obj"], "not json {");
}

TEST_F(CrashDumpTest, TurningOffDropsWhatWasKept) {
  rec_.set_folder(dir_.string());
  const uint64_t t = rec_.received("{}");
  rec_.set_folder("");
  rec_.finished(t, nlohmann::ordered_json::object());  // no crash, nothing recorded
  rec_.set_folder(dir_.string());
  auto f = rec_.dump(nlohmann::ordered_json::object(), "test");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->path.empty());
}

TEST_F(CrashDumpTest, UnwritableFolderIsAnError) {
  const fs::path file = fs::temp_directory_path() / ("sgl-crash-dump-file-" + std::to_string(::getpid()));
  std::ofstream(file) << "x";
  rec_.set_folder((file / "sub").string());  // a path under a regular file cannot be created
  rec_.received("{}");
  auto f = rec_.dump(nlohmann::ordered_json::object(), "test");
  EXPECT_FALSE(f.ok());
  fs::remove(file);
}

}  // namespace
}  // namespace sgl::server
