// Helpers of the CUDA tests: skipping without a GPU, device copies of host vectors, runners.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../engine/engine_test_util.h"
#include "engine/cuda/device.h"
#include "engine/dtype.h"
#include "engine/engine_config.h"
#include "engine/model_runner.h"

#define SGL_SKIP_WITHOUT_GPU()                                                        \
  do {                                                                                \
    if (::sgl::engine::cuda::device_count() == 0)                                     \
      GTEST_SKIP() << "no CUDA device visible: CUDA tests run on a GPU machine only"; \
  } while (0)

namespace sgl::engine::cuda::testing {

inline DeviceBuffer dev_alloc(size_t bytes) {
  auto b = DeviceBuffer::alloc(std::max<size_t>(1, bytes));
  EXPECT_TRUE(b.ok());
  return b.ok() ? std::move(*b) : DeviceBuffer{};
}

template <class T>
DeviceBuffer to_device(const std::vector<T>& v) {
  auto b = DeviceBuffer::alloc(std::max<size_t>(1, v.size() * sizeof(T)));
  EXPECT_TRUE(b.ok());
  if (!v.empty()) {
    EXPECT_EQ(cudaMemcpy(b->as(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  return std::move(*b);
}

template <class T>
std::vector<T> to_host(const DeviceBuffer& b, size_t n) {
  std::vector<T> v(n);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  if (n) {
    EXPECT_EQ(cudaMemcpy(v.data(), b.as(), n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
  }
  return v;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double w = 0;
  for (size_t i = 0; i < a.size(); ++i) w = std::max(w, std::abs(static_cast<double>(a[i]) - b[i]));
  return w;
}

inline std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> o(v.size());
  for (size_t i = 0; i < v.size(); ++i) o[i] = f32_to_bf16(v[i]);
  return o;
}

inline std::vector<float> from_bf16(const std::vector<uint16_t>& v) {
  std::vector<float> o(v.size());
  for (size_t i = 0; i < v.size(); ++i) o[i] = bf16_to_f32(v[i]);
  return o;
}

inline std::unique_ptr<ModelRunner> make_cuda_runner(const std::string& path, int64_t slots = 8192,
                                                     int page_size = 16, bool cuda_graphs = true) {
  EngineConfig cfg;
  cfg.disable_cuda_graph = !cuda_graphs;
  cfg.model_path = path;
  cfg.device = "cuda";
  cfg.dtype = "bfloat16";
  cfg.load_format = "auto";
  auto r = create_model_runner(cfg);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  auto runner = std::move(*r);
  if (!runner->init_kv_cache(slots, page_size).ok()) return nullptr;
  return runner;
}

// The first of `names` present under ../shared/models (the device run carries only some), or "".
inline std::string first_model(std::initializer_list<const char*> names) {
  for (const char* n : names) {
    const std::string dir = engine::testing::model_dir(n);
    if (!dir.empty() && std::ifstream(dir + "/config.json").good()) return dir;
  }
  return "";
}

}  // namespace sgl::engine::cuda::testing
