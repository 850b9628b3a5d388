// POST /v1/embeddings and /encode: each input runs as one greedy single-token request with
// return_hidden_states; the state behind its first token is the final hidden state (after the
// final norm) at the prompt's last position — SGLang's last-token pooling — then cut to
// `dimensions` and L2-normalised.
#include "server/generation.h"
#include "server/protocol/embedding_request.h"
#include "server/routes/openai_common.h"
#include "server/routes/probe_requests.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {

namespace {

boost::asio::awaitable<Result<std::vector<EncodeResult>>> embed(App& app, net::Exchange& ex,
                                                                const EmbeddingRequest& req) {
  std::vector<std::vector<int32_t>> ids;
  for (const auto& input : req.inputs) {
    auto t = tokenize_prompt(app, input, /*add_special_tokens=*/true);
    if (!t.ok()) co_return std::move(t).take_error();
    ids.push_back(std::move(t).value());
  }
  const std::function<void(GenerateItem&)> ask_hidden = [](GenerateItem& it) {
    it.return_hidden_states = true;
  };
  auto gen = co_await run_probes(app, ex, ids, ask_hidden);
  if (!gen.ok()) co_return gen.error();
  std::vector<EncodeResult> out;
  for (const auto& s : (*gen)->items()) {
    if (!s.out.hidden_states || s.out.hidden_states->empty() || s.out.hidden_states->front().empty())
      co_return internal_error("the engine returned no hidden state for the embedding");
    out.push_back({pool_embedding(s.out.hidden_states->front(), req.dimensions), s.item.rid,
                   s.out.prompt_tokens, s.out.cached_tokens});
  }
  co_return out;
}

}  // namespace

RouteResult handle_embeddings(App& app, net::Exchange& ex) {
  if (auto st = check_json_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req =
      parse_embedding_request(ex.request().body, app.limits.vocab_size, app.runner().info().hidden_size);
  if (!req.ok()) co_return openai_error(req.error());
  auto res = co_await embed(app, ex, *req);
  if (!res.ok()) co_return openai_error(res.error());
  std::vector<std::vector<float>> embs;
  int64_t prompt_tokens = 0;
  for (auto& r : *res) {
    prompt_tokens += r.prompt_tokens;
    embs.push_back(std::move(r.embedding));
  }
  const std::string model = req->model.empty() ? app.args.served_model_name : req->model;
  co_return net::Response::json(200, embeddings_response_json(embs, req->base64, model, prompt_tokens));
}

RouteResult handle_encode(App& app, net::Exchange& ex) {
  auto req = parse_encode_request(ex.request().body, app.limits.vocab_size, app.runner().info().hidden_size);
  if (!req.ok()) co_return native_error(req.error());
  auto res = co_await embed(app, ex, *req);
  if (!res.ok()) co_return native_error(res.error());
  co_return net::Response::json(200, encode_response_json(*res, req->batch));
}

}  // namespace sgl::server
