#include "server/protocol/api_error.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace sgl::server {

int http_status_of(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kCorrupt:
    case ErrorCode::kUnsupported:
    case ErrorCode::kAborted:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

const char* openai_error_type(const Error& e) {
  switch (e.code) {
    case ErrorCode::kCorrupt:
      return "Bad Request";
    case ErrorCode::kNotFound:
      return "NotFoundError";
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kUnavailable:
      return "ServiceUnavailableError";
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
      return "InternalServerError";
    default:
      return "BadRequestError";
  }
}

namespace {
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

nlohmann::ordered_json openai_error_object(const Error& e) {
  const int status = http_status_of(e);
  std::string message = status == 500 ? "Internal server error: " + e.message : e.message;
  return {{"object", "error"},
          {"message", std::move(message)},
          {"type", openai_error_type(e)},
          {"param", nullptr},
          {"code", status}};
}
}  // namespace

std::string native_error_body(const Error& e) {
  nlohmann::ordered_json j = {{"error", {{"message", e.message}}}};
  return j.dump(-1, ' ', false, kReplace);
}

std::string openai_error_body(const Error& e) {
  return openai_error_object(e).dump(-1, ' ', false, kReplace);
}

std::string openai_stream_error_body(const Error& e) {
  nlohmann::ordered_json j = {{"error", openai_error_object(e)}};
  return j.dump(-1, ' ', false, kReplace);
}

std::string openai_model_not_found_body(std::string_view model) {
  nlohmann::ordered_json j = {{"error",
                               {{"message", fmt::format("The model '{}' does not exist", model)},
                                {"type", "invalid_request_error"},
                                {"param", "model"},
                                {"code", "model_not_found"}}}};
  return j.dump(-1, ' ', false, kReplace);
}

std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", v);  // shortest round-trip, as Python's repr
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace sgl::server
