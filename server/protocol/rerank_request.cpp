#include "server/protocol/rerank_request.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

namespace sgl::server {

namespace {
bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}
}  // namespace

Result<RerankRequest> parse_rerank_request(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid_argument("The request body must be a JSON object");
  RerankRequest r;
  if (!j.contains("query") || !j["query"].is_string())
    return invalid_argument("Field 'query' is required and must be a string");
  r.query = j["query"].get<std::string>();
  if (r.query.empty()) return invalid_argument("Query cannot be empty");
  if (blank(r.query)) return invalid_argument("Query cannot be empty or whitespace only");
  if (!j.contains("documents") || !j["documents"].is_array())
    return invalid_argument("Field 'documents' is required and must be a list of strings");
  if (j["documents"].empty()) return invalid_argument("Documents cannot be empty");
  for (const auto& d : j["documents"]) {
    if (!d.is_string()) return invalid_argument("Field 'documents' must be a list of strings");
    std::string s = d.get<std::string>();
    if (s.empty()) return invalid_argument("Each document must be a non-empty string");
    if (blank(s)) return invalid_argument("Each document cannot be empty or whitespace only");
    r.documents.push_back(std::move(s));
  }
  if (j.contains("instruct") && !j["instruct"].is_null()) {
    if (!j["instruct"].is_string()) return invalid_argument("Field 'instruct' must be a string");
    r.instruct = j["instruct"].get<std::string>();
  }
  if (j.contains("top_n") && !j["top_n"].is_null()) {
    if (!j["top_n"].is_number_integer() || j["top_n"].get<int64_t>() < 1)
      return invalid_argument("top_n must be a positive integer");
    r.top_n = j["top_n"].get<int64_t>();
  }
  if (j.contains("return_documents") && !j["return_documents"].is_null()) {
    if (!j["return_documents"].is_boolean())
      return invalid_argument("Field 'return_documents' must be a boolean");
    r.return_documents = j["return_documents"].get<bool>();
  }
  if (j.contains("model") && j["model"].is_string()) r.model = j["model"].get<std::string>();
  return r;
}

std::string qwen3_reranker_prompt(const std::string& query, const std::string& document,
                                  const std::optional<std::string>& instruct) {
  return "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
         "Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n"
         "<|im_start|>user\n<Instruct>: " +
         instruct.value_or("Given a web search query, retrieve relevant passages that answer the query.") +
         "\n<Query>: " + query + "\n<Document>: " + document + "<|im_end|>\n<|im_start|>assistant\n";
}

double yes_no_score(std::optional<double> yes_logprob, std::optional<double> no_logprob) {
  if (!yes_logprob) return 0.0;
  if (!no_logprob) return 1.0;
  // Softmax over the two, shifted by the larger for range.
  const double m = std::max(*yes_logprob, *no_logprob);
  const double y = std::exp(*yes_logprob - m), n = std::exp(*no_logprob - m);
  return y / (y + n);
}

double classifier_score(const std::vector<float>& logits) { return logits.empty() ? 0.0 : logits.back(); }

std::string rerank_response_json(std::vector<RerankResult> results, const RerankRequest& req) {
  std::stable_sort(results.begin(), results.end(),
                   [](const RerankResult& a, const RerankResult& b) { return a.score > b.score; });
  if (req.top_n && static_cast<size_t>(*req.top_n) < results.size())
    results.resize(static_cast<size_t>(*req.top_n));
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json e;
    e["score"] = r.score;
    if (req.return_documents) e["document"] = req.documents.at(r.index);
    e["index"] = r.index;
    e["meta_info"] = {{"id", r.rid},
                      {"finish_reason", nullptr},
                      {"prompt_tokens", r.prompt_tokens},
                      {"cached_tokens", r.cached_tokens}};
    arr.push_back(std::move(e));
  }
  return arr.dump();
}

}  // namespace sgl::server
