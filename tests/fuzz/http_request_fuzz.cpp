// Raw bytes from a client socket → the request reading of net/ (net/detail/request_reading.h: Beast's
// request_parser with the server's header and body limits, the 4xx answer to an unreadable request,
// the plain Request) → the router. The bytes arrive in fuzzer-chosen segments, as TCP delivers them,
// and may hold several pipelined requests, read one after another from one buffer as a session does.
//
// Input: [limits selector][segment seed: 2 bytes][the bytes the client sends].
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "net/detail/request_reading.h"
#include "net/router.h"
#include "server/text/tokenizer.h"

namespace {

namespace http = boost::beast::http;
using sgl::net::ServerOptions;

// A client's bytes, handed to the parser in pseudo-random segment sizes (1..64 bytes, or all at once).
class SegmentStream {
 public:
  SegmentStream(std::string_view bytes, uint32_t seed) : bytes_(bytes), state_(seed) {}

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, boost::beast::error_code& ec) {
    if (bytes_.empty()) {
      ec = boost::asio::error::eof;  // the client closed: Beast maps it to end_of_stream / partial_message
      return 0;
    }
    state_ = state_ * 1103515245u + 12345u;
    const size_t segment = state_ == 0 ? bytes_.size() : 1 + (state_ >> 16) % 64;
    const size_t n = boost::asio::buffer_copy(
        buffers, boost::asio::buffer(bytes_.data(), std::min(segment, bytes_.size())));
    bytes_.remove_prefix(n);
    ec = {};
    return n;
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    boost::beast::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view bytes_;
  uint32_t state_;
};

ServerOptions options_for(uint8_t selector) {
  ServerOptions o;  // 0: the server's defaults (16 KiB of headers, 64 MiB of body)
  switch (selector % 4) {
    case 1:
      o.max_header_bytes = 64, o.max_request_bytes = 16;
      break;
    case 2:
      o.max_header_bytes = 512, o.max_request_bytes = 0;
      break;
    case 3:
      o.max_header_bytes = 200, o.max_request_bytes = 100;
      break;
  }
  return o;
}

const sgl::net::Router& router() {
  static const sgl::net::Router r = [] {
    sgl::net::Router r;
    auto ok = [](sgl::net::Exchange&) -> boost::asio::awaitable<sgl::net::Response> {
      co_return sgl::net::Response::json(200, "{}");
    };
    r.post("/generate", ok)
        .get("/health", ok)
        .post("/v1/chat/completions", ok)
        .add_prefix("GET", "/v1/models/", ok);
    return r;
  }();
  return r;
}

// The error bodies are JSON; a method or path that is not UTF-8 is echoed as is (not JSON text).
void check_error_body(const sgl::net::Response& r, const sgl::net::Request& req) {
  if (!sgl::text::is_valid_utf8(req.method) || !sgl::text::is_valid_utf8(req.path)) return;
  FUZZ_CHECK(nlohmann::json::accept(r.body), r.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sgl::fuzz::Input in(data, size);
  const ServerOptions opt = options_for(in.byte());
  const uint32_t seed = (uint32_t(in.byte()) << 8) | in.byte();
  SegmentStream stream(in.rest(), seed);
  boost::beast::flat_buffer buffer;  // the session's buffer: it carries pipelined bytes over
  for (int exchange = 0; exchange < 64; ++exchange) {
    sgl::net::detail::RequestParser parser;
    sgl::net::detail::apply_limits(parser, opt);
    boost::beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec) {
      auto failure = sgl::net::detail::read_failure(parser, ec, opt);
      if (failure) {
        FUZZ_CHECK(failure->status == 400 || failure->status == 413 || failure->status == 431, ec.message());
        FUZZ_CHECK(failure->partial.target.starts_with(failure->partial.path), failure->partial.target);
        check_error_body(router().error(failure->status, failure->message, failure->partial),
                         failure->partial);
      }
      return 0;
    }
    if (auto over = sgl::net::detail::oversized_header(parser, opt)) {
      FUZZ_CHECK(over->status == 431, std::to_string(over->status));
      check_error_body(router().error(over->status, over->message, over->partial), over->partial);
      return 0;  // the session answers 431 and closes
    }
    const bool keep_alive = parser.keep_alive();
    auto msg = parser.release();
    FUZZ_CHECK(msg.body().size() <= opt.max_request_bytes, std::to_string(msg.body().size()));
    size_t field_bytes = msg.target().size();
    for (const auto& f : msg) field_bytes += f.name_string().size() + f.value().size();
    FUZZ_CHECK(field_bytes <= opt.max_header_bytes, std::to_string(field_bytes));
    const size_t num_fields = std::distance(msg.begin(), msg.end());

    sgl::net::Request req = sgl::net::detail::to_request(std::move(msg), "fuzz");
    FUZZ_CHECK(req.headers.size() == num_fields, req.target);
    // target = path, or path '?' query.
    FUZZ_CHECK(req.target.starts_with(req.path) && req.path.find('?') == std::string::npos, req.target);
    FUZZ_CHECK(req.target.size() == req.path.size() || (req.target[req.path.size()] == '?' &&
                                                        req.target.substr(req.path.size() + 1) == req.query),
               req.target);
    sgl::net::Router::Match m = router().match(req);
    if (m.handler == nullptr) {
      FUZZ_CHECK(m.error.status == 404 || m.error.status == 405, std::to_string(m.error.status));
      check_error_body(m.error, req);
    }
    if (!keep_alive) break;
  }
  return 0;
}
