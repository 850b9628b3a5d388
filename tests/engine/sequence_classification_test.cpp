// *ForSequenceClassification: the decoder with `score.weight` [num_labels, hidden] as its head. A
// classifier made from tiny-qwen3 whose score rows are rows of its (tied) LM head must give, at
// the last position, exactly the causal LM's logits of those tokens; its pooled output
// (return_row_hidden) is those logits; num_labels comes from the config.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/model_config.h"
#include "engine/safetensors.h"
#include "engine_test_util.h"

namespace sgl::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// tiny-qwen3 re-saved as Qwen3ForSequenceClassification with score.weight = the embedding rows of
// `label_ids` (the LM head, tiny-qwen3 being tied).
std::string as_classifier(const std::string& src, const std::vector<int32_t>& label_ids,
                          bool with_num_labels) {
  const std::string dir = ::testing::TempDir() + "sglcpp_qwen3_seqcls";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Json cfg = Json::parse(std::ifstream(src + "/config.json"));
  cfg["architectures"] = {"Qwen3ForSequenceClassification"};
  if (with_num_labels) {
    cfg["num_labels"] = label_ids.size();
  } else {
    cfg["id2label"] = Json::object();
    for (size_t i = 0; i < label_ids.size(); ++i)
      cfg["id2label"][std::to_string(i)] = "LABEL_" + std::to_string(i);
  }
  std::ofstream(dir + "/config.json") << cfg.dump();
  auto st = SafetensorsFile::open(src + "/model.safetensors");
  EXPECT_TRUE(st.ok());
  Json header = Json::object();
  std::string data;
  auto add = [&](const std::string& name, DType dt, std::vector<int64_t> shape, const void* p, size_t n) {
    header[name] = {{"dtype", dt == DType::kBF16 ? "BF16" : "F32"},
                    {"shape", shape},
                    {"data_offsets", {data.size(), data.size() + n}}};
    data.append(static_cast<const char*>(p), n);
  };
  for (const auto& [name, v] : (*st)->tensors()) {
    add(name, v.dtype, v.shape, v.data, static_cast<size_t>(v.numel()) * dtype_size(v.dtype));
    if (name == "model.embed_tokens.weight") {
      const int64_t h = v.shape[1];
      const size_t row = static_cast<size_t>(h) * dtype_size(v.dtype);
      std::string rows;
      for (int32_t id : label_ids) rows.append(static_cast<const char*>(v.data) + id * row, row);
      add("score.weight", v.dtype, {static_cast<int64_t>(label_ids.size()), h}, rows.data(), rows.size());
    }
  }
  const std::string h = header.dump();
  const uint64_t len = h.size();
  std::ofstream f(dir + "/model.safetensors", std::ios::binary);
  f.write(reinterpret_cast<const char*>(&len), 8);
  f << h << data;
  return dir;
}

Result<StepOutput> last_row(ModelRunner& runner, const std::vector<int32_t>& ids) {
  testing::SlotPool pool(runner.kv_num_slots(), 16);
  testing::Request req;
  StepInput in;
  in.batch.return_row_hidden = true;
  in.return_logits = true;
  testing::add_chunk(in, req, ids, pool, false);
  return runner.step(in);
}

TEST(SequenceClassification, ConfigReadsNumLabels) {
  const std::string dir = testing::model_dir("tiny-qwen3");
  if (dir.empty()) GTEST_SKIP() << "../shared not found";
  for (bool explicit_n : {true, false}) {
    auto c = load_model_config(as_classifier(dir, {1, 2, 3}, explicit_n));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->num_labels, 3);
    EXPECT_EQ(c->logits_width(), 3);
    EXPECT_EQ(c->vocab_size, 151936);  // the embedding keeps the vocabulary
  }
  auto lm = load_model_config(dir);
  ASSERT_TRUE(lm.ok());
  EXPECT_EQ(lm->num_labels, 0);
  EXPECT_EQ(lm->logits_width(), lm->vocab_size);
}

TEST(SequenceClassification, ScoreHeadLogitsAreTheCausalLmLogitsOfItsRows) {
  const std::string dir = testing::model_dir("tiny-qwen3");
  if (dir.empty()) GTEST_SKIP() << "../shared not found";
  std::ifstream gf(sgl::find_shared_dir(SGL_SOURCE_DIR) + "/golden/tiny-qwen3.golden.json");
  const auto golden = Json::parse(gf);
  auto lm = testing::make_runner(dir, "float32");
  ASSERT_NE(lm, nullptr);
  int checked = 0;
  for (const auto& c : golden["cases"]) {
    if (c["kind"] != "raw") continue;
    const auto ids = c["input_ids"].get<std::vector<int32_t>>();
    const auto labels = c["top_ids"].back().get<std::vector<int32_t>>();
    auto cls = testing::make_runner(as_classifier(dir, labels, true), "float32");
    ASSERT_NE(cls, nullptr) << "the classifier checkpoint must load";
    auto a = last_row(*lm, ids);
    auto b = last_row(*cls, ids);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(b->vocab_size, static_cast<int64_t>(labels.size()));
    ASSERT_EQ(b->logits.size(), labels.size());
    const int64_t v = a->vocab_size;
    for (size_t k = 0; k < labels.size(); ++k) {
      const float want = a->logits[static_cast<size_t>((a->rows.size() - 1) * v + labels[k])];
      EXPECT_EQ(b->logits[k], want) << c["text"] << " label " << k;
      EXPECT_NEAR(b->logits[k], c["top_logits"].back()[k].get<double>(), 0.01);
    }
    // The pooled output is the score head's logits; greedy picks the best label.
    EXPECT_EQ(b->rows.back().hidden, b->logits);
    EXPECT_EQ(b->rows.back().token, 0);  // top_ids are sorted best first
    if (++checked == 3) break;
  }
  EXPECT_EQ(checked, 3);
}

}  // namespace
}  // namespace sgl::engine
