// bench_serving's timing against a fake OpenAI-compatible server on loopback whose token schedule
// is known: the measured TTFT / ITL / throughput must match it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "bench/serving/run_requests.h"

namespace sgl::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr int kFirstTokenMs = 150;
constexpr int kGapMs = 40;
constexpr int kTokens = 8;

class FakeOpenAIServer {
 public:
  FakeOpenAIServer() : acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~FakeOpenAIServer() {
    stop_ = true;
    // A blocking accept is not interrupted by close() from another thread: wake it with a connection.
    boost::system::error_code ec;
    tcp::socket poke(ioc_);
    poke.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
    acceptor_.close(ec);
    for (auto& t : workers_) t.join();
  }
  std::string port() const { return std::to_string(port_); }
  int max_in_flight() const { return max_in_flight_; }

 private:
  void accept_loop() {
    while (!stop_) {
      tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      workers_.emplace_back([this, s = std::move(sock)]() mutable { serve(std::move(s)); });
    }
  }
  void serve(tcp::socket sock) {
    try {
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(sock, buf, req);
      if (req.target() == "/v1/models") {
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = R"({"object":"list","data":[{"id":"fake","object":"model"}]})";
        res.prepare_payload();
        http::write(sock, res);
        return;
      }
      int now = ++in_flight_;
      int prev = max_in_flight_.load();
      while (now > prev && !max_in_flight_.compare_exchange_weak(prev, now)) {
      }
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
      boost::asio::write(sock, boost::asio::buffer(head));
      std::this_thread::sleep_for(std::chrono::milliseconds(kFirstTokenMs));
      for (int i = 0; i < kTokens; ++i) {
        if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(kGapMs));
        std::string ev = fmt::format("data: {{\"choices\":[{{\"index\":0,\"text\":\"t{}\"}}]}}\n\n", i);
        boost::asio::write(sock, boost::asio::buffer(ev));
      }
      std::string tail = fmt::format(
          "data: {{\"choices\":[],\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":{}}}}}\n\ndata: "
          "[DONE]\n\n",
          kTokens);
      --in_flight_;  // before the last write: the client may start the next request right after it
      boost::asio::write(sock, boost::asio::buffer(tail));
      boost::system::error_code ec;
      sock.shutdown(tcp::socket::shutdown_both, ec);
    } catch (const std::exception&) {
    }
  }

  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> in_flight_{0}, max_in_flight_{0};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

// One run against the fake; true when every figure is within 5 % of the fake's schedule.
bool timing_matches(std::string* why) {
  FakeOpenAIServer server;
  Endpoint ep{"127.0.0.1", server.port(), ""};
  std::vector<RequestSpec> specs(6);
  for (auto& s : specs) s.prompt = "hello", s.output_len = kTokens, s.model = "fake";
  std::vector<int64_t> lens(specs.size(), 5);
  RunOptions opt;
  opt.api = Api::kCompletions;
  opt.max_concurrency = 2;
  opt.progress = false;
  RunResult run = run_requests(ep, specs, lens, opt);
  for (const auto& o : run.outputs) {
    EXPECT_TRUE(o.success) << o.error;
    EXPECT_EQ(o.output_len, kTokens);
    EXPECT_EQ(o.itl.size(), static_cast<size_t>(kTokens - 1));
    EXPECT_LE(o.ttft, o.latency);
  }
  Metrics m = compute_metrics(run.outputs, {}, run.duration);
  EXPECT_EQ(m.completed, 6);
  EXPECT_EQ(m.total_output, 6 * kTokens);
  EXPECT_LE(server.max_in_flight(), 2);
  EXPECT_EQ(m.max_concurrent_requests, 2);
  const double e2e_s = (kFirstTokenMs + (kTokens - 1) * kGapMs) / 1000.0;
  const double want_tput = 6 * kTokens / (3 * e2e_s);  // 6 requests, 2 at a time: three rounds
  *why = fmt::format(
      "median TTFT {:.1f} ms (want {}), median ITL {:.1f} ms (want {}), output {:.1f} tok/s (want {:.1f})",
      m.median_ttft, kFirstTokenMs, m.median_itl, kGapMs, m.output_throughput, want_tput);
  return std::abs(m.median_ttft - kFirstTokenMs) <= kFirstTokenMs * 0.05 &&
         std::abs(m.median_itl - kGapMs) <= kGapMs * 0.05 &&
         std::abs(m.output_throughput - want_tput) <= want_tput * 0.05;
}

TEST(BenchServingTiming, MatchesTheFakeServersSchedule) {
  // Scheduling noise on a loaded CI machine only ever delays events; one clean run of three is
  // enough to show the measurement itself is right.
  std::string why;
  bool ok = false;
  for (int attempt = 0; attempt < 3 && !ok; ++attempt) ok = timing_matches(&why);
  EXPECT_TRUE(ok) << why;
}

TEST(BenchServingTiming, ConnectionRefusedIsAFailedRequestNotACrash) {
  Endpoint ep{"127.0.0.1", "1", ""};
  RequestSpec s;
  s.prompt = "x", s.output_len = 4;
  RequestOutput o = send_one(ep, Api::kNativeGenerate, s, 1, now_seconds());
  EXPECT_FALSE(o.success);
  EXPECT_FALSE(o.error.empty());
}

}  // namespace
}  // namespace sgl::bench
