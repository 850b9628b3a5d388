// Final hidden states of logits rows (ForwardBatch::return_row_hidden: SGLang's
// return_hidden_states and last-token embeddings): the state after the final norm, so that it
// times the LM head gives the HF reference's logits; and a Qwen3Model checkpoint (Qwen3-Embedding's
// layout: no "model." prefix, no lm_head) made from tiny-qwen3 loads to the very same states.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/cpu/kernels.h"
#include "engine/safetensors.h"
#include "engine_test_util.h"

namespace sgl::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The last prompt position's final hidden state for `ids`.
std::vector<float> last_hidden(ModelRunner& runner, const std::vector<int32_t>& ids) {
  testing::SlotPool pool(runner.kv_num_slots(), 16);
  testing::Request req;
  StepInput in;
  in.batch.return_row_hidden = true;
  testing::add_chunk(in, req, ids, pool, false);
  auto out = runner.step(in);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
  if (!out.ok() || out->rows.empty()) return {};
  return out->rows.back().hidden;
}

// tiny-qwen3 re-saved as a Qwen3Model: every "model." prefix dropped (it has no lm_head: tied).
std::string as_base_model(const std::string& src) {
  const std::string dir = ::testing::TempDir() + "sglcpp_qwen3_base";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Json cfg = Json::parse(std::ifstream(src + "/config.json"));
  cfg["architectures"] = {"Qwen3Model"};
  std::ofstream(dir + "/config.json") << cfg.dump();
  auto st = SafetensorsFile::open(src + "/model.safetensors");
  EXPECT_TRUE(st.ok());
  Json header = Json::object();
  std::string data;
  for (const auto& [name, v] : (*st)->tensors()) {
    const std::string bare = name.rfind("model.", 0) == 0 ? name.substr(6) : name;
    const size_t n = static_cast<size_t>(v.numel()) * dtype_size(v.dtype);
    header[bare] = {{"dtype", v.dtype == DType::kBF16 ? "BF16" : "F32"},
                    {"shape", v.shape},
                    {"data_offsets", {data.size(), data.size() + n}}};
    data.append(static_cast<const char*>(v.data), n);
  }
  const std::string h = header.dump();
  const uint64_t len = h.size();
  std::ofstream f(dir + "/model.safetensors", std::ios::binary);
  f.write(reinterpret_cast<const char*>(&len), 8);
  f << h << data;
  return dir;
}

TEST(RowHidden, FinalNormStateTimesTheLmHeadIsTheReferenceLogits) {
  const std::string dir = testing::model_dir("tiny-qwen3");
  if (dir.empty()) GTEST_SKIP() << "../shared not found";
  auto runner = testing::make_runner(dir, "float32");
  ASSERT_NE(runner, nullptr);
  auto files = WeightFiles::open_dir(dir);
  ASSERT_TRUE(files.ok());
  const int64_t v = runner->info().vocab_size, h = runner->info().hidden_size;
  auto emb = files->get("model.embed_tokens.weight", {v, h});  // tied: the LM head
  ASSERT_TRUE(emb.ok());
  std::ifstream gf(sgl::find_shared_dir(SGL_SOURCE_DIR) + "/golden/tiny-qwen3.golden.json");
  const auto golden = Json::parse(gf);
  int checked = 0;
  std::vector<float> row(static_cast<size_t>(h));
  for (const auto& c : golden["cases"]) {
    if (c["kind"] != "raw") continue;
    const auto ids = c["input_ids"].get<std::vector<int32_t>>();
    const auto hidden = last_hidden(*runner, ids);
    ASSERT_EQ(hidden.size(), static_cast<size_t>(h));
    const auto& top = c["top_ids"].back();
    for (size_t k = 0; k < top.size(); ++k) {
      const int32_t id = top[k].get<int32_t>();
      cpu::convert_tensor(static_cast<const uint8_t*>(emb->data) + id * h * dtype_size(emb->dtype),
                          emb->dtype, h, DType::kF32, row.data());
      double logit = 0;
      for (int64_t j = 0; j < h; ++j) logit += double(hidden[j]) * row[j];
      EXPECT_NEAR(logit, c["top_logits"].back()[k].get<double>(), 0.01) << c["text"] << " token " << id;
    }
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

TEST(RowHidden, Qwen3ModelCheckpointLoadsAsTheCausalLm) {
  const std::string dir = testing::model_dir("tiny-qwen3");
  if (dir.empty()) GTEST_SKIP() << "../shared not found";
  auto lm = testing::make_runner(dir, "float32");
  auto base = testing::make_runner(as_base_model(dir), "float32");
  ASSERT_NE(lm, nullptr);
  ASSERT_NE(base, nullptr) << "a Qwen3Model checkpoint must load";
  const std::vector<int32_t> ids = {785, 6722, 315, 9625, 374};
  const auto a = last_hidden(*lm, ids), b = last_hidden(*base, ids);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
}

}  // namespace
}  // namespace sgl::engine
