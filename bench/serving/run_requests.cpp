#include "bench/serving/run_requests.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

namespace sgl::bench {

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

RequestOutput send_one(const Endpoint& ep, Api api, const RequestSpec& spec, int64_t prompt_len,
                       double bench_start) {
  RequestOutput out;
  out.prompt_len = prompt_len;
  StreamReader reader(api);
  double st = now_seconds();
  out.start_time = st - bench_start;
  double last = st;
  int64_t tokens_seen = 0;
  std::string stream_error;
  auto on_data = [&](std::string_view data) {
    if (data == "[DONE]") return;
    double t = now_seconds();
    StreamEvent ev = reader.parse(data);
    if (!ev.error.empty()) {
      stream_error = ev.error;
      return;
    }
    if (ev.cached_tokens) out.cached_tokens = *ev.cached_tokens;
    if (ev.prompt_tokens) out.server_prompt_tokens = *ev.prompt_tokens;
    out.generated_text += ev.text_delta;
    // Tokens in this event: from the server's running count when it gives one, else one per
    // content chunk (OpenAI streams one token per chunk).
    int64_t n = 0;
    if (ev.completion_tokens) {
      n = *ev.completion_tokens - tokens_seen;
      out.output_len = *ev.completion_tokens;
    } else if (!ev.text_delta.empty()) {
      n = 1;
      out.output_len = tokens_seen + 1;
    }
    if (n <= 0) return;
    if (tokens_seen == 0) {
      out.ttft = t - st;
      out.chunk_times.push_back(t - bench_start);
      // Several tokens in the first event: the rest arrived with it.
      for (int64_t k = 1; k < n; ++k) out.chunk_times.push_back(t - bench_start);
    } else {
      // A chunk of n tokens: its gap is spread over them, as SGLang does.
      double gap = (t - last) / static_cast<double>(n);
      for (int64_t k = 0; k < n; ++k) {
        out.itl.push_back(gap);
        out.chunk_times.push_back(t - bench_start);
      }
    }
    tokens_seen += n;
    last = t;
  };
  std::string body = build_request_body(api, spec);
  Endpoint req_ep = ep;
  if (!spec.routing_key.empty()) req_ep.headers.emplace_back("X-SMG-Routing-Key", spec.routing_key);
  HttpResult r = http_post(req_ep, route_of(api), body, spec.stream ? OnSseData(on_data) : OnSseData());
  double end = now_seconds();
  out.latency = end - st;
  if (r.status != 200) {
    out.error = r.status == 0 ? r.error : fmt::format("HTTP {}: {}", r.status, r.body.substr(0, 300));
    return out;
  }
  if (!spec.stream) {
    on_data(r.body);
  } else if (!r.body.empty() && tokens_seen == 0 && stream_error.empty()) {
    on_data(r.body);  // the server answered without streaming
  }
  if (!stream_error.empty()) {
    out.error = stream_error;
    return out;
  }
  if (tokens_seen == 0 && spec.output_len > 0) {
    out.error = "no tokens received";
    return out;
  }
  if (out.ttft == 0) out.ttft = out.latency;
  out.success = true;
  return out;
}

namespace {

std::mutex g_print_mu;  // --print-requests lines come from the request threads

double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string new_rid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t a = rng(), b = rng();
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

// --print-requests: SGLang-JAX's two lines per request (the prompt and the text elided).
RequestOutput send_printed(const Endpoint& ep, Api api, const RequestSpec& spec, int64_t prompt_len,
                           double bench_start) {
  const std::string rid = new_rid();
  const double t0 = wall_seconds();
  {
    std::lock_guard lk(g_print_mu);
    std::fprintf(stdout,
                 "rid=%s time=%.6f message=\"request start\" request_func_input=\"RequestFuncInput(model='%s', "
                 "prompt='...', prompt_len=%lld, output_len=%lld, lora_name=%s)\"\n",
                 rid.c_str(), t0, spec.model.c_str(), static_cast<long long>(prompt_len),
                 static_cast<long long>(spec.output_len),
                 spec.lora_name.empty() ? "None" : ("'" + spec.lora_name + "'").c_str());
    std::fflush(stdout);
  }
  RequestOutput o = send_one(ep, api, spec, prompt_len, bench_start);
  const double t1 = wall_seconds();
  std::lock_guard lk(g_print_mu);
  std::fprintf(stdout,
               "rid=%s time=%.6f time_delta=%.6f message=\"request end\" output=\"RequestFuncOutput("
               "generated_text='...', success=%s, latency=%.6f, ttft=%.6f, output_len=%lld, "
               "cached_tokens=%lld, error='%s')\"\n",
               rid.c_str(), t1, t1 - t0, o.success ? "True" : "False", o.latency, o.ttft,
               static_cast<long long>(o.output_len), static_cast<long long>(o.cached_tokens), o.error.c_str());
  std::fflush(stdout);
  return o;
}

class Progress {
 public:
  Progress(size_t total, bool enabled) : total_(total), enabled_(enabled), start_(now_seconds()) {}
  void tick(size_t done) {
    if (!enabled_) return;
    double el = now_seconds() - start_;
    std::fprintf(stderr, "\r%zu/%zu [%.1fs, %.2f req/s]", done, total_, el, el > 0 ? done / el : 0.0);
    if (done == total_) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  size_t total_;
  bool enabled_;
  double start_;
};

}  // namespace

std::vector<RequestOutput> send_conversation(const Endpoint& ep, Api api, const RequestSpec& spec,
                                             int64_t prompt_len, double bench_start, bool print_requests) {
  auto send = [&](const RequestSpec& s, int64_t len) {
    return print_requests ? send_printed(ep, api, s, len, bench_start) : send_one(ep, api, s, len, bench_start);
  };
  if (spec.next_turns.empty()) return {send(spec, prompt_len)};
  // SGLang-JAX's multi-turn wrapper: each turn carries the conversation so far, the assistant
  // turns being the replies actually generated.
  std::vector<RequestOutput> outs;
  RequestSpec turn = spec;
  turn.next_turns.clear();
  turn.messages = {{"user", spec.prompt}};
  for (size_t i = 0; i <= spec.next_turns.size(); ++i) {
    RequestOutput o = send(turn, prompt_len);
    // Later turns' prompts hold the whole conversation: count them as the server did.
    if (o.server_prompt_tokens > 0) o.prompt_len = o.server_prompt_tokens;
    const std::string reply = o.generated_text;
    outs.push_back(std::move(o));
    if (i == spec.next_turns.size()) break;
    turn.messages.push_back({"assistant", reply});
    turn.messages.push_back({"user", spec.next_turns[i]});
  }
  return outs;
}

RunResult run_requests(const Endpoint& ep, const std::vector<RequestSpec>& specs,
                       const std::vector<int64_t>& prompt_lens, const RunOptions& opt) {
  // Shared with the request threads, which may outlive this call after a Ctrl-C.
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;
    size_t done = 0;
    std::vector<std::vector<RequestOutput>> outputs;  // per spec: its turns
    Progress progress;
    State(size_t n, bool show) : outputs(n), progress(n, show) {}
  };
  auto st = std::make_shared<State>(specs.size(), opt.progress);
  for (size_t i = 0; i < specs.size(); ++i) {
    st->outputs[i].resize(specs[i].next_turns.size() + 1);
    for (auto& o : st->outputs[i]) o.error = "not sent";
  }
  std::mt19937_64 rng(opt.seed);
  bool poisson = opt.request_rate > 0 && std::isfinite(opt.request_rate);
  std::exponential_distribution<double> gap(poisson ? opt.request_rate : 1.0);
  double start = now_seconds();
  double next_arrival = start;
  std::vector<std::thread> threads;
  threads.reserve(specs.size());
  auto stopped = [&] { return opt.interrupted != nullptr && opt.interrupted->load(); };
  const bool traced = !opt.arrival_s.empty();
  for (size_t i = 0; i < specs.size() && !stopped(); ++i) {
    if (traced) next_arrival = start + opt.arrival_s[std::min(i, opt.arrival_s.size() - 1)];
    if (poisson || traced) {
      while (now_seconds() < next_arrival && !stopped())
        std::this_thread::sleep_for(std::chrono::microseconds(
            std::min<int64_t>(20000, static_cast<int64_t>((next_arrival - now_seconds()) * 1e6) + 1)));
      if (poisson && !traced) next_arrival += gap(rng);
    }
    {
      std::unique_lock lk(st->mu);
      // Polls so a Ctrl-C (a flag set by a signal handler, no notify) is seen promptly.
      while (!(opt.max_concurrency <= 0 || st->in_flight < opt.max_concurrency || stopped()))
        st->cv.wait_for(lk, std::chrono::milliseconds(50));
      if (stopped()) break;
      ++st->in_flight;
    }
    threads.emplace_back([st, ep, api = opt.api, spec = specs[i], len = prompt_lens[i], i, start,
                          print = opt.print_requests] {
      std::vector<RequestOutput> o = send_conversation(ep, api, spec, len, start, print);
      std::lock_guard lk(st->mu);
      st->outputs[i] = std::move(o);
      --st->in_flight;
      st->progress.tick(++st->done);
      st->cv.notify_all();
    });
  }
  RunResult result;
  {
    std::unique_lock lk(st->mu);
    while (st->in_flight > 0 && !stopped()) st->cv.wait_for(lk, std::chrono::milliseconds(50));
    result.duration = now_seconds() - start;
    for (const auto& turns : st->outputs)  // Ctrl-C: what finished so far
      result.outputs.insert(result.outputs.end(), turns.begin(), turns.end());
  }
  for (auto& t : threads) {
    if (stopped()) {
      t.detach();  // abandoned requests finish into the shared state, never into `result`
    } else {
      t.join();
    }
  }
  return result;
}

}  // namespace sgl::bench
