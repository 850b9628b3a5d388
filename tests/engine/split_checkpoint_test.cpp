// Grok-2's published layout: non-expert tensors in a "TP-common" file and every expert matrix in
// pieces, one per tensor-parallel rank file (w1 / w3 split by rows, w2 by columns). tiny-grok2
// re-saved that way must load to exactly the same model, whole and at tp 2 / ep 2; a malformed
// set of pieces is refused with the tensor and files named.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/safetensors.h"
#include "engine_test_util.h"

namespace sgl::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const char* st_dtype(DType d) { return d == DType::kBF16 ? "BF16" : d == DType::kF16 ? "F16" : "F32"; }

// Writes one .safetensors file of the given tensors (name → raw bytes, dtype, shape).
struct Blob {
  DType dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};
void write_file(const std::string& path, const std::map<std::string, Blob>& tensors) {
  Json header = Json::object();
  std::string data;
  for (const auto& [name, b] : tensors) {
    header[name] = {{"dtype", st_dtype(b.dtype)},
                    {"shape", b.shape},
                    {"data_offsets", {data.size(), data.size() + b.bytes.size()}}};
    data += b.bytes;
  }
  const std::string h = header.dump();
  const uint64_t len = h.size();
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(&len), 8);
  f << h << data;
}

// Rows [r0, r1) × columns [c0, c1) of a 2-D view.
Blob slice(const TensorView& v, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  const auto es = static_cast<int64_t>(dtype_size(v.dtype));
  Blob b{v.dtype, {r1 - r0, c1 - c0}, {}};
  const auto* src = static_cast<const char*>(v.data);
  for (int64_t r = r0; r < r1; ++r) b.bytes.append(src + (r * v.shape[1] + c0) * es, (c1 - c0) * es);
  return b;
}

// tiny-grok2 as TP-common + `ranks` expert files; `edit` may break the pieces.
std::string split_grok(int ranks, const std::string& name,
                       const std::function<void(std::vector<std::map<std::string, Blob>>&)>& edit = {}) {
  const std::string src = testing::model_dir("tiny-grok2");
  const std::string dir = ::testing::TempDir() + "sglcpp_split_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(src + "/config.json", dir + "/config.json");
  auto st = SafetensorsFile::open(src + "/model.safetensors");
  EXPECT_TRUE(st.ok());
  std::map<std::string, Blob> common;
  std::vector<std::map<std::string, Blob>> rank(static_cast<size_t>(ranks));
  for (const auto& [tname, v] : (*st)->tensors()) {
    const bool expert = tname.find(".experts.") != std::string::npos;
    if (!expert) {  // whole, as it was
      common[tname] = Blob{v.dtype, v.shape,
                           std::string(static_cast<const char*>(v.data), v.numel() * dtype_size(v.dtype))};
      continue;
    }
    const bool down = tname.find(".w2.") != std::string::npos;  // [H, I]: split by columns
    for (int r = 0; r < ranks; ++r) {
      if (down) {
        const int64_t n = v.shape[1] / ranks;
        rank[r][tname] = slice(v, 0, v.shape[0], r * n, (r + 1) * n);
      } else {
        const int64_t n = v.shape[0] / ranks;
        rank[r][tname] = slice(v, r * n, (r + 1) * n, 0, v.shape[1]);
      }
    }
  }
  if (edit) edit(rank);
  write_file(dir + "/pytorch_model-00000-TP-common.safetensors", common);
  for (int r = 0; r < ranks; ++r)
    write_file(dir + fmt::format("/pytorch_model-{:05d}-TP-{:03d}.safetensors", r + 1, r), rank[r]);
  return dir;
}

std::vector<float> logits(const std::string& dir, int tp, int ep) {
  EngineConfig cfg;
  cfg.model_path = dir;
  cfg.dtype = "float32";
  cfg.tp_size = tp;
  cfg.ep_size = ep;
  auto r = create_model_runner(cfg);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return {};
  EXPECT_TRUE((*r)->init_kv_cache(256, 16).ok());
  testing::SlotPool pool((*r)->kv_num_slots(), 16);
  testing::Request req;
  StepInput in;
  in.return_logits = true;
  testing::add_chunk(in, req, {151, 2001, 77, 9, 3000, 12, 5, 88}, pool, true);
  auto out = (*r)->step(in);
  EXPECT_TRUE(out.ok());
  return out.ok() ? out->logits : std::vector<float>{};
}

TEST(SplitCheckpoint, GrokExpertPiecesLoadAsTheWholeTensors) {
  if (testing::model_dir("tiny-grok2").empty()) GTEST_SKIP() << "../shared not found";
  const std::string whole = testing::model_dir("tiny-grok2");
  const std::string split = split_grok(4, "grok4");
  const auto a = logits(whole, 1, 1), b = logits(split, 1, 1);
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
  // Sharded: each rank reads its slice across the pieces (2 ranks over 4 pieces, and experts by group).
  const auto c = logits(whole, 2, 2), d = logits(split, 2, 2);
  ASSERT_EQ(c.size(), d.size());
  EXPECT_EQ(std::memcmp(c.data(), d.data(), c.size() * 4), 0);
  const auto e = logits(whole, 2, 1), g = logits(split, 2, 1);
  EXPECT_EQ(std::memcmp(e.data(), g.data(), e.size() * 4), 0);
}

TEST(SplitCheckpoint, PiecesThatDoNotTileAreRefused) {
  if (testing::model_dir("tiny-grok2").empty()) GTEST_SKIP() << "../shared not found";
  const std::string missing = split_grok(2, "grok_missing", [](auto& rank) {
    rank[1].erase("model.layers.0.block_sparse_moe.experts.3.w1.weight");  // one piece only
  });
  EngineConfig cfg;
  cfg.model_path = missing;
  auto r = create_model_runner(cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("experts.3.w1"), std::string::npos) << r.error().message;
  const std::string ragged = split_grok(2, "grok_ragged", [](auto& rank) {
    auto& b = rank[1]["model.layers.1.block_sparse_moe.experts.0.w2.weight"];
    b.shape[1] -= 1;  // a piece one column short
    b.bytes.resize(b.bytes.size() - static_cast<size_t>(b.shape[0]) * 2);
  });
  cfg.model_path = ragged;
  r = create_model_runner(cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("do not tile"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("TP-001"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace sgl::engine
