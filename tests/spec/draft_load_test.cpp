// A draft head that does not fit the target is refused at load with a message naming the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "spec_test_util.h"

namespace sgl::sched::spec {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A copy of the draft directory in a temp folder, with its config edited and a tensor dropped.
std::string broken_draft(const std::string& name, const std::function<void(nlohmann::json&)>& edit_config,
                         const std::string& drop_tensor) {
  const std::string src = testing::shared_dir() + "/models/tiny-qwen3-eagle3";
  const std::string dir = (fs::temp_directory_path() / ("sglcpp-spec-" + name)).string();
  fs::create_directories(dir);
  auto cfg = nlohmann::json::parse(read_file(src + "/config.json"));
  edit_config(cfg);
  std::ofstream(dir + "/config.json") << cfg.dump(2);
  const std::string st = read_file(src + "/model.safetensors");
  uint64_t hl = 0;
  std::memcpy(&hl, st.data(), 8);
  auto header = nlohmann::json::parse(st.substr(8, hl));
  const std::string data = st.substr(8 + hl);
  nlohmann::json out_header;
  std::string out_data;
  for (auto& [k, v] : header.items()) {
    if (k == "__metadata__" || k == drop_tensor) continue;
    const auto b = v["data_offsets"][0].get<uint64_t>(), e = v["data_offsets"][1].get<uint64_t>();
    nlohmann::json nv = v;
    nv["data_offsets"] = {out_data.size(), out_data.size() + (e - b)};
    out_data += data.substr(b, e - b);
    out_header[k] = nv;
  }
  const std::string hs = out_header.dump();
  const uint64_t n = hs.size();
  std::ofstream f(dir + "/model.safetensors", std::ios::binary);
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << hs << out_data;
  return dir;
}

struct Target {
  std::unique_ptr<engine::ModelRunner> runner;
  std::string dir;
};

Target target() {
  Target t;
  t.dir = testing::shared_dir() + "/models/tiny-qwen3";
  engine::EngineConfig ec;
  ec.model_path = t.dir;
  auto r = engine::create_model_runner(ec);
  if (r.ok()) t.runner = std::move(r).value();
  return t;
}

TEST(DraftLoad, TheTrainedHeadLoads) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  auto t = target();
  ASSERT_TRUE(t.runner);
  auto d = engine::spec::Eagle3Draft::load(testing::shared_dir() + "/models/tiny-qwen3-eagle3", t.dir,
                                           t.runner->info(), engine::DType::kBF16);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ((*d)->draft_vocab_size(), 4096);
  // eagle_aux_hidden_state_layer_ids [0, 1, 2] = the outputs of target layers 0, 1, 2.
  EXPECT_EQ((*d)->config().capture_layers, (std::vector<int>{0, 1, 2}));
  for (int32_t i : {0, 1, 4095}) {
    EXPECT_GE((*d)->to_target_id(i), 0);
    EXPECT_LT((*d)->to_target_id(i), t.runner->info().vocab_size);
  }
}

TEST(DraftLoad, DefaultAuxLayersFollowSGLang) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  const std::string dir = broken_draft(
      "noids", [](nlohmann::json& c) { c.erase("eagle_config"); }, "");
  auto c = engine::spec::load_eagle3_config(dir, 36);
  ASSERT_TRUE(c.ok()) << c.error().message;
  // SGLang captures the inputs of layers 2, N/2, N-3: the outputs of 1, 17, 32 for N = 36.
  EXPECT_EQ(c->capture_layers, (std::vector<int>{1, 17, 32}));
  fs::remove_all(dir);
}

TEST(DraftLoad, WrongHiddenSizeIsRejected) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  auto t = target();
  ASSERT_TRUE(t.runner);
  const std::string dir = broken_draft(
      "hidden", [](nlohmann::json& c) { c["hidden_size"] = 256, c["target_hidden_size"] = 256; }, "");
  auto d = engine::spec::Eagle3Draft::load(dir, t.dir, t.runner->info(), engine::DType::kBF16);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("hidden size 256"), std::string::npos) << d.error().message;
  fs::remove_all(dir);
}

TEST(DraftLoad, MissingTensorIsRejected) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  auto t = target();
  ASSERT_TRUE(t.runner);
  for (const std::string tensor : {"fc.weight", "midlayer.hidden_norm.weight", "d2t"}) {
    const std::string dir = broken_draft(
        "missing", [](nlohmann::json&) {}, tensor);
    auto d = engine::spec::Eagle3Draft::load(dir, t.dir, t.runner->info(), engine::DType::kBF16);
    ASSERT_FALSE(d.ok()) << tensor;
    EXPECT_NE(d.error().message.find("missing tensor '" + tensor + "'"), std::string::npos)
        << d.error().message;
    fs::remove_all(dir);
  }
}

TEST(DraftLoad, VocabularyMismatchIsRejected) {
  if (testing::shared_dir().empty())
    GTEST_SKIP() << "../shared not found: tiny models are not available here";
  auto t = target();
  ASSERT_TRUE(t.runner);
  const std::string dir = broken_draft(
      "vocab", [](nlohmann::json& c) { c["vocab_size"] = 32000; }, "");
  auto d = engine::spec::Eagle3Draft::load(dir, t.dir, t.runner->info(), engine::DType::kBF16);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("vocab_size 32000"), std::string::npos) << d.error().message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sgl::sched::spec
