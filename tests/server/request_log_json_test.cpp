// --log-requests-format json: the request.received / request.finished lines and what each
// --log-requests-level keeps of the request and its output.
#include "server/protocol/request_log_json.h"

#include <gtest/gtest.h>

#include <string>

namespace sgl::server {
namespace {
using ojson = nlohmann::ordered_json;

const std::string kBody =
    R"({"rid":"r1","text":"secret prompt","sampling_params":{"max_new_tokens":8,"temperature":0},"stream":false})";

TEST(RequestLogJson, LevelsDropInputAndSamplingAsSGLang) {
  EXPECT_EQ(request_log_obj(kBody, 0), ojson::parse(R"({"rid":"r1","stream":false})"));
  EXPECT_EQ(
      request_log_obj(kBody, 1),
      ojson::parse(R"({"rid":"r1","sampling_params":{"max_new_tokens":8,"temperature":0},"stream":false})"));
  EXPECT_EQ(request_log_obj(kBody, 2), ojson::parse(kBody));
  EXPECT_EQ(request_log_obj(kBody, 3), ojson::parse(kBody));
  // OpenAI bodies: messages and the sampling fields go the same way.
  const std::string chat = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5})";
  EXPECT_EQ(request_log_obj(chat, 0), ojson::parse(R"({"model":"m"})"));
  EXPECT_EQ(request_log_obj(chat, 1), ojson::parse(R"({"model":"m","temperature":0.5})"));
  EXPECT_EQ(request_log_obj("not json", 1), ojson::parse(R"({"bytes":8})"));
}

TEST(RequestLogJson, LevelTwoCutsLongStringsAndListsToTheirEnds) {
  std::string text(5000, 'a');
  text.replace(0, 3, "BEG");
  text.replace(text.size() - 3, 3, "END");
  ojson ids = ojson::array();
  for (int i = 0; i < 3000; ++i) ids.push_back(i);
  ojson body = {{"text", text}, {"input_ids", ids}};
  const ojson got = request_log_obj(body.dump(), 2);
  const std::string cut = got["text"];
  EXPECT_EQ(cut.size(), 1024u + 3 + 1024u);
  EXPECT_EQ(cut.substr(0, 3), "BEG");
  EXPECT_EQ(cut.substr(1024, 3), "...");
  EXPECT_EQ(cut.substr(cut.size() - 3), "END");
  ASSERT_EQ(got["input_ids"].size(), 1024u + 1 + 1024u);
  EXPECT_EQ(got["input_ids"][1023], 1023);
  EXPECT_EQ(got["input_ids"][1024], "...");
  EXPECT_EQ(got["input_ids"][1025], 3000 - 1024);
  EXPECT_EQ(request_log_obj(body.dump(), 3), body);  // level 3: everything
}

TEST(RequestLogJson, OutputKeepsMetaInfoBelowLevelTwo) {
  const ojson out =
      ojson::parse(R"({"text":"hello","output_ids":[1,2],"meta_info":{"id":"r1","e2e_latency":0.5}})");
  EXPECT_EQ(request_log_out(out, 0), ojson::parse(R"({"meta_info":{"id":"r1","e2e_latency":0.5}})"));
  EXPECT_EQ(request_log_out(out, 1), ojson::parse(R"({"meta_info":{"id":"r1","e2e_latency":0.5}})"));
  EXPECT_EQ(request_log_out(out, 2), out);
}

TEST(RequestLogJson, LineHasTimestampEventRidObjAndOut) {
  const auto t = std::chrono::system_clock::from_time_t(1700000000) + std::chrono::microseconds(123456);
  const ojson line =
      ojson::parse(request_log_line(t, "request.finished", "r1", ojson{{"a", 1}}, ojson{{"b", 2}}));
  std::vector<std::string> keys;
  for (auto& [k, v] : line.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"timestamp", "event", "rid", "obj", "out"}));
  EXPECT_EQ(line["event"], "request.finished");
  EXPECT_EQ(line["rid"], "r1");
  const std::string ts = line["timestamp"];
  ASSERT_EQ(ts.size(), 26u) << ts;  // 2023-11-14T22:13:20.123456 in local time
  EXPECT_EQ(ts.substr(19), ".123456");
  EXPECT_EQ(ts[10], 'T');
  const ojson received = ojson::parse(request_log_line(t, "request.received", "r1", ojson{{"a", 1}}));
  EXPECT_FALSE(received.contains("out"));
}

}  // namespace
}  // namespace sgl::server
