#include "server/generation.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/protocol/base64.h"
#include "server/protocol/generate_response.h"
#include "server/protocol/request_log_json.h"

namespace sgl::server {
namespace {

// Stop strings are checked on the decoded tail: a stop string of L bytes spans at most L tokens.
class TailStopChecker : public sched::StopStringChecker {
 public:
  TailStopChecker(std::shared_ptr<const text::Tokenizer> tok, std::vector<std::string> stops,
                  bool skip_special)
      : tok_(std::move(tok)), stops_(std::move(stops)) {
    for (auto& s : stops_) max_len_ = std::max(max_len_, s.size());
    opt_.skip_special_tokens = skip_special;
  }
  std::optional<std::string> check(const std::vector<int32_t>& ids, size_t num_new) override {
    size_t window = std::min(ids.size(), num_new + max_len_ + 1);
    std::span<const int32_t> tail(ids.data() + ids.size() - window, window);
    std::string text = tok_->decode(tail, opt_);
    for (const auto& s : stops_)
      if (text.find(s) != std::string::npos) return s;
    return std::nullopt;
  }

 private:
  std::shared_ptr<const text::Tokenizer> tok_;
  std::vector<std::string> stops_;
  size_t max_len_ = 0;
  text::DecodeOptions opt_;
};

FinishReason to_finish(const sched::FinishReason& f) {
  FinishReason r;
  switch (f.type) {
    case sched::FinishReason::Type::kLength:
      r.type = FinishReason::Type::kLength;
      r.length = f.length;
      break;
    case sched::FinishReason::Type::kAbort:
      r.type = FinishReason::Type::kAbort;
      r.message = f.message;
      break;
    case sched::FinishReason::Type::kStop:
      if (f.matched_string) {
        r.type = FinishReason::Type::kStopString;
        r.matched_str = *f.matched_string;
      } else {
        r.type = FinishReason::Type::kStopToken;
        r.matched_token = f.matched_token.value_or(0);
      }
      break;
  }
  return r;
}

TokenLogprob to_triple(const App& app, int32_t token, std::optional<float> lp, bool with_text) {
  TokenLogprob t;
  t.logprob = lp;
  t.token_id = token;
  if (with_text)
    t.text = app.tokenizer->decode(std::span<const int32_t>(&token, 1), {.skip_special_tokens = false});
  return t;
}

std::vector<TokenLogprob> to_top(const App& app, const std::vector<engine::TokenLogprob>& v, bool with_text) {
  std::vector<TokenLogprob> out;
  for (const auto& e : v) out.push_back(to_triple(app, e.token, e.logprob, with_text));
  return out;
}

sched::GenerateRequest to_sched(const App& app, const ItemState& s) {
  const SamplingParams& p = s.item.sampling;
  sched::GenerateRequest r;
  r.rid = s.item.rid;
  r.input_ids = s.prompt_ids;
  r.sampling.temperature = float(p.temperature);
  r.sampling.top_p = float(p.top_p);
  r.sampling.top_k = int32_t(p.top_k);
  r.sampling.min_p = float(p.min_p);
  r.sampling.frequency_penalty = float(p.frequency_penalty);
  r.sampling.presence_penalty = float(p.presence_penalty);
  r.sampling.repetition_penalty = float(p.repetition_penalty);
  for (auto& [id, b] : p.logit_bias) r.sampling.logit_bias.emplace_back(int32_t(id), float(b));
  // n samples of one seeded request differ by their index, as the scheduler does for n > 1.
  if (p.sampling_seed) r.sampling.seed = uint64_t(*p.sampling_seed) + uint64_t(s.item.sample_index);
  r.stop.max_new_tokens = s.max_new_tokens;
  r.stop.min_new_tokens = p.min_new_tokens;
  r.stop.ignore_eos = p.ignore_eos;
  for (int64_t id : p.stop_token_ids) r.stop.stop_token_ids.push_back(int32_t(id));
  if (!p.stop.empty())
    r.stop.stop_strings = std::make_shared<TailStopChecker>(app.tokenizer, p.stop, p.skip_special_tokens);
  r.stop.no_stop_trim = p.no_stop_trim;
  r.logprob.return_logprob = s.item.logprob.return_logprob;
  r.logprob.logprob_start_len = s.item.logprob.logprob_start_len;
  r.logprob.top_logprobs_num = int32_t(s.item.logprob.top_logprobs_num);
  r.logprob.token_ids_logprob = s.item.logprob.token_ids_logprob;
  r.constraint = s.constraint;
  r.return_hidden_states = s.item.return_hidden_states;
  r.return_prompt_hidden = s.item.return_hidden_states && s.item.return_prompt_hidden;
  if (s.lora) r.lora = s.lora->adapter();
  r.input_embeds = s.item.input_embeds;
  r.return_routed_experts = s.item.return_routed_experts;
  r.routed_experts_start_len = s.item.routed_experts_start_len;
  return r;
}

// The request's json_schema / regex / ebnf, compiled (cached across requests); null when none.
// Counted as SGLang's grammar manager counts: every grammar request, cache hits, compile times of
// the rest, and grammars that fail (the request is refused).
Result<std::shared_ptr<const engine::TokenConstraintFactory>> compile_constraint(App& app,
                                                                                 const SamplingParams& p) {
  std::shared_ptr<const engine::TokenConstraintFactory> out;
  if (!app.grammars) return out;
  for (auto [kind, text] :
       {std::pair{GrammarKind::kJsonSchema, &p.json_schema}, std::pair{GrammarKind::kRegex, &p.regex},
        std::pair{GrammarKind::kEbnf, &p.ebnf}, std::pair{GrammarKind::kStructuralTag, &p.structural_tag}}) {
    if (!*text) continue;
    Metrics& m = app.metrics;
    m.grammar_total.fetch_add(1, std::memory_order_relaxed);
    m.grammar_compiling.fetch_add(1, std::memory_order_relaxed);
    const auto t0 = std::chrono::steady_clock::now();
    bool hit = false;
    auto compiled = app.grammars->compile(kind, **text, &hit);
    m.grammar_compiling.fetch_sub(1, std::memory_order_relaxed);
    if (hit) {
      m.grammar_cache_hits.fetch_add(1, std::memory_order_relaxed);
    } else {
      m.grammar_compile_time.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    if (!compiled.ok()) {
      m.grammar_aborted.fetch_add(1, std::memory_order_relaxed);
      return std::move(compiled).take_error();
    }
    out = std::move(compiled).value();
    return out;
  }
  return out;
}

// --log-requests-format json lines go to stdout as bare JSON (SGLang's stdout target logs
// "%(message)s"), whatever --log-level says: asking for request logs is asking for them.
spdlog::logger& request_json_logger() {
  static const std::shared_ptr<spdlog::logger> log = [] {
    auto l = std::make_shared<spdlog::logger>("requests", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *log;
}

// The registry's handle on the item's adapter (null for the base model).
Result<std::shared_ptr<const LoraHandle>> acquire_lora(App& app, const std::optional<std::string>& name) {
  if (!name) return std::shared_ptr<const LoraHandle>();
  if (!app.lora) return invalid_argument("LoRA is not enabled. Please set `--enable-lora` to enable LoRA.");
  SGL_ASSIGN_OR_RETURN(LoraHandle h, app.lora->acquire(*name));
  return std::shared_ptr<const LoraHandle>(std::make_shared<LoraHandle>(std::move(h)));
}

// --allow-auto-truncate, as SGLang's tokenizer manager does it: the prompt keeps its first tokens
// (leaving room for one new token) and max_new_tokens shrinks to what the context has left.
void truncate_to_context(std::vector<int32_t>& ids, std::optional<int64_t>& max_new_tokens,
                         const RequestLimits& limits) {
  const int64_t ctx = limits.context_length;
  int64_t keep = ctx - 2;
  if (limits.max_req_input_len > 0) keep = std::min(keep, limits.max_req_input_len);
  if (int64_t(ids.size()) > keep) {
    spdlog::warn(
        "The input ({} tokens) is longer than the model's context length ({} tokens). Truncating the input.",
        ids.size(), ctx);
    ids.resize(size_t(std::max<int64_t>(1, keep)));
  }
  if (max_new_tokens && *max_new_tokens + int64_t(ids.size()) >= ctx)
    max_new_tokens = std::max<int64_t>(1, ctx - 1 - int64_t(ids.size()));
}

}  // namespace

Result<std::vector<int32_t>> tokenize_prompt(const App& app, const PromptInput& p, bool add_special_tokens) {
  if (p.is_ids) return p.ids;
  if (app.args.skip_tokenizer_init)
    return invalid_argument(
        "The server runs with --skip-tokenizer-init: send input_ids (token ids), not text; outputs are "
        "output_ids only");
  SGL_TRY(check_prompt_bytes(p.text.size(), app.limits));  // before the encoder's seconds on a huge text
  return app.tokenizer->encode(p.text, add_special_tokens);
}

Generation::Generation(App& app) : app_(app), notifier_(std::make_shared<net::AsyncNotifier>()) {}

Generation::~Generation() {
  abort_all();
  for (auto& s : items_)
    if (s.stream && !s.out.finish.finished()) app_.inflight.remove(s.item.rid);
}

Status Generation::submit(std::vector<GenerateItem> items,
                          const std::vector<std::vector<int32_t>>& prompt_ids) {
  items_.reserve(items.size());
  for (auto& it : items) {
    ItemState s;
    std::vector<int32_t> ids = prompt_ids[it.prompt_index];
    if (app_.limits.allow_auto_truncate) truncate_to_context(ids, it.sampling.max_new_tokens, app_.limits);
    SGL_ASSIGN_OR_RETURN(s.max_new_tokens,
                         check_prompt_length(int64_t(ids.size()), it.sampling.max_new_tokens, app_.limits));
    if (it.logprob.logprob_start_len >= int64_t(ids.size()))
      return invalid_argument(
          fmt::format("logprob_start_len ({}) is not smaller than the prompt length ({}).",
                      it.logprob.logprob_start_len, ids.size()));
    // Ids from the tokenizer can only fall outside the model's vocabulary when --tokenizer-path
    // names another model's tokenizer (a dummy preset served with a stand-in): refuse, rather than
    // let the engine abort the request mid-step.
    for (int32_t id : ids)
      if (id < 0 || id >= app_.limits.vocab_size)
        return invalid_argument(fmt::format(
            "Token id {} of the prompt is outside the model's vocabulary [0, {}): the tokenizer does not "
            "match the model.",
            id, app_.limits.vocab_size));
    s.prompt_ids = std::move(ids);
    if (it.require_reasoning) s.think_end_id = app_.tokenizer->token_to_id("</think>");
    SGL_ASSIGN_OR_RETURN(s.constraint, compile_constraint(app_, it.sampling));
    SGL_ASSIGN_OR_RETURN(s.lora, acquire_lora(app_, it.lora_path));
    s.item = std::move(it);
    text::DecodeOptions opt;
    opt.skip_special_tokens = s.item.sampling.skip_special_tokens;
    opt.spaces_between_special_tokens = s.item.sampling.spaces_between_special_tokens;
    s.detok = std::make_unique<text::StreamingDetokenizer>(app_.tokenizer, opt);
    s.out.rid = s.item.rid;
    s.out.omit_text = app_.args.skip_tokenizer_init;
    s.out.prompt_tokens = int64_t(s.prompt_ids.size());
    if (s.item.return_hidden_states) s.out.hidden_states.emplace();
    s.out.want_routed_experts = s.item.return_routed_experts;
    if (s.item.logprob.return_logprob) {
      LogprobArrays lp;
      lp.include_input = s.item.logprob.logprob_start_len >= 0;
      lp.include_top = s.item.logprob.top_logprobs_num > 0;
      lp.include_ids = !s.item.logprob.token_ids_logprob.empty();
      s.out.logprobs = lp;
    }
    items_.push_back(std::move(s));
  }
  for (auto& s : items_) {
    s.start = s.last_token = std::chrono::steady_clock::now();
    std::weak_ptr<net::AsyncNotifier> weak = notifier_;
    // Registered before the scheduler sees it, so an abort_all racing this submit still finds it.
    app_.inflight.add(s.item.rid);
    // The callback lives as long as the scheduler keeps the request: it holds the adapter's handle
    // too, so an unload waits for an aborted request that the scheduler has not freed yet.
    auto r = app_.scheduler->submit(to_sched(app_, s), [weak, lora = s.lora] {
      (void)lora;
      if (auto n = weak.lock()) n->notify();
    });
    if (!r.ok()) {
      app_.inflight.remove(s.item.rid);
      return std::move(r).take_error();
    }
    s.stream = std::move(r).value();
    app_.metrics.requests.fetch_add(1);
    app_.metrics.prompt_tokens.fetch_add(s.out.prompt_tokens);
  }
  return ok_status();
}

bool Generation::all_finished() const {
  return std::all_of(items_.begin(), items_.end(),
                     [](const ItemState& s) { return s.out.finish.finished(); });
}

void Generation::abort_all() {
  for (auto& s : items_)
    if (s.stream && !s.out.finish.finished()) app_.scheduler->abort(s.item.rid);
}

void Generation::absorb(ItemState& s, sched::OutputChunk& c) {
  const bool with_text = s.item.logprob.return_text_in_logprobs;
  auto now = std::chrono::steady_clock::now();
  if (!c.token_ids.empty()) {
    double gap = std::chrono::duration<double>(now - s.last_token).count();
    // SGLang: the first output is TTFT; later ones count as n inter-token gaps of gap/n each.
    const auto n = static_cast<uint64_t>(c.token_ids.size());
    if (s.out.output_ids.empty())
      app_.metrics.ttft.observe(gap);
    else
      app_.metrics.itl.observe_n(gap / static_cast<double>(n), n, gap);
    s.last_token = now;
  }
  // SGLang trims a matched stop token (EOS, stop_token_ids) from the text unless no_stop_trim; it
  // stays in output_ids and the token counts. Only visible when skip_special_tokens is false.
  const bool trim_stop_token = c.finish && c.finish->type == sched::FinishReason::Type::kStop &&
                               !c.finish->matched_string && c.finish->matched_token &&
                               !s.item.sampling.no_stop_trim;
  for (size_t i = 0; i < c.token_ids.size(); ++i) {
    const int32_t id = c.token_ids[i];
    s.out.output_ids.push_back(id);
    // SGLang's Req.update_reasoning_tokens: every token through the first </think> (a tokenizer
    // without one counts nothing).
    if (s.think_end_id >= 0) {
      ++s.out.reasoning_tokens;
      if (id == s.think_end_id) s.think_end_id = -1;
    }
    if (trim_stop_token && i + 1 == c.token_ids.size() && id == *c.finish->matched_token) continue;
    if (!app_.args.skip_tokenizer_init) s.out.text += s.detok->feed(id);  // ids out only
  }
  s.new_ids += c.token_ids.size();
  if (c.routed_experts) s.out.routed_experts = base64_of(*c.routed_experts);
  if (s.out.hidden_states) {
    if (!c.prompt_hidden.empty()) s.out.prompt_hidden_states = std::move(c.prompt_hidden);
    for (auto& h : c.hidden_states) s.out.hidden_states->push_back(std::move(h));
  }
  app_.metrics.generation_tokens.fetch_add(int64_t(c.token_ids.size()));
  if (s.out.logprobs) {
    auto& lp = *s.out.logprobs;
    for (const auto& pl : c.input_logprobs) {
      lp.input_token_logprobs.push_back(to_triple(app_, pl.token, pl.logprob, with_text));
      lp.input_top_logprobs.push_back(pl.top.empty() ? TopLogprobs{}
                                                     : TopLogprobs{to_top(app_, pl.top, with_text)});
      if (lp.include_ids)
        lp.input_token_ids_logprobs.push_back(
            pl.requested.empty() ? TopLogprobs{} : TopLogprobs{to_top(app_, pl.requested, with_text)});
    }
    for (const auto& pl : c.output_logprobs) {
      lp.output_token_logprobs.push_back(to_triple(app_, pl.token, pl.logprob, with_text));
      lp.output_top_logprobs.push_back(pl.top.empty() ? TopLogprobs{}
                                                      : TopLogprobs{to_top(app_, pl.top, with_text)});
      if (lp.include_ids)
        lp.output_token_ids_logprobs.push_back(
            pl.requested.empty() ? TopLogprobs{} : TopLogprobs{to_top(app_, pl.requested, with_text)});
    }
  }
  s.out.prompt_tokens = c.prompt_tokens;
  s.out.completion_tokens = c.completion_tokens;
  s.out.cached_tokens = c.cached_tokens;
  if (c.finish) {
    app_.inflight.remove(s.item.rid);
    if (!app_.args.skip_tokenizer_init) s.out.text += s.detok->finish();
    s.out.finish = to_finish(*c.finish);
    if (s.out.finish.type == FinishReason::Type::kStopString && !s.item.sampling.no_stop_trim) {
      size_t pos = s.out.text.find(s.out.finish.matched_str, std::min(s.sent_text, s.out.text.size()));
      if (pos == std::string::npos) pos = s.out.text.find(s.out.finish.matched_str);
      if (pos != std::string::npos) s.out.text.resize(pos);
    }
    double e2e = std::chrono::duration<double>(now - s.start).count();
    s.out.e2e_latency = e2e;
    // SGLang's observe_one_finished_request (prompt tokens and requests count at submission).
    Metrics& m = app_.metrics;
    m.e2e.observe(e2e);
    m.cached_tokens.fetch_add(s.out.cached_tokens, std::memory_order_relaxed);
    if (s.constraint) m.so_requests.fetch_add(1, std::memory_order_relaxed);
    m.prompt_tokens_hist.observe(static_cast<double>(s.out.prompt_tokens));
    m.generation_tokens_hist.observe(static_cast<double>(s.out.completion_tokens));
  }
}

// SGLang's stream_interval (per request, else --stream-interval): the first token goes out at
// once (clients take TTFT from it), then one event per `interval` tokens, and the finish always.
bool Generation::due(const ItemState& s) const {
  if (s.out.finish.finished()) return true;
  const int64_t interval = s.item.sampling.stream_interval.value_or(app_.args.stream_interval);
  const size_t tokens = s.out.output_ids.size();
  if (interval <= 1) return true;
  if (s.emitted_ids == 0) return tokens > 0;
  return tokens >= s.emitted_ids + size_t(interval);
}

std::string Generation::log_summary() const {
  std::string rids;
  int64_t prompt = 0, completion = 0, cached = 0;
  for (const auto& s : items_) {
    if (s.item.sample_index == 0) {
      if (!rids.empty()) rids += ',';
      rids += s.item.rid;
      prompt += s.out.prompt_tokens;
      cached += s.out.cached_tokens;
    }
    completion += s.out.completion_tokens;
  }
  return fmt::format("rid={} prompt_tokens={} completion_tokens={} cached_tokens={}", rids, prompt,
                     completion, cached);
}

LogNoteOnExit::LogNoteOnExit(net::Exchange& ex, std::shared_ptr<const Generation> gen)
    : ex_(ex), gen_(std::move(gen)) {
  const RuntimeSettings& rt = gen_->app().runtime;
  json_ =
      rt.log_requests.load(std::memory_order_relaxed) && rt.log_requests_json.load(std::memory_order_relaxed);
  level_ = rt.log_requests_level.load(std::memory_order_relaxed);
  if (gen_->app().crash_dump->enabled()) crash_ticket_ = gen_->app().crash_dump->received(ex_.request().body);
  if (!json_) return;
  nlohmann::ordered_json rids = nlohmann::ordered_json::array();
  for (const auto& s : gen_->items()) rids.push_back(s.item.rid);
  if (rids.size() == 1) rids = rids[0];
  request_json_logger().info(request_log_line(std::chrono::system_clock::now(), "request.received", rids,
                                              request_log_obj(ex_.request().body, level_)));
}

LogNoteOnExit::~LogNoteOnExit() {
  ex_.set_log_note(gen_->log_summary());
  if (crash_ticket_ != 0) {
    // SGLang-JAX keeps each finished request's whole output (a list for a batch) for the dump.
    nlohmann::ordered_json outs = nlohmann::ordered_json::array();
    for (const auto& s : gen_->items())
      outs.push_back(nlohmann::ordered_json::parse(generate_output_json(s.out), nullptr, false));
    gen_->app().crash_dump->finished(crash_ticket_, outs.size() == 1 ? std::move(outs[0]) : std::move(outs));
  }
  if (!json_) return;
  // SGLang's `out`: the /generate output of each item (a list for a batch), meta_info included.
  nlohmann::ordered_json rids = nlohmann::ordered_json::array(), outs = nlohmann::ordered_json::array();
  for (const auto& s : gen_->items()) {
    rids.push_back(s.item.rid);
    outs.push_back(
        request_log_out(nlohmann::ordered_json::parse(generate_output_json(s.out), nullptr, false), level_));
  }
  if (rids.size() == 1) {
    rids = rids[0];
    outs = outs[0];
  }
  request_json_logger().info(request_log_line(std::chrono::system_clock::now(), "request.finished", rids,
                                              request_log_obj(ex_.request().body, level_), outs));
}

boost::asio::awaitable<bool> Generation::next() {
  for (;;) {
    bool any = false, held = false;
    for (auto& s : items_) {
      s.changed = false;
      s.new_ids = 0;
      if (s.stream) s.stream->drain(s.held);
      if (s.held.empty()) continue;
      // The first token gets an event of its own, however fast the next ones came: SGLang's
      // clients time the first token by the chunk whose completion_tokens is 1.
      size_t used = 0;
      while (used < s.held.size()) {
        const bool before_first = s.out.output_ids.empty();
        absorb(s, s.held[used++]);
        if (before_first && !s.out.output_ids.empty()) break;
      }
      s.held.erase(s.held.begin(), s.held.begin() + static_cast<std::ptrdiff_t>(used));
      held = held || !s.held.empty();
      s.changed = due(s);
      if (s.changed) s.emitted_ids = s.out.output_ids.size();
      any = any || s.changed;
    }
    if (any) co_return true;
    if (held) continue;
    if (all_finished()) co_return false;
    co_await notifier_->wait();
  }
}

}  // namespace sgl::server
