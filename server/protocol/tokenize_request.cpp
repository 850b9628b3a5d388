#include "server/protocol/tokenize_request.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "server/protocol/api_error.h"
#include "server/protocol/json_fields.h"

namespace sgl::server {
namespace {

using nlohmann::ordered_json;
using simdjson::dom::element_type;

Result<json::Object> body_object(simdjson::dom::parser& parser, std::string_view body) {
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  return json::as_object(root, "body");
}

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace

Result<TokenizeRequest> parse_tokenize_request(std::string_view body) {
  simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Object obj, body_object(parser, body));
  TokenizeRequest req;
  auto prompt = json::find(obj, "prompt");
  if (!prompt) return bad_body("prompt: Field required");
  req.batch = prompt->type() == element_type::ARRAY;
  SGL_ASSIGN_OR_RETURN(req.prompts, json::as_string_or_list(*prompt, "prompt"));
  if (auto st = json::read(obj, "add_special_tokens", "", req.add_special_tokens); !st.ok())
    return st.error();
  std::string model;
  if (auto st = json::read(obj, "model", "", model); !st.ok()) return st.error();
  return req;
}

std::string tokenize_response_json(const std::vector<std::vector<int32_t>>& ids, bool batch,
                                   int64_t max_model_len) {
  ordered_json j;
  if (batch) {
    ordered_json counts = ordered_json::array();
    for (const auto& one : ids) counts.push_back(one.size());
    j["tokens"] = ids;
    j["count"] = std::move(counts);
  } else {
    j["tokens"] = ids.empty() ? std::vector<int32_t>{} : ids[0];
    j["count"] = ids.empty() ? 0 : ids[0].size();
  }
  j["max_model_len"] = max_model_len;
  return dump(j);
}

Result<DetokenizeRequest> parse_detokenize_request(std::string_view body) {
  simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Object obj, body_object(parser, body));
  DetokenizeRequest req;
  auto tokens = json::find(obj, "tokens");
  if (!tokens) return bad_body("tokens: Field required");
  if (tokens->type() != element_type::ARRAY)
    return json::type_error("tokens", "a valid list of integers or a list of lists of integers");
  json::Array items = tokens->get_array().value_unsafe();
  // The first element decides the shape, as SGLang's handler does; a mix is refused below.
  req.batch = items.size() > 0 && (*items.begin()).type() == element_type::ARRAY;
  if (req.batch) {
    size_t i = 0;
    for (json::Element item : items) {
      SGL_ASSIGN_OR_RETURN(auto ids, json::as_int_list(item, fmt::format("tokens.{}", i++)));
      req.tokens.push_back(std::move(ids));
    }
  } else {
    SGL_ASSIGN_OR_RETURN(auto ids, json::as_int_list(*tokens, "tokens"));
    req.tokens.push_back(std::move(ids));
  }
  if (auto st = json::read(obj, "skip_special_tokens", "", req.skip_special_tokens); !st.ok())
    return st.error();
  std::string model;
  if (auto st = json::read(obj, "model", "", model); !st.ok()) return st.error();
  return req;
}

Status check_token_ids(const DetokenizeRequest& req, int64_t vocab_size) {
  for (size_t s = 0; s < req.tokens.size(); ++s)
    for (int64_t id : req.tokens[s])
      if (id < 0 || id >= vocab_size)
        return invalid_argument(fmt::format(
            "Error decoding tokens: token id {} is outside the vocabulary (0 to {}). Input tokens might be "
            "invalid for the model.",
            id, vocab_size - 1));
  return ok_status();
}

std::string detokenize_response_json(const std::vector<std::string>& texts, bool batch) {
  ordered_json j;
  if (batch)
    j["text"] = texts;
  else
    j["text"] = texts.empty() ? std::string() : texts[0];
  return dump(j);
}

}  // namespace sgl::server
