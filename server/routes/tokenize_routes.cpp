// /tokenize, /detokenize and their /v1/ aliases: the server's own tokenizer, for clients that
// count or build prompts in ids (RL rollouts) and must agree with the server token for token.
// SGLang serves them through its OpenAI serving classes, so errors take the flat OpenAI shape.
#include "server/protocol/tokenize_request.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

// SGLang checks the media type on the /v1/ registration only.
Status check_content_type(const net::Request& req) {
  return req.path.starts_with("/v1/") ? check_json_content_type(req) : ok_status();
}

}  // namespace

RouteResult handle_tokenize(App& app, net::Exchange& ex) {
  if (auto st = check_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req = parse_tokenize_request(ex.request().body);
  if (!req.ok()) co_return openai_error(req.error());
  std::vector<std::vector<int32_t>> ids;
  for (const auto& prompt : req->prompts) {
    auto one = app.tokenizer->encode(prompt, req->add_special_tokens);
    if (!one.ok()) co_return openai_error(invalid_argument(one.error().message));
    ids.push_back(std::move(one).value());
  }
  co_return net::Response::json(200, tokenize_response_json(ids, req->batch, app.limits.context_length));
}

RouteResult handle_detokenize(App& app, net::Exchange& ex) {
  if (auto st = check_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req = parse_detokenize_request(ex.request().body);
  if (!req.ok()) co_return openai_error(req.error());
  if (auto st = check_token_ids(*req, app.tokenizer->vocab_size()); !st.ok())
    co_return openai_error(st.error());
  text::DecodeOptions opt;
  opt.skip_special_tokens = req->skip_special_tokens;
  std::vector<std::string> texts;
  for (const auto& seq : req->tokens) {
    std::vector<int32_t> ids(seq.begin(), seq.end());
    texts.push_back(app.tokenizer->decode(ids, opt));
  }
  co_return net::Response::json(200, detokenize_response_json(texts, req->batch));
}

}  // namespace sgl::server
