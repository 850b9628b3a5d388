// GET /v1/models/{id} decodes the id as Starlette does (urllib.parse.unquote): the OpenAI SDKs
// percent-encode a served name such as a model path.
#include "server/protocol/percent_decode.h"

#include <gtest/gtest.h>

namespace sgl::server {
namespace {

TEST(PercentDecode, DecodesEscapesOfEitherCase) {
  EXPECT_EQ(percent_decode("%2Fwork%2fshared%2Fmodels%2Ftiny-qwen3"), "/work/shared/models/tiny-qwen3");
  EXPECT_EQ(percent_decode("Qwen%2FQwen3-8B"), "Qwen/Qwen3-8B");
  EXPECT_EQ(percent_decode("a%20b+c"), "a b+c");  // '+' is literal in a path
  EXPECT_EQ(percent_decode("caf%C3%A9"), "caf\xc3\xa9");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_EQ(percent_decode(""), "");
}

TEST(PercentDecode, InvalidEscapesStayLiteral) {
  EXPECT_EQ(percent_decode("%"), "%");
  EXPECT_EQ(percent_decode("%2"), "%2");
  EXPECT_EQ(percent_decode("a%zzb"), "a%zzb");
  EXPECT_EQ(percent_decode("%%41"), "%A");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
}

}  // namespace
}  // namespace sgl::server
