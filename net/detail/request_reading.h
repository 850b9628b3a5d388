// Internal: how a session turns bytes into one Request with Beast — the parser with the server's
// limits, the answer to a request that could not be read, and the plain Request the router sees.
// Kept out of the session coroutine so that tests/fuzz/http_request_fuzz.cpp drives exactly this
// code with bytes from memory.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

#include "net/http_message.h"
#include "net/http_server.h"

namespace sgl::net::detail {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Sets the header (request line + fields) and body limits of `options` on a fresh parser.
void apply_limits(RequestParser& parser, const ServerOptions& options);

// What to answer when reading a request failed with `ec`: 431, 413 or 400 with a message, and the
// part of the request that was parsed (method and path pick the API's error shape).
struct ReadFailure {
  int status = 400;
  std::string message;
  Request partial;
};
// nullopt: nothing to answer (timeout, reset, end of stream): the session just closes.
std::optional<ReadFailure> read_failure(const RequestParser& parser, const boost::beast::error_code& ec,
                                        const ServerOptions& options);

// A request read whole whose target and fields exceed the header limit: 431. Beast checks its
// header_limit against the bytes of each parse call, and a request delivered in small segments can
// pass it by a few bytes (tests/fuzz/http_request_fuzz.cpp found 73 bytes through a 64-byte
// limit), so the limit is checked again on what was parsed.
std::optional<ReadFailure> oversized_header(const RequestParser& parser, const ServerOptions& options);

Request to_request(boost::beast::http::request<boost::beast::http::string_body>&& msg,
                   const std::string& remote);

}  // namespace sgl::net::detail
