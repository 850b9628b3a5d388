#include "server/protocol/score_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "server/protocol/json_fields.h"

namespace sgl::server {

namespace {

Result<std::vector<int32_t>> read_ids(json::Element el, std::string_view path, int64_t vocab_size) {
  SGL_ASSIGN_OR_RETURN(std::vector<int64_t> v, json::as_int_list(el, path));
  std::vector<int32_t> out;
  out.reserve(v.size());
  for (int64_t id : v) {
    if (id < 0 || id >= vocab_size)
      return invalid_argument(
          fmt::format("Token ID {} is out of vocabulary (vocab size: {})", id, vocab_size));
    out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

}  // namespace

std::string ScoreRequest::prompt_text(size_t i) const {
  return item_first ? item_texts[i] + query_text : query_text + item_texts[i];
}

std::vector<int32_t> ScoreRequest::prompt_ids(size_t i) const {
  const auto& a = item_first ? item_ids[i] : query_ids;
  const auto& b = item_first ? query_ids : item_ids[i];
  std::vector<int32_t> out(a);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Result<ScoreRequest> parse_score_request(std::string_view body, int64_t vocab_size) {
  thread_local simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  ScoreRequest r;
  SGL_TRY(json::read(obj, "model", "model", r.model));
  SGL_TRY(json::read(obj, "apply_softmax", "apply_softmax", r.apply_softmax));
  SGL_TRY(json::read(obj, "item_first", "item_first", r.item_first));
  auto labels = json::find(obj, "label_token_ids");
  if (!labels) return invalid_argument("label_token_ids must be provided");
  SGL_ASSIGN_OR_RETURN(r.label_token_ids, read_ids(*labels, "label_token_ids", vocab_size));
  auto items = json::find(obj, "items");
  if (!items) return invalid_argument("items must be provided");
  auto query = json::find(obj, "query");
  const bool text_query = !query || query->is_string();
  const Error mixed = invalid_argument("Invalid combination of query/items types for score_request.");
  if (items->is_string()) {
    if (!text_query) return mixed;
    r.item_texts.emplace_back(items->get_string().value_unsafe());
  } else if (items->is_array()) {
    json::Array arr = items->get_array().value_unsafe();
    size_t i = 0;
    for (json::Element it : arr) {
      const std::string path = fmt::format("items[{}]", i++);
      if (it.is_string()) {
        if (!text_query || r.is_ids) return mixed;
        r.item_texts.emplace_back(it.get_string().value_unsafe());
      } else if (it.is_array()) {
        if (text_query && query) return mixed;
        r.is_ids = true;
        SGL_ASSIGN_OR_RETURN(auto ids, read_ids(it, path, vocab_size));
        r.item_ids.push_back(std::move(ids));
      } else {
        return json::type_error(path, "a string or a list of token ids");
      }
    }
    if (!r.item_texts.empty() && r.is_ids) return mixed;
  } else {
    return json::type_error("items", "a string, a list of strings or a list of token-id lists");
  }
  if (query) {
    if (query->is_string()) {
      r.query_text = std::string(query->get_string().value_unsafe());
    } else if (query->is_array()) {
      if (!r.is_ids && r.num_items() > 0) return mixed;
      r.is_ids = true;
      SGL_ASSIGN_OR_RETURN(r.query_ids, read_ids(*query, "query", vocab_size));
    } else {
      return json::type_error("query", "a string or a list of token ids");
    }
  }
  return r;
}

std::vector<double> label_scores(const std::vector<std::optional<double>>& logprobs, bool apply_softmax) {
  std::vector<double> out(logprobs.size(), 0.0);
  if (!apply_softmax) {
    for (size_t i = 0; i < logprobs.size(); ++i)
      out[i] = logprobs[i] && std::isfinite(*logprobs[i]) ? std::exp(*logprobs[i]) : 0.0;
    return out;
  }
  double mx = -std::numeric_limits<double>::infinity();
  for (const auto& l : logprobs)
    if (l) mx = std::max(mx, *l);
  if (!std::isfinite(mx)) return out;
  double sum = 0;
  for (size_t i = 0; i < logprobs.size(); ++i)
    sum += out[i] = logprobs[i] ? std::exp(*logprobs[i] - mx) : 0.0;
  for (double& v : out) v /= sum;
  return out;
}

std::string score_response_json(const std::vector<std::vector<double>>& scores, const std::string& model,
                                int64_t prompt_tokens) {
  nlohmann::ordered_json j;
  j["scores"] = scores;
  j["model"] = model;
  j["usage"] = {{"prompt_tokens", prompt_tokens}, {"completion_tokens", 0}, {"total_tokens", prompt_tokens}};
  j["object"] = "scoring";
  return j.dump();
}

}  // namespace sgl::server
