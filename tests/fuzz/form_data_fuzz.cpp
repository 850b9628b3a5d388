// /generate_from_file's upload: a Content-Type header and a multipart/form-data body → the `file`
// field, then its JSON as input_embeds. A field found must be a range of the body's bytes;
// every refusal is a client error; accepted embeddings are whole rows of finite floats.
//
// Input: [Content-Type value]\n[body].
#include <simdjson.h>

#include <cmath>

#include "request_checks.h"
#include "server/protocol/form_data.h"
#include "server/protocol/input_embeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string_view content_type = in.substr(0, nl), body = in.substr(nl + 1);
  auto file = sgl::server::form_data_field(content_type, body, "file");
  if (!file.ok()) {
    sgl::fuzz::check_client_error(file.error());
    return 0;
  }
  FUZZ_CHECK(file->data() >= body.data() && file->data() + file->size() <= body.data() + body.size(),
             "a field outside the body");
  simdjson::dom::parser parser;
  auto root = sgl::server::json::parse_body(parser, *file);
  if (!root.ok()) return 0;
  constexpr int64_t kHidden = 3, kMaxRows = 64;
  auto embeds = sgl::server::read_input_embeds(*root, kHidden, kMaxRows);
  if (!embeds.ok()) {
    sgl::fuzz::check_client_error(embeds.error());
    return 0;
  }
  FUZZ_CHECK(!embeds->prompts.empty(), "no prompt");
  for (const auto& p : embeds->prompts) {
    FUZZ_CHECK(p && !p->empty() && p->size() % kHidden == 0, "rows that are not whole");
    FUZZ_CHECK(static_cast<int64_t>(p->size()) <= kHidden * kMaxRows, "more rows than the bound");
    for (float v : *p) FUZZ_CHECK(std::isfinite(v), "a non-finite value");
  }
  return 0;
}
