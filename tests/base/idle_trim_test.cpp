#include "base/idle_trim.h"

#include <gtest/gtest.h>

#include <thread>

namespace sgl {
namespace {

using std::chrono::milliseconds;

// Waits until `pred` or 4 s (the trimmer's timing is loose on a loaded machine).
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 400 && !pred(); ++i) std::this_thread::sleep_for(milliseconds(10));
  return pred();
}

TEST(IdleMemoryTrimmer, TrimsOnceAfterEachBusySpellOnlyWhenQuiet) {
  IdleMemoryTrimmer trimmer(milliseconds(250));
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(trimmer.trims(), 0) << "no activity, nothing to trim";
  note_activity();
  EXPECT_TRUE(eventually([&] { return trimmer.trims() == 1; }));
  std::this_thread::sleep_for(milliseconds(600));
  EXPECT_EQ(trimmer.trims(), 1) << "once per spell";
  // A spell of steady activity: no trim while it lasts, one after.
  const auto until = std::chrono::steady_clock::now() + milliseconds(700);
  while (std::chrono::steady_clock::now() < until) {
    note_activity();
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(trimmer.trims(), 1) << "trimmed while busy";
  EXPECT_TRUE(eventually([&] { return trimmer.trims() == 2; }));
}

}  // namespace
}  // namespace sgl
