// Blocking HTTP/1.1 over Boost.Beast, one connection per call: the benchmark's own timing must not
// depend on a shared connection pool, and each request thread owns its socket.
#include "bench/serving/transport.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>

namespace sgl::bench {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

Endpoint parse_base_url(std::string_view url) {
  Endpoint ep;
  if (auto p = url.find("://"); p != std::string_view::npos) url.remove_prefix(p + 3);
  if (auto p = url.find('/'); p != std::string_view::npos) url = url.substr(0, p);
  if (auto p = url.rfind(':'); p != std::string_view::npos) {
    ep.host = std::string(url.substr(0, p));
    ep.port = std::string(url.substr(p + 1));
  } else {
    ep.host = std::string(url);
    ep.port = "80";
  }
  return ep;
}

Endpoint endpoint_from_flags(const std::string& base_url, const std::string& host, int port) {
  Endpoint ep = base_url.empty() ? Endpoint{host, std::to_string(port), ""} : parse_base_url(base_url);
  if (const char* key = std::getenv("OPENAI_API_KEY"); key && *key) {
    ep.api_key = key;
  } else if (const char* raw = std::getenv("API_KEY"); raw && *raw) {
    ep.headers.emplace_back("Authorization", raw);
  }
  return ep;
}

namespace {

HttpResult request(const Endpoint& ep, http::verb verb, std::string_view path, std::string_view body,
                   const OnSseData& on_data, double timeout_s) {
  HttpResult out;
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
    stream.expires_after(timeout);
    stream.connect(resolver.resolve(ep.host, ep.port));
    http::request<http::string_body> req{verb, std::string(path), 11};
    req.set(http::field::host, ep.host);
    req.set(http::field::user_agent, "sglcpp-bench");
    if (!ep.api_key.empty()) req.set(http::field::authorization, "Bearer " + ep.api_key);
    for (const auto& [k, v] : ep.headers) req.set(k, v);
    if (verb == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = std::string(body);
      req.prepare_payload();
    }
    http::write(stream, req);

    beast::flat_buffer buf;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    http::read_header(stream, buf, parser);
    out.status = static_cast<int>(parser.get().result_int());
    bool sse = parser.get()[http::field::content_type].find("text/event-stream") != beast::string_view::npos;
    std::string pending;  // SSE bytes not yet forming a whole event
    char chunk[16384];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof(chunk);
      beast::error_code ec;
      http::read_some(stream, buf, parser, ec);  // returns as soon as some body arrived
      if (ec && ec != http::error::need_buffer) throw beast::system_error(ec);
      size_t n = sizeof(chunk) - parser.get().body().size;
      if (!sse || !on_data) {
        out.body.append(chunk, n);
        continue;
      }
      pending.append(chunk, n);
      size_t pos;
      while ((pos = pending.find("\n\n")) != std::string::npos) {
        std::string_view ev(pending.data(), pos);
        // An event may have several lines; only "data:" lines matter here.
        size_t start = 0;
        while (start <= ev.size()) {
          size_t eol = ev.find('\n', start);
          std::string_view line =
              ev.substr(start, eol == std::string_view::npos ? ev.size() - start : eol - start);
          if (line.starts_with("data:")) {
            line.remove_prefix(5);
            if (line.starts_with(' ')) line.remove_prefix(1);
            on_data(line);
          }
          if (eol == std::string_view::npos) break;
          start = eol + 1;
        }
        pending.erase(0, pos + 2);
      }
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  } catch (const std::exception& e) {
    if (out.status == 0)
      out.error = e.what();
    else
      out.error = std::string("stream broken: ") + e.what();
    if (out.status == 200) out.status = 0;  // a broken stream is a failed request
  }
  return out;
}

}  // namespace

HttpResult http_get(const Endpoint& ep, std::string_view path, double timeout_s) {
  return request(ep, http::verb::get, path, "", {}, timeout_s);
}

HttpResult http_post(const Endpoint& ep, std::string_view path, std::string_view json_body,
                     const OnSseData& on_data, double timeout_s) {
  return request(ep, http::verb::post, path, json_body, on_data, timeout_s);
}

}  // namespace sgl::bench
