// One HTTP request's outputs in flight: submits each item to the scheduler, drains its chunks
// when the scheduler signals, detokenizes incrementally, applies stop-string trimming, and keeps
// what the writers need (text, ids, logprobs, finish, token counts, timings).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/async_notifier.h"
#include "net/exchange.h"
#include "sched/request.h"
#include "server/app.h"
#include "server/protocol/generate_request.h"
#include "server/protocol/generate_response.h"
#include "server/protocol/output_types.h"

namespace sgl::server {

struct ItemState {
  GenerateItem item;
  std::vector<int32_t> prompt_ids;
  std::shared_ptr<const engine::TokenConstraintFactory> constraint;  // structured output
  // The item's LoRA adapter (null: the base). Shared with the scheduler's notify callback, so the
  // adapter counts as in use until both this item and the scheduler's copy of the request are gone.
  std::shared_ptr<const LoraHandle> lora;
  int64_t max_new_tokens = 0;
  std::shared_ptr<sched::RequestStream> stream;
  std::vector<sched::OutputChunk> held;  // drained from `stream`, not absorbed yet (next())
  std::unique_ptr<text::StreamingDetokenizer> detok;
  GenerateOutput out;                // cumulative text/ids/logprobs/finish
  size_t sent_text = 0;              // bytes of out.text already streamed as deltas (OpenAI)
  size_t sent_ids = 0;               // output ids already streamed (logprob deltas)
  size_t new_ids = 0;                // ids added by the last update
  size_t emitted_ids = 0;            // output ids when `changed` was last set (stream_interval)
  int32_t think_end_id = -1;         // </think>'s id while reasoning tokens are still counted
  bool changed = false;              // worth an event now: first token, stream_interval more, or finished
  GenerateEventWriter event_writer;  // /generate's cumulative stream events
  std::chrono::steady_clock::time_point start, last_token;
};

class Generation {
 public:
  Generation(App& app);
  ~Generation();  // aborts whatever is still running

  // Tokenized prompt per item; checks the context length and submits. Errors refuse the request.
  Status submit(std::vector<GenerateItem> items, const std::vector<std::vector<int32_t>>& prompt_ids);

  // Waits until some item has output worth an event (see ItemState::changed); false once every
  // item is finished and drained.
  boost::asio::awaitable<bool> next();
  std::vector<ItemState>& items() { return items_; }
  const std::vector<ItemState>& items() const { return items_; }
  App& app() const { return app_; }
  bool all_finished() const;
  void abort_all();  // client gone: abort at the scheduler
  // "rid=… prompt_tokens=… completion_tokens=… cached_tokens=…" for the request's log line.
  std::string log_summary() const;

 private:
  void absorb(ItemState& s, sched::OutputChunk& chunk);
  bool due(const ItemState& s) const;

  App& app_;
  std::shared_ptr<net::AsyncNotifier> notifier_;
  std::vector<ItemState> items_;
};

// Puts the generation's token counts on the request's log line when the route returns, on every
// path out of it (finished, client gone, error event). With --log-requests and
// --log-requests-format json it also writes SGLang's request.received line when made (after a
// successful submit) and request.finished when the route returns.
class LogNoteOnExit {
 public:
  LogNoteOnExit(net::Exchange& ex, std::shared_ptr<const Generation> gen);
  ~LogNoteOnExit();
  LogNoteOnExit(const LogNoteOnExit&) = delete;
  LogNoteOnExit& operator=(const LogNoteOnExit&) = delete;

 private:
  net::Exchange& ex_;
  std::shared_ptr<const Generation> gen_;
  bool json_ = false;  // --log-requests with the json format, as it was when the request came
  int level_ = 0;
  uint64_t crash_ticket_ = 0;  // --crash-dump-folder's record of this request (0: not recording)
};

// Prompt tokens of a PromptInput (text is encoded with the tokenizer's special-token rules).
Result<std::vector<int32_t>> tokenize_prompt(const App& app, const PromptInput& p, bool add_special_tokens);

}  // namespace sgl::server
