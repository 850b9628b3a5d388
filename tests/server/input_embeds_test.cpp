// input_embeds on /generate (SGLang's shapes: one prompt [seq][hidden] or a batch), its checks,
// and the multipart/form-data field reader behind /generate_from_file.
#include <gtest/gtest.h>

#include "server/protocol/api_error.h"
#include "server/protocol/form_data.h"
#include "server/protocol/generate_request.h"

namespace sgl::server {
namespace {

RequestLimits limits() { return {.context_length = 8, .vocab_size = 1000, .hidden_size = 3}; }

TEST(InputEmbedsParse, OnePromptGetsPlaceholderIdsAndItsRows) {
  auto r = parse_generate_request(R"({"input_embeds":[[1,2,3],[0.5,-1,2e-3]],"sampling_params":{"n":2}})",
                                  limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->prompts.size(), 1u);
  EXPECT_TRUE(r->prompts[0].is_ids);
  EXPECT_EQ(r->prompts[0].ids, (std::vector<int32_t>{kInputEmbedsPlaceholderId, kInputEmbedsPlaceholderId}));
  ASSERT_TRUE(r->prompts[0].embeds);
  EXPECT_EQ(*r->prompts[0].embeds, (std::vector<float>{1, 2, 3, 0.5f, -1, 2e-3f}));
  ASSERT_EQ(r->items.size(), 2u);  // n = 2: both samples carry the rows
  EXPECT_EQ(r->items[1].input_embeds, r->prompts[0].embeds);
  EXPECT_TRUE(r->list_response);
}

TEST(InputEmbedsParse, ABatchIsToldByItsThirdLevel) {
  auto r = parse_generate_request(R"({"input_embeds":[[[1,2,3]],[[4,5,6],[7,8,9]]]})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->prompts.size(), 2u);
  EXPECT_EQ(r->prompts[1].ids.size(), 2u);
  EXPECT_EQ(r->prompts[1].embeds->back(), 9.0f);
  EXPECT_TRUE(r->list_response);
  EXPECT_EQ(r->items[1].input_embeds, r->prompts[1].embeds);
}

TEST(InputEmbedsParse, TextOrIdsWinAsInSglang) {
  auto r = parse_generate_request(R"({"input_ids":[4,5],"input_embeds":[[1,2,3]]})", limits());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->prompts[0].ids, (std::vector<int32_t>{4, 5}));
  EXPECT_FALSE(r->prompts[0].embeds);
  EXPECT_FALSE(r->items[0].input_embeds);
}

TEST(InputEmbedsParse, BadShapesAndValuesAreRefusedNamingThePlace) {
  auto refused = [](const char* body, const char* needle, RequestLimits l = limits()) {
    auto r = parse_generate_request(body, l);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(http_status_of(r.error()), 400);
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << body << ": " << r.error().message;
  };
  refused(R"({"input_embeds":[[1,2]]})", "hidden size is 3");
  refused(R"({"input_embeds":[[[1,2,3]],[[1,2]]]})", "input_embeds.1.0");
  refused(R"({"input_embeds":[]})", "cannot be empty");
  refused(R"({"input_embeds":[[]]})", "hidden size is 3");
  refused(R"({"input_embeds":[[1,"2",3]]})", "input_embeds.0");
  refused(R"({"input_embeds":[[1,2,1e39]]})", "not a finite float32");
  refused(R"({"input_embeds":"abc"})", "input_embeds");
  refused(R"({"input_embeds":[[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3]]})",
          "longer than the model's context length");
  RequestLimits no_width = limits();
  no_width.hidden_size = 0;
  refused(R"({"input_embeds":[[1,2,3]]})", "not supported", no_width);
  refused(R"({"input_embeds":[[1,2,3]],"session_params":{"id":"s"}})", "session");
}

TEST(FormData, APreambleAndPartsWithoutHeadersAreSkipped) {
  const std::string body =
      "preamble text\r\n--b\r\n\r\nno headers\r\n--b  \r\nContent-Disposition: form-data; "
      "name=file\r\n\r\n\r\n--b--";
  auto f = form_data_field("multipart/form-data;boundary=b", body, "file");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(*f, "");  // an empty upload
}

TEST(FormData, TheNamedFieldOfAMultipartBody) {
  const std::string body =
      "--b0undary\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.json\"\r\n"
      "Content-Type: application/json\r\n\r\n[[1, 2, 3]]\r\n--b0undary--\r\n";
  auto f = form_data_field("multipart/form-data; boundary=b0undary", body, "file");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(*f, "[[1, 2, 3]]");
  auto quoted = form_data_field("Multipart/Form-Data; boundary=\"b0undary\"", body, "note");
  ASSERT_TRUE(quoted.ok()) << quoted.error().message;
  EXPECT_EQ(*quoted, "hello");
}

TEST(FormData, WhatIsMissingIsNamed) {
  const std::string body = "--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n";
  auto missing = form_data_field("multipart/form-data; boundary=b", body, "file");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("'file'"), std::string::npos);
  auto json_body = form_data_field("application/json", "[[1,2,3]]", "file");
  ASSERT_FALSE(json_body.ok());
  EXPECT_NE(json_body.error().message.find("multipart/form-data"), std::string::npos);
  auto no_boundary = form_data_field("multipart/form-data", body, "file");
  ASSERT_FALSE(no_boundary.ok());
  EXPECT_NE(no_boundary.error().message.find("boundary"), std::string::npos);
  EXPECT_FALSE(form_data_field("multipart/form-data; boundary=" + std::string(71, 'b'), body, "file").ok());
  // A part that never ends, a delimiter line with trailing garbage.
  EXPECT_FALSE(form_data_field("multipart/form-data; boundary=b",
                               "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx", "file")
                   .ok());
  EXPECT_FALSE(form_data_field("multipart/form-data; boundary=b", "--bxyz\r\n\r\nx\r\n--b--", "file").ok());
  EXPECT_FALSE(form_data_field("multipart/form-data; boundary=b", "garbage with no parts", "file").ok());
}

}  // namespace
}  // namespace sgl::server
