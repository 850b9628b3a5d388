#include "server/protocol/input_embeds.h"

#include <fmt/format.h>

#include <cmath>

namespace sgl::server {
namespace {

using simdjson::dom::element_type;

bool is_number(element_type t) {
  return t == element_type::DOUBLE || t == element_type::INT64 || t == element_type::UINT64;
}

Result<PromptEmbeds> read_prompt(json::Array rows, std::string_view path, int64_t hidden_size,
                                 int64_t max_rows) {
  const auto n = static_cast<int64_t>(rows.size());
  if (n == 0) return invalid_argument(fmt::format("{}: input_embeds cannot be empty.", path));
  if (n > max_rows)
    return invalid_argument(
        fmt::format("{}: the input ({} tokens) is longer than the model's context length ({} tokens).", path,
                    n, max_rows));
  auto out = std::make_shared<std::vector<float>>();
  out->reserve(static_cast<size_t>(n * hidden_size));
  int64_t r = 0;
  for (json::Element row : rows) {
    if (row.type() != element_type::ARRAY)
      return json::type_error(fmt::format("{}.{}", path, r), "a list of numbers (one embedding)");
    json::Array values = row.get_array().value_unsafe();
    if (static_cast<int64_t>(values.size()) != hidden_size)
      return invalid_argument(fmt::format("{}.{}: an embedding of {} numbers, the model's hidden size is {}.",
                                          path, r, values.size(), hidden_size));
    for (json::Element v : values) {
      if (!is_number(v.type())) return json::type_error(fmt::format("{}.{}", path, r), "a list of numbers");
      const double d = v.get_double().value_unsafe();
      const auto f = static_cast<float>(d);
      if (!std::isfinite(f))
        return invalid_argument(fmt::format("{}.{}: {} is not a finite float32.", path, r, d));
      out->push_back(f);
    }
    ++r;
  }
  return PromptEmbeds(std::move(out));
}

}  // namespace

Result<InputEmbeds> read_input_embeds(json::Element el, int64_t hidden_size, int64_t max_rows) {
  if (el.type() != element_type::ARRAY)
    return json::type_error("input_embeds", "a list of embeddings ([seq][hidden] or [batch][seq][hidden])");
  json::Array outer = el.get_array().value_unsafe();
  if (outer.size() == 0) return invalid_argument("input_embeds cannot be empty.");
  InputEmbeds out;
  json::Element first = outer.at(0).value_unsafe();
  // SGLang tells one prompt from a batch by whether input_embeds[0][0] is a number.
  if (first.type() == element_type::ARRAY && first.get_array().value_unsafe().size() > 0 &&
      first.get_array().value_unsafe().at(0).value_unsafe().type() == element_type::ARRAY) {
    out.batch = true;
    size_t i = 0;
    for (json::Element prompt : outer) {
      const std::string path = fmt::format("input_embeds.{}", i++);
      if (prompt.type() != element_type::ARRAY) return json::type_error(path, "a list of embeddings");
      SGL_ASSIGN_OR_RETURN(PromptEmbeds p,
                           read_prompt(prompt.get_array().value_unsafe(), path, hidden_size, max_rows));
      out.prompts.push_back(std::move(p));
    }
    return out;
  }
  SGL_ASSIGN_OR_RETURN(PromptEmbeds p, read_prompt(outer, "input_embeds", hidden_size, max_rows));
  out.prompts.push_back(std::move(p));
  return out;
}

}  // namespace sgl::server
