// Structured output at the token level: a request's rule on which tokens may come next (a regex, a
// JSON schema, a grammar). The server builds them (it has the tokenizer and the grammar engine);
// the sampler only asks and reports, so any backend that samples on the host honours them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

namespace sgl::engine {

class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // Whether `token` may come next. The sampler asks about candidates in descending probability
  // order, so an allowed token is usually found after a few calls.
  virtual bool allows(int32_t token) = 0;
  // The sampler chose `token` (always one `allows` accepted, or fallback_token()).
  virtual void accept(int32_t token) = 0;
  // What to emit when no token is allowed (a stop token of the request); -1 when none.
  virtual int32_t fallback_token() const = 0;
};

// Makes one constraint per sample of a request (each sample advances its own state).
class TokenConstraintFactory {
 public:
  virtual ~TokenConstraintFactory() = default;
  // stop_ids: the tokens allowed once the constrained text is complete. The scheduler ends a
  // constrained request on any of them, whatever min_new_tokens or ignore_eos say (SGLang: the
  // grammar terminated).
  virtual std::unique_ptr<TokenConstraint> make(std::span<const int32_t> stop_ids) const = 0;
};

}  // namespace sgl::engine
