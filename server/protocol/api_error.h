// One place that turns an Error into an HTTP status and the API's own error body:
// SGLang's native routes answer {"error":{"message"}}, the OpenAI routes the flat OpenAI
// error object {"object":"error","message","type","param","code"} as SGLang does.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server {

// Malformed or mistyped bodies are pydantic errors in SGLang (type "Bad Request"), value
// checks are ValueErrors (type "BadRequestError"); both are 400. We tell them apart by code.
inline Error bad_body(std::string msg) { return {ErrorCode::kCorrupt, std::move(msg)}; }

int http_status_of(const Error& e);
// "BadRequestError", "Bad Request", "NotFoundError", "ServiceUnavailableError", "InternalServerError".
const char* openai_error_type(const Error& e);

std::string native_error_body(const Error& e);  // {"error":{"message":"..."}}
std::string openai_error_body(const Error& e);  // {"object":"error","message",...,"code":<status>}
// In an OpenAI stream an error travels as {"error":{<the OpenAI error object>}}.
std::string openai_stream_error_body(const Error& e);
// 404 for an unknown /v1/models/{name}: OpenAI's nested shape with code "model_not_found".
std::string openai_model_not_found_body(std::string_view model);
// 401 body for a missing or wrong API key.
inline const char* unauthorized_body() { return R"({"error":"Unauthorized"})"; }

// Python's repr() of a float ("1.0", "-0.1", "1e+16", "nan"), so messages read as SGLang's.
std::string python_float(double v);

}  // namespace sgl::server
