#include "server/protocol/embedding_request.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "server/protocol/base64.h"
#include "server/protocol/json_fields.h"

namespace sgl::server {

namespace {

Result<PromptInput> ids_input(json::Element el, std::string_view path, int64_t vocab_size) {
  SGL_ASSIGN_OR_RETURN(std::vector<int64_t> v, json::as_int_list(el, path));
  if (v.empty()) return invalid_argument(fmt::format("{}: the input is empty", path));
  PromptInput p;
  p.is_ids = true;
  for (int64_t id : v) {
    if (id < 0 || id >= vocab_size)
      return invalid_argument(
          fmt::format("Token id {} in {} is outside the vocabulary [0, {}).", id, path, vocab_size));
    p.ids.push_back(static_cast<int32_t>(id));
  }
  return p;
}

PromptInput text_input(json::Element el) {
  PromptInput p;
  p.text = std::string(el.get_string().value_unsafe());
  return p;
}

// A string, a list of strings, a list of ids or a list of id lists, into `out`; true when the
// value was a list of inputs (not one string or one id list).
Result<bool> read_inputs(json::Element el, std::string_view path, int64_t vocab_size,
                         std::vector<PromptInput>& out) {
  if (el.is_string()) {
    out.push_back(text_input(el));
    return false;
  }
  if (!el.is_array()) return json::type_error(path, "a string, a list of strings or a list of token ids");
  json::Array arr = el.get_array().value_unsafe();
  if (arr.size() == 0) return invalid_argument(fmt::format("{}: the input is empty", path));
  json::Element first = *arr.begin();
  if (first.is_int64() || first.is_uint64() || first.is_double()) {
    SGL_ASSIGN_OR_RETURN(PromptInput p, ids_input(el, path, vocab_size));
    out.push_back(std::move(p));
    return false;
  }
  size_t i = 0;
  for (json::Element it : arr) {
    const std::string p = fmt::format("{}[{}]", path, i++);
    if (it.is_string()) {
      out.push_back(text_input(it));
    } else if (it.is_array()) {
      SGL_ASSIGN_OR_RETURN(PromptInput ids, ids_input(it, p, vocab_size));
      out.push_back(std::move(ids));
    } else {
      return json::type_error(p, "a string or a list of token ids");
    }
  }
  return true;
}

Status read_dimensions(json::Object obj, int64_t hidden_size, std::optional<int64_t>& out) {
  SGL_TRY(json::read(obj, "dimensions", "dimensions", out));
  if (out && (*out < 1 || *out > hidden_size))
    return invalid_argument(fmt::format(
        "dimensions must be between 1 and the model's hidden size {}, got {}.", hidden_size, *out));
  return {};
}

}  // namespace

Result<EmbeddingRequest> parse_embedding_request(std::string_view body, int64_t vocab_size,
                                                 int64_t hidden_size) {
  thread_local simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  EmbeddingRequest r;
  auto input = json::find(obj, "input");
  if (!input) return invalid_argument("input: Field required");
  SGL_ASSIGN_OR_RETURN(r.batch, read_inputs(*input, "input", vocab_size, r.inputs));
  SGL_TRY(json::read(obj, "model", "model", r.model));
  std::string format = "float";
  SGL_TRY(json::read(obj, "encoding_format", "encoding_format", format));
  if (format != "float" && format != "base64")
    return invalid_argument("encoding_format must be 'float' or 'base64', got '" + format + "'.");
  r.base64 = format == "base64";
  SGL_TRY(read_dimensions(obj, hidden_size, r.dimensions));
  return r;
}

Result<EmbeddingRequest> parse_encode_request(std::string_view body, int64_t vocab_size,
                                              int64_t hidden_size) {
  thread_local simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  EmbeddingRequest r;
  auto text = json::find(obj, "text");
  auto ids = json::find(obj, "input_ids");
  if (text.has_value() == ids.has_value())
    return invalid_argument(text ? "text and input_ids cannot be provided at the same time"
                                 : "Either text or input_ids should be provided.");
  SGL_ASSIGN_OR_RETURN(r.batch,
                       read_inputs(text ? *text : *ids, text ? "text" : "input_ids", vocab_size, r.inputs));
  SGL_TRY(read_dimensions(obj, hidden_size, r.dimensions));
  return r;
}

std::vector<float> pool_embedding(const std::vector<float>& hidden, std::optional<int64_t> dimensions) {
  std::vector<float> v(hidden.begin(), hidden.begin() + static_cast<std::ptrdiff_t>(std::min<int64_t>(
                                                            dimensions.value_or(int64_t(hidden.size())),
                                                            int64_t(hidden.size()))));
  double sq = 0;
  for (float x : v) sq += double(x) * x;
  // torch.nn.functional.normalize's eps: x / max(‖x‖, 1e-12).
  const double inv = 1.0 / std::max(std::sqrt(sq), 1e-12);
  for (float& x : v) x = static_cast<float>(x * inv);
  return v;
}

std::string embeddings_response_json(const std::vector<std::vector<float>>& embeddings, bool base64,
                                     const std::string& model, int64_t prompt_tokens) {
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (size_t i = 0; i < embeddings.size(); ++i) {
    nlohmann::ordered_json e;
    e["object"] = "embedding";
    if (base64) {
      e["embedding"] = base64_of(embeddings[i]);
    } else {
      e["embedding"] = embeddings[i];
    }
    e["index"] = i;
    data.push_back(std::move(e));
  }
  nlohmann::ordered_json j;
  j["object"] = "list";
  j["data"] = std::move(data);
  j["model"] = model;
  j["usage"] = {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}};
  return j.dump();
}

std::string encode_response_json(const std::vector<EncodeResult>& results, bool batch) {
  auto one = [](const EncodeResult& r) {
    nlohmann::ordered_json j;
    j["embedding"] = r.embedding;
    j["meta_info"] = {{"id", r.rid},
                      {"finish_reason", nullptr},
                      {"prompt_tokens", r.prompt_tokens},
                      {"cached_tokens", r.cached_tokens}};
    return j;
  };
  if (!batch) return one(results.at(0)).dump();
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& r : results) arr.push_back(one(r));
  return arr.dump();
}

}  // namespace sgl::server
