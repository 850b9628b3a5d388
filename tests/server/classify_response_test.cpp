#include "server/protocol/classify_response.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace sgl::server {
namespace {

TEST(ClassifyResponse, SoftmaxArgmaxLabelsAndUsage) {
  // Large logits must not overflow the softmax; a class past the names is "LABEL_<i>".
  const auto j = nlohmann::json::parse(classify_response_json(
      {{1000.0f, 1000.0f + std::log(3.0f)}, {0.0f, 1.0f, 5.0f}}, {"no", "yes"}, "served", 17, 42));
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["model"], "served");
  EXPECT_EQ(j["created"], 42);
  EXPECT_EQ(j["id"].get<std::string>().rfind("classify-", 0), 0u);
  const auto& a = j["data"][0];
  EXPECT_EQ(a["label"], "yes");
  EXPECT_EQ(a["num_classes"], 2);
  EXPECT_NEAR(a["probs"][0].get<double>(), 0.25, 1e-4);  // float logits near 1000: 6e-5 apart
  EXPECT_NEAR(a["probs"][1].get<double>(), 0.75, 1e-4);
  EXPECT_EQ(j["data"][1]["label"], "LABEL_2");
  EXPECT_EQ(j["data"][1]["index"], 1);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 17);
  EXPECT_EQ(j["usage"]["total_tokens"], 17);
  EXPECT_EQ(j["usage"]["completion_tokens"], 0);
  EXPECT_TRUE(j["usage"]["prompt_tokens_details"].is_null());
}

}  // namespace
}  // namespace sgl::server
