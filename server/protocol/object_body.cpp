#include "server/protocol/object_body.h"

namespace sgl::server {

Result<nlohmann::json> parse_object_body(const std::string& body) {
  using nlohmann::json;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("The request body is not valid JSON.");
  if (j.is_null()) return json::object();
  if (!j.is_object()) return invalid_argument("The request body must be a JSON object.");
  return j;
}

}  // namespace sgl::server
