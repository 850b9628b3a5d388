// POST /classify (SGLang's native classification route: /encode's request and answer, the
// "embedding" being the score head's logits), POST /v1/classify (its OpenAI-style route: class
// probabilities and labels) and POST /v1/rerank. Both run one greedy
// single-token request per input. A *ForSequenceClassification model returns its last-token
// score-head logits as the row's pooled output (return_hidden_states); a causal LM reranks
// Qwen3-Reranker style from the "yes"/"no" logprobs after the prompt (token_ids_logprob, as
// /v1/score).
#include <fmt/format.h>

#include <string_view>

#include "server/generation.h"
#include "server/protocol/classify_response.h"
#include "server/protocol/embedding_request.h"
#include "server/protocol/rerank_request.h"
#include "server/routes/openai_common.h"
#include "server/routes/probe_requests.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {

namespace {

bool is_classifier(const App& app) {
  constexpr std::string_view kSuffix = "ForSequenceClassification";
  const std::string& a = app.runner().info().architecture;
  return a.size() >= kSuffix.size() && a.compare(a.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

struct RowOut {
  std::vector<float> logits;                            // a classifier's score-head logits
  std::optional<double> first_logprob, second_logprob;  // token_ids_logprob entries
  std::string rid;
  int64_t prompt_tokens = 0, cached_tokens = 0;
};

// One greedy token per prompt: the classifier's logits (pooled output) or the logprobs of `label_ids`.
boost::asio::awaitable<Result<std::vector<RowOut>>> run_rows(App& app, net::Exchange& ex,
                                                             std::vector<std::vector<int32_t>> ids,
                                                             const std::vector<int32_t>& label_ids) {
  const std::function<void(GenerateItem&)> ask = [&](GenerateItem& it) {
    if (label_ids.empty()) {
      it.return_hidden_states = true;
    } else {
      it.logprob.return_logprob = true;
      it.logprob.token_ids_logprob = label_ids;
    }
  };
  auto gen = co_await run_probes(app, ex, ids, ask);
  if (!gen.ok()) co_return gen.error();
  std::vector<RowOut> out;
  for (const auto& s : (*gen)->items()) {
    RowOut r;
    r.rid = s.item.rid;
    r.prompt_tokens = s.out.prompt_tokens;
    r.cached_tokens = s.out.cached_tokens;
    if (label_ids.empty()) {
      if (!s.out.hidden_states || s.out.hidden_states->empty() || s.out.hidden_states->front().empty())
        co_return internal_error("the engine returned no classifier logits");
      r.logits = s.out.hidden_states->front();
    } else if (s.out.logprobs) {
      const auto& rows = s.out.logprobs->output_token_ids_logprobs;
      if (!rows.empty() && rows[0]) {
        const auto& e = *rows[0];
        if (e.size() > 0 && e[0].logprob) r.first_logprob = *e[0].logprob;
        if (e.size() > 1 && e[1].logprob) r.second_logprob = *e[1].logprob;
      }
    }
    out.push_back(std::move(r));
  }
  co_return out;
}

// The id of a word that must be one token ("yes", "no").
Result<int32_t> single_token(const App& app, const std::string& word) {
  SGL_ASSIGN_OR_RETURN(std::vector<int32_t> v, app.tokenizer->encode(word, /*add_special_tokens=*/false));
  if (v.size() != 1)
    return invalid_argument("yes/no reranking needs '" + word + "' to be a single token of the tokenizer");
  return v[0];
}

// The token ids of a classification request's inputs; an error unless the model classifies.
// `blank_ok` false: a blank text is refused (SGLang's /v1/classify).
Result<std::vector<std::vector<int32_t>>> classifier_inputs(const App& app, const EmbeddingRequest& req,
                                                            std::string_view route, std::string_view instead,
                                                            bool blank_ok) {
  if (!is_classifier(app))
    return invalid_argument(
        fmt::format("This model is not a sequence-classification model (*ForSequenceClassification): {} "
                    "needs one; use {} "
                    "for embeddings",
                    route, instead));
  std::vector<std::vector<int32_t>> ids;
  for (const auto& in : req.inputs) {
    if (!blank_ok && !in.is_ids && in.text.find_first_not_of(" \t\r\n") == std::string::npos)
      return invalid_argument("Input cannot be empty or whitespace only");
    SGL_ASSIGN_OR_RETURN(std::vector<int32_t> t, tokenize_prompt(app, in, /*add_special_tokens=*/true));
    ids.push_back(std::move(t));
  }
  return ids;
}

}  // namespace

RouteResult handle_classify(App& app, net::Exchange& ex) {
  auto req = parse_encode_request(ex.request().body, app.limits.vocab_size, app.runner().info().hidden_size);
  if (!req.ok()) co_return native_error(req.error());
  auto ids = classifier_inputs(app, *req, "/classify", "/encode", /*blank_ok=*/true);
  if (!ids.ok()) co_return native_error(ids.error());
  auto rows = co_await run_rows(app, ex, std::move(ids).value(), {});
  if (!rows.ok()) co_return native_error(rows.error());
  std::vector<EncodeResult> res;
  for (auto& r : *rows) res.push_back({std::move(r.logits), r.rid, r.prompt_tokens, r.cached_tokens});
  co_return net::Response::json(200, encode_response_json(res, req->batch));
}

RouteResult handle_v1_classify(App& app, net::Exchange& ex) {
  if (auto st = check_json_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req =
      parse_embedding_request(ex.request().body, app.limits.vocab_size, app.runner().info().hidden_size);
  if (!req.ok()) co_return openai_error(req.error());
  auto ids = classifier_inputs(app, *req, "/v1/classify", "/v1/embeddings", /*blank_ok=*/false);
  if (!ids.ok()) co_return openai_error(ids.error());
  auto rows = co_await run_rows(app, ex, std::move(ids).value(), {});
  if (!rows.ok()) co_return openai_error(rows.error());
  std::vector<std::vector<float>> logits;
  int64_t prompt_tokens = 0;
  for (auto& r : *rows) {
    logits.push_back(std::move(r.logits));
    prompt_tokens += r.prompt_tokens;
  }
  // SGLang answers with the served model's name, whatever the request's `model`.
  co_return net::Response::json(
      200, classify_response_json(logits, app.class_labels, app.args.served_model_name, prompt_tokens,
                                  unix_now()));
}

RouteResult handle_rerank(App& app, net::Exchange& ex) {
  if (auto st = check_json_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req = parse_rerank_request(ex.request().body);
  if (!req.ok()) co_return openai_error(req.error());
  const bool classifier = is_classifier(app);
  std::vector<std::vector<int32_t>> ids;
  std::vector<int32_t> labels;
  if (!classifier) {
    auto yes = single_token(app, "yes");
    if (!yes.ok()) co_return openai_error(yes.error());
    auto no = single_token(app, "no");
    if (!no.ok()) co_return openai_error(no.error());
    labels = {*yes, *no};
  }
  for (const auto& doc : req->documents) {
    PromptInput p;
    if (classifier) {
      // Cross-encoder input: the tokenizer's pair encoding, query then document (a Qwen/Llama
      // tokenizer adds its special tokens once, before the query).
      p.text = req->query;
      auto q = tokenize_prompt(app, p, /*add_special_tokens=*/true);
      if (!q.ok()) co_return openai_error(q.error());
      p.text = doc;
      auto d = tokenize_prompt(app, p, /*add_special_tokens=*/false);
      if (!d.ok()) co_return openai_error(d.error());
      std::vector<int32_t> v = std::move(q).value();
      v.insert(v.end(), d->begin(), d->end());
      ids.push_back(std::move(v));
    } else {
      p.text = qwen3_reranker_prompt(req->query, doc, req->instruct);
      auto t = tokenize_prompt(app, p, /*add_special_tokens=*/true);
      if (!t.ok()) co_return openai_error(t.error());
      ids.push_back(std::move(t).value());
    }
  }
  auto rows = co_await run_rows(app, ex, std::move(ids), labels);
  if (!rows.ok()) co_return openai_error(rows.error());
  std::vector<RerankResult> res;
  for (size_t i = 0; i < rows->size(); ++i) {
    const RowOut& r = (*rows)[i];
    const double score =
        classifier ? classifier_score(r.logits) : yes_no_score(r.first_logprob, r.second_logprob);
    res.push_back({score, i, r.rid, r.prompt_tokens, r.cached_tokens});
  }
  co_return net::Response::json(200, rerank_response_json(std::move(res), *req));
}

}  // namespace sgl::server
