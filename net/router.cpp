#include "net/router.h"

namespace sgl::net {

Response default_error_response(int status, std::string_view message, const Request&) {
  return Response::json(status, "{\"error\":{\"message\":\"" + json_escape(message) +
                                    "\",\"code\":" + std::to_string(status) + "}}");
}

Router::Router() : formatter_(default_error_response) {}

Router& Router::add(std::string method, std::string path, Handler handler) {
  routes_[std::move(path)][std::move(method)] = std::move(handler);
  return *this;
}

Router& Router::add_prefix(std::string method, std::string prefix, Handler handler) {
  prefixes_[std::move(prefix)][std::move(method)] = std::move(handler);
  return *this;
}

Router::Match Router::match(const Request& request) const {
  Match m;
  const MethodMap* methods = nullptr;
  if (auto route = routes_.find(request.path); route != routes_.end()) {
    methods = &route->second;
  } else {
    // Map order puts a longer prefix after its shorter ones, so the last hit is the longest.
    for (const auto& [prefix, handlers] : prefixes_)
      if (request.path.starts_with(prefix)) methods = &handlers;
  }
  if (methods == nullptr) {
    m.error = formatter_(404, "Not Found: " + request.method + " " + request.path, request);
    return m;
  }
  auto handler = methods->find(request.method);
  if (handler != methods->end()) {
    m.handler = &handler->second;
    return m;
  }
  std::string allow;
  for (const auto& [method, unused] : *methods) {
    if (!allow.empty()) allow += ", ";
    allow += method;
  }
  m.error = formatter_(405, "Method Not Allowed: " + request.method + " " + request.path, request);
  m.error.headers.emplace_back("Allow", allow);
  return m;
}

}  // namespace sgl::net
