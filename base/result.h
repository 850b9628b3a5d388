// Errors that cross a layer boundary travel as values: Result<T> holds a T or an Error.
// The HTTP layer maps Error::code to a status and the API's error shape in one place.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace sgl {

enum class ErrorCode {
  kInvalidArgument,    // bad input from a client → 400
  kNotFound,           // missing file / tensor / route target → 404 on HTTP, load error elsewhere
  kUnsupported,        // a feature, architecture or format not implemented → 400 / load error
  kResourceExhausted,  // queue full, out of KV → 503
  kUnavailable,        // not ready, shutting down → 503
  kAborted,            // request aborted
  kIo,                 // file or socket I/O failed
  kCorrupt,            // malformed file contents
  kInternal,           // a bug or engine failure → 500
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error invalid_argument(std::string msg) { return {ErrorCode::kInvalidArgument, std::move(msg)}; }
inline Error not_found(std::string msg) { return {ErrorCode::kNotFound, std::move(msg)}; }
inline Error unsupported(std::string msg) { return {ErrorCode::kUnsupported, std::move(msg)}; }
inline Error corrupt(std::string msg) { return {ErrorCode::kCorrupt, std::move(msg)}; }
inline Error io_error(std::string msg) { return {ErrorCode::kIo, std::move(msg)}; }
inline Error internal_error(std::string msg) { return {ErrorCode::kInternal, std::move(msg)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error take_error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Status: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return err_; }
  Error take_error() && { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};
using Status = Result<void>;
inline Status ok_status() { return {}; }

}  // namespace sgl

// SGL_TRY(expr): return the error of a failed Result/Status from the enclosing function.
#define SGL_CONCAT_INNER(a, b) a##b
#define SGL_CONCAT(a, b) SGL_CONCAT_INNER(a, b)
#define SGL_TRY(expr)                                         \
  do {                                                        \
    auto&& sgl_try_r = (expr);                                \
    if (!sgl_try_r.ok()) return std::move(sgl_try_r).take_error(); \
  } while (0)
// SGL_ASSIGN_OR_RETURN(lhs, expr): lhs = value of expr, or return its error.
#define SGL_ASSIGN_OR_RETURN(lhs, expr) SGL_ASSIGN_OR_RETURN_IMPL(SGL_CONCAT(sgl_r_, __LINE__), lhs, expr)
#define SGL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)            \
  auto tmp = (expr);                                          \
  if (!tmp.ok()) return std::move(tmp).take_error();          \
  lhs = std::move(tmp).value()
