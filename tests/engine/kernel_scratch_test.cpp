// KernelScratch: a thread's nested kernel calls get distinct buffers, and release_kernel_scratch()
// frees the idle ones while leaving a buffer a kernel holds right now untouched.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/cpu/scratch.h"

namespace sgl::engine::cpu {
namespace {

TEST(KernelScratch, NestedLeasesGetDistinctBuffersAndReleaseSkipsHeldOnes) {
  thread_local KernelScratch<int> scratch;
  {
    auto outer = scratch.get(100);
    std::memset(outer.data, 0x11, 100 * sizeof(int));
    auto inner = scratch.get(100);  // a GEMM this thread runs while the outer one waits
    EXPECT_NE(inner.data, outer.data);
    std::memset(inner.data, 0x22, 100 * sizeof(int));
    release_kernel_scratch();  // both held: untouched
    EXPECT_EQ(outer.data[99], 0x11111111);
    EXPECT_EQ(inner.data[0], 0x22222222);
    // Deeper than the levels kept: still a buffer of its own.
    auto l2 = scratch.get(8), l3 = scratch.get(8), l4 = scratch.get(8);
    EXPECT_NE(l4.data, l3.data);
    l4.data[7] = 1;
  }
  int* before = nullptr;
  {
    auto again = scratch.get(100);
    before = again.data;  // the level-0 buffer, kept between calls
  }
  {
    auto same = scratch.get(50);
    EXPECT_EQ(same.data, before) << "a buffer is reused while it is big enough";
  }
  release_kernel_scratch();
  {
    auto fresh = scratch.get(1 << 20);  // reallocated after the release, at the size asked
    fresh.data[(1 << 20) - 1] = 3;
    EXPECT_EQ(fresh.data[(1 << 20) - 1], 3);
  }
}

}  // namespace
}  // namespace sgl::engine::cpu
