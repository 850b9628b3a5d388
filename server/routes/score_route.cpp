// POST /v1/score: SGLang's decoder-only scoring. Each query + item prompt runs as one greedy
// request of a single token asking for the label tokens' logprobs (token_ids_logprob); the row
// that samples the first output is the model's distribution right after the prompt, which is
// what SGLang reads from output_token_ids_logprobs[0].
#include "server/generation.h"
#include "server/protocol/score_request.h"
#include "server/routes/openai_common.h"
#include "server/routes/probe_requests.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {

RouteResult handle_score(App& app, net::Exchange& ex) {
  if (auto st = check_json_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req = parse_score_request(ex.request().body, app.limits.vocab_size);
  if (!req.ok()) co_return openai_error(req.error());
  const std::string model = req->model.empty() ? app.args.served_model_name : req->model;
  if (req->num_items() == 0) co_return net::Response::json(200, score_response_json({}, model, 0));
  std::vector<std::vector<int32_t>> ids;
  for (size_t i = 0; i < req->num_items(); ++i) {
    PromptInput p;
    p.is_ids = req->is_ids;
    if (p.is_ids) {
      p.ids = req->prompt_ids(i);
    } else {
      p.text = req->prompt_text(i);
    }
    auto t = tokenize_prompt(app, p, /*add_special_tokens=*/true);  // as /generate's text
    if (!t.ok()) co_return openai_error(t.error());
    ids.push_back(std::move(t).value());
  }
  // Named, not a temporary inside the co_await: g++ 12 destroys such temporaries twice.
  const std::function<void(GenerateItem&)> ask_labels = [&](GenerateItem& it) {
    it.logprob.return_logprob = true;
    it.logprob.token_ids_logprob = req->label_token_ids;
  };
  auto gen = co_await run_probes(app, ex, ids, ask_labels);
  if (!gen.ok()) co_return openai_error(gen.error());
  std::vector<std::vector<double>> scores;
  int64_t prompt_tokens = 0;
  for (const auto& s : (*gen)->items()) {
    prompt_tokens += s.out.prompt_tokens;
    std::vector<std::optional<double>> lp(req->label_token_ids.size());
    const auto& rows = s.out.logprobs->output_token_ids_logprobs;
    if (!rows.empty() && rows[0]) {
      // Entries follow token_ids_logprob's order; a label asked twice appears twice.
      for (size_t k = 0; k < rows[0]->size() && k < lp.size(); ++k)
        if ((*rows[0])[k].logprob) lp[k] = *(*rows[0])[k].logprob;
    }
    scores.push_back(label_scores(lp, req->apply_softmax));
  }
  co_return net::Response::json(200, score_response_json(scores, model, prompt_tokens));
}

}  // namespace sgl::server
