// POST /v1/completions: OpenAI text completions (stream: incremental text deltas per choice).
#include "server/protocol/openai_request.h"
#include "server/routes/openai_common.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {

RouteResult handle_completions(App& app, net::Exchange& ex) {
  if (auto st = check_json_content_type(ex.request()); !st.ok()) co_return openai_error(st.error());
  auto req = parse_completion_request(ex.request().body, app.limits);
  if (!req.ok()) co_return openai_error(req.error());
  apply_model_adapter(app, req->model, req->items);
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::string> prompt_texts;
  for (const auto& p : req->prompts) {
    auto t = tokenize_prompt(app, p, true);
    if (!t.ok()) co_return openai_error(t.error());
    prompt_texts.push_back(p.is_ids ? app.tokenizer->decode(p.ids) : p.text);
    ids.push_back(std::move(t).value());
  }
  auto gen = std::make_shared<Generation>(app);
  if (auto st = gen->submit(req->items, ids); !st.ok()) co_return openai_error(st.error());
  LogNoteOnExit log_note(ex, gen);
  std::weak_ptr<Generation> weak = gen;
  ex.on_disconnect([weak] {
    if (auto g = weak.lock()) g->abort_all();
  });
  const bool want_logprobs = req->logprobs.has_value();
  if (!req->stream) {
    while (co_await gen->next()) {
    }
    auto& items = gen->items();
    ResponseHead head{items[0].item.rid, unix_now(), req->model};
    std::vector<CompletionChoice> choices;
    for (size_t i = 0; i < items.size(); ++i) {
      CompletionChoice c;
      c.index = i;
      c.text = (req->echo ? prompt_texts[items[i].item.prompt_index] : std::string()) + items[i].out.text;
      c.finish = items[i].out.finish;
      if (want_logprobs) c.logprobs = completion_logprobs(app, items[i], 0, items[i].out.output_ids.size());
      c.routed_experts = items[i].out.routed_experts;
      choices.push_back(std::move(c));
    }
    co_return net::Response::json(200, completion_response_json(head, choices, usage_of(app, items)));
  }
  ResponseHead head{gen->items()[0].item.rid, unix_now(), req->model};
  while (co_await gen->next()) {
    auto& items = gen->items();
    for (size_t i = 0; i < items.size(); ++i) {
      auto& s = items[i];
      if (!s.changed) continue;
      CompletionChoice c;
      c.index = i;
      if (req->echo && s.sent_text == 0 && s.sent_ids == 0) c.text = prompt_texts[s.item.prompt_index];
      c.text += s.out.text.substr(std::min(s.sent_text, s.out.text.size()));
      c.finish = s.out.finish;
      if (want_logprobs) c.logprobs = completion_logprobs(app, s, s.sent_ids, s.out.output_ids.size());
      s.sent_text = s.out.text.size();
      s.sent_ids = s.out.output_ids.size();
      if (c.text.empty() && !c.finish.finished() && !want_logprobs) continue;
      std::optional<Usage> usage;
      if (req->stream_options.continuous_usage_stats) usage = usage_of(app, items);
      if (!(co_await ex.write_event(completion_chunk_json(head, c, usage))).ok()) {
        gen->abort_all();
        co_return net::Response{};
      }
    }
  }
  if (req->stream_options.include_usage)
    co_await ex.write_event(usage_chunk_json(head, "text_completion", usage_of(app, gen->items())));
  co_await ex.finish();
  co_return net::Response{};
}

}  // namespace sgl::server
