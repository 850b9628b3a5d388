// Jinja's binary operators on two evaluated operands, with Python's semantics (comparisons,
// membership, concatenation, int arithmetic that refuses to overflow, floor division and modulo,
// repetition, printf-style `%`). `and`/`or` short-circuit, so the renderer evaluates them itself.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "server/text/jinja/value.h"

namespace sgl::text::jinja {

// Bounds that keep a hostile template from exhausting memory (Python would raise MemoryError).
inline constexpr uint64_t kMaxValueBytes = 64u << 20;  // one string made by `*`, `~` or `+`
inline constexpr uint64_t kMaxListItems = 1u << 20;    // one list made by `*` or `+`

// The value of `l op r`; an error (its message, without a line) for operands the op refuses.
Result<Value> apply_binary_op(const std::string& op, const Value& l, const Value& r);

}  // namespace sgl::text::jinja
