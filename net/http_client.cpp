#include "net/http_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <optional>

namespace sgl::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;
using asio::ip::tcp;

Result<BaseUrl> parse_base_url(std::string_view url) {
  if (url.starts_with("http://"))
    url.remove_prefix(7);
  else if (url.find("://") != std::string_view::npos)
    return invalid_argument("only http:// URLs are supported: " + std::string(url));
  url = url.substr(0, url.find('/'));
  BaseUrl out;
  size_t colon = url.rfind(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(url);
    return out;
  }
  out.host = std::string(url.substr(0, colon));
  auto port = url.substr(colon + 1);
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc() || p != port.data() + port.size() || out.host.empty()) {
    return invalid_argument("bad URL host:port '" + std::string(url) + "'");
  }
  return out;
}

struct AsyncHttpClient::Impl {
  std::string host;
  std::string port;
  ClientOptions options;
  tcp::resolver resolver;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool connected = false;

  Impl(asio::any_io_executor ex, std::string h, uint16_t p, ClientOptions o)
      : host(std::move(h)), port(std::to_string(p)), options(o), resolver(ex), stream(ex) {}

  void close() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.socket().close(ec);
    buffer.clear();
    connected = false;
  }

  asio::awaitable<Status> connect() {
    if (connected) co_return ok_status();
    beast::error_code ec;
    auto results = co_await resolver.async_resolve(host, port, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return Status(io_error("resolve " + host + ": " + ec.message()));
    stream.expires_after(options.timeout);
    co_await stream.async_connect(results, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return Status(io_error("connect " + host + ":" + port + ": " + ec.message()));
    stream.socket().set_option(tcp::no_delay(true), ec);
    connected = true;
    co_return ok_status();
  }

  // Sends the request, retrying once on a fresh connection when a reused one turns out closed.
  asio::awaitable<Status> send(const http::request<http::string_body>& req,
                               std::optional<http::response_parser<http::string_body>>& parser,
                               bool header_only) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = connected;
      Status c = co_await connect();
      if (!c.ok()) co_return c;
      beast::error_code ec;
      stream.expires_after(options.timeout);
      co_await http::async_write(stream, req, asio::redirect_error(use_awaitable, ec));
      if (!ec) {
        parser.emplace();
        parser->body_limit(boost::none);
        stream.expires_after(options.timeout);
        if (header_only) {
          co_await http::async_read_header(stream, buffer, *parser, asio::redirect_error(use_awaitable, ec));
        } else {
          co_await http::async_read(stream, buffer, *parser, asio::redirect_error(use_awaitable, ec));
        }
      }
      if (!ec) co_return ok_status();
      close();
      bool stale = reused && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                              ec == asio::error::broken_pipe || ec == asio::error::eof);
      if (!stale)
        co_return Status(io_error(std::string(req.method_string()) + " " + std::string(req.target()) + ": " +
                                  ec.message()));
    }
    co_return Status(io_error("connection closed by server"));
  }

  http::request<http::string_body> make_request(const std::string& method, const std::string& target,
                                                std::string body, const HeaderList& headers) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host + ":" + port);
    req.set(http::field::user_agent, "sglcpp-client");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  static ClientResponse to_response(http::response<http::string_body>& msg) {
    ClientResponse r;
    r.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(msg.body());
    return r;
  }
};

AsyncHttpClient::AsyncHttpClient(asio::any_io_executor executor, std::string host, uint16_t port,
                                 ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(host), port, options)) {}
AsyncHttpClient::~AsyncHttpClient() = default;
AsyncHttpClient::AsyncHttpClient(AsyncHttpClient&&) noexcept = default;
AsyncHttpClient& AsyncHttpClient::operator=(AsyncHttpClient&&) noexcept = default;

void AsyncHttpClient::close() { impl_->close(); }

asio::awaitable<Result<ClientResponse>> AsyncHttpClient::request(std::string method, std::string target,
                                                                 std::string body, HeaderList headers) {
  auto req = impl_->make_request(method, target, std::move(body), headers);
  std::optional<http::response_parser<http::string_body>> parser;
  Status s = co_await impl_->send(req, parser, false);
  if (!s.ok()) co_return std::move(s).take_error();
  auto msg = parser->release();
  if (!msg.keep_alive()) impl_->close();
  co_return Impl::to_response(msg);
}

