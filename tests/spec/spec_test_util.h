// Shared setup of the speculative-decoding tests: tiny-qwen3, its EAGLE3 head and the reference.
#pragma once

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/shared_dir.h"
#include "engine/engine_config.h"
#include "engine/spec/eagle3_draft.h"
#include "sched/spec/batch_generator.h"

namespace sgl::sched::spec::testing {

inline std::string shared_dir() { return sgl::find_shared_dir(SGL_SOURCE_DIR); }

struct RefCase {
  std::vector<int32_t> input_ids, greedy_ids;
  std::vector<int32_t> accept_lengths;
};

inline std::vector<RefCase> reference_cases() {
  std::vector<RefCase> out;
  std::ifstream f(shared_dir() + "/golden/tiny-qwen3-eagle3.reference.json");
  auto j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded()) return out;
  for (const auto& c : j["cases"])
    out.push_back({c["input_ids"].get<std::vector<int32_t>>(), c["greedy_ids"].get<std::vector<int32_t>>(),
                   c["accept_lengths"].get<std::vector<int32_t>>()});
  return out;
}

// A target runner plus (optionally) its draft head, wrapped in a BatchGenerator.
struct Engine {
  std::unique_ptr<engine::ModelRunner> target;
  std::unique_ptr<engine::spec::Eagle3Draft> draft;
  std::unique_ptr<BatchGenerator> gen;
  std::string error;
};

inline Engine make_engine(bool speculative, SpecConfig cfg, const std::string& dtype = "float32",
                          int page_size = 1, int64_t slots = 8192) {
  Engine e;
  const std::string target_dir = shared_dir() + "/models/tiny-qwen3";
  engine::EngineConfig ec;
  ec.model_path = target_dir;
  ec.dtype = dtype;
  ec.random_seed = 7;
  auto r = engine::create_model_runner(ec);
  if (!r.ok()) {
    e.error = r.error().message;
    return e;
  }
  e.target = std::move(r).value();
  if (speculative) {
    auto d = engine::spec::Eagle3Draft::load(shared_dir() + "/models/tiny-qwen3-eagle3", target_dir,
                                             e.target->info(),
                                             dtype == "float32" ? engine::DType::kF32 : engine::DType::kBF16);
    if (!d.ok()) {
      e.error = d.error().message;
      return e;
    }
    e.draft = std::move(d).value();
  }
  auto g = BatchGenerator::create(*e.target, e.draft.get(), cfg, page_size, slots);
  if (!g.ok()) {
    e.error = g.error().message;
    return e;
  }
  e.gen = std::move(g).value();
  return e;
}

}  // namespace sgl::sched::spec::testing
