// Plain HTTP request/response values shared by the server, the router and the client.
// They carry no Beast types so that code above net/ compiles without Beast's headers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sgl::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; "" when absent.
std::string_view find_header(const HeaderList& headers, std::string_view name);

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path plus optional "?query"
  std::string path;    // target without the query
  std::string query;   // text after '?', "" if none
  HeaderList headers;
  std::string body;
  std::string remote_address;

  std::string_view header(std::string_view name) const { return find_header(headers, name); }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  HeaderList headers;  // extra headers (e.g. Retry-After, Allow)
  std::string body;

  static Response json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8") {
    Response r;
    r.status = status;
    r.content_type = std::move(content_type);
    r.body = std::move(body);
    return r;
  }
};

// The standard reason phrase for a status ("Not Found"); "Unknown" for unusual codes.
std::string_view reason_phrase(int status);

// Escapes a string for inclusion inside a JSON string literal (no quotes added).
std::string json_escape(std::string_view text);

}  // namespace sgl::net