asio::awaitable<Result<ClientResponse>> AsyncHttpClient::stream(std::string method, std::string target,
                                                                std::string body, SseParser::EventFn on_event,
                                                                HeaderList headers) {
  headers.emplace_back("Accept", "text/event-stream");
  auto req = impl_->make_request(method, target, std::move(body), headers);
  std::optional<http::response_parser<http::string_body>> parser;
  Status s = co_await impl_->send(req, parser, true);
  if (!s.ok()) co_return std::move(s).take_error();

  ClientResponse out;
  out.status = static_cast<int>(parser->get().result_int());
  for (const auto& f : parser->get())
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  bool sse = out.header("Content-Type").starts_with("text/event-stream");

  SseParser sse_parser;
  bool stopped_by_client = false;
  auto deliver = [&](std::string_view data) {
    if (data == "[DONE]") {
      out.saw_done = true;
      return true;
    }
    ++out.events;
    if (!on_event(data)) {
      stopped_by_client = true;
      return false;
    }
    return true;
  };
  SseParser::EventFn deliver_fn = deliver;
  // Chunk bodies go straight to the SSE parser instead of accumulating in the message body.
  auto on_chunk = [&](std::uint64_t, std::string_view data, beast::error_code& ec) -> std::size_t {
    if (sse && !stopped_by_client && !sse_parser.feed(data, deliver_fn)) ec = asio::error::operation_aborted;
    if (!sse) out.body.append(data);
    return data.size();
  };
  parser->on_chunk_body(on_chunk);

  beast::error_code ec;
  while (!parser->is_done()) {
    impl_->stream.expires_after(impl_->options.timeout);
    co_await http::async_read_some(impl_->stream, impl_->buffer, *parser,
                                   asio::redirect_error(use_awaitable, ec));
    if (ec) break;
  }
  if (stopped_by_client) {
    impl_->close();
    co_return out;
  }
  if (ec) {
    impl_->close();
    co_return Result<ClientResponse>(io_error("stream " + target + ": " + ec.message()));
  }
  if (!parser->chunked()) {  // Content-Length or close-delimited body
    std::string whole = std::move(parser->get().body());
    if (sse) {
      sse_parser.feed(whole, deliver_fn);
      sse_parser.feed("\n\n", deliver_fn);
    } else {
      out.body = std::move(whole);
    }
  }
  if (!parser->get().keep_alive()) impl_->close();
  co_return out;
}

struct HttpClient::Impl {
  asio::io_context ioc{1};
  AsyncHttpClient client;
  Impl(std::string host, uint16_t port, ClientOptions o)
      : client(ioc.get_executor(), std::move(host), port, o) {}

  Result<ClientResponse> run(asio::awaitable<Result<ClientResponse>> op) {
    std::optional<Result<ClientResponse>> out;
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(op)); },
        [&](std::exception_ptr e) {
          if (e && !out) out.emplace(internal_error("HTTP client failed with an exception"));
        });
    ioc.restart();
    ioc.run();
    if (!out) return internal_error("HTTP client did not complete");
    return std::move(*out);
  }
};

HttpClient::HttpClient(std::string host, uint16_t port, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(host), port, options)) {}
HttpClient::~HttpClient() = default;

Result<ClientResponse> HttpClient::request(std::string method, std::string target, std::string body,
                                           HeaderList headers) {
  return impl_->run(
      impl_->client.request(std::move(method), std::move(target), std::move(body), std::move(headers)));
}

Result<ClientResponse> HttpClient::stream(std::string method, std::string target, std::string body,
                                          SseParser::EventFn on_event, HeaderList headers) {
  return impl_->run(impl_->client.stream(std::move(method), std::move(target), std::move(body),
                                         std::move(on_event), std::move(headers)));
}

void HttpClient::close() { impl_->client.close(); }

}  // namespace sgl::net
