#include "server/routes/route_util.h"

#include <algorithm>
#include <cctype>

#include "server/protocol/api_error.h"

namespace sgl::server {

Status check_json_content_type(const net::Request& req) {
  std::string ct(req.header("Content-Type"));
  ct = ct.substr(0, ct.find(';'));
  ct.erase(std::remove_if(ct.begin(), ct.end(), [](unsigned char c) { return std::isspace(c); }), ct.end());
  std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ct == "application/json") return ok_status();
  return bad_body("Unsupported Media Type: Only 'application/json' is allowed");
}

}  // namespace sgl::server
