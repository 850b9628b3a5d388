#include "server/routes/probe_requests.h"

#include "server/protocol/request_id.h"

namespace sgl::server {

boost::asio::awaitable<Result<std::shared_ptr<Generation>>> run_probes(
    App& app, net::Exchange& ex, const std::vector<std::vector<int32_t>>& prompt_ids,
    const std::function<void(GenerateItem&)>& configure) {
  std::vector<GenerateItem> items;
  for (size_t i = 0; i < prompt_ids.size(); ++i) {
    GenerateItem it;
    it.prompt_index = i;
    it.rid = new_request_id();
    it.sampling.max_new_tokens = 1;
    it.sampling.temperature = 0.0;  // greedy: logprobs are the raw log-softmax
    configure(it);
    items.push_back(std::move(it));
  }
  auto gen = std::make_shared<Generation>(app);
  if (auto st = gen->submit(std::move(items), prompt_ids); !st.ok()) co_return st.error();
  LogNoteOnExit log_note(ex, gen);
  std::weak_ptr<Generation> weak = gen;
  ex.on_disconnect([weak] {
    if (auto g = weak.lock()) g->abort_all();
  });
  while (co_await gen->next()) {
  }
  for (const auto& s : gen->items())
    if (s.out.finish.type == FinishReason::Type::kAbort)
      co_return internal_error("request aborted: " + s.out.finish.message);
  co_return gen;
}

}  // namespace sgl::server
