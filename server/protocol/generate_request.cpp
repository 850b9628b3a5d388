#include "server/protocol/generate_request.h"

#include <fmt/format.h>

#include "server/protocol/api_error.h"
#include "server/protocol/lora_specs.h"
#include "server/protocol/request_id.h"

namespace sgl::server {
namespace {

using simdjson::dom::element_type;

Error invalid(std::string msg) { return invalid_argument(std::move(msg)); }

Result<std::vector<int32_t>> read_ids(json::Element el, std::string_view path, const RequestLimits& limits) {
  SGL_ASSIGN_OR_RETURN(std::vector<int64_t> raw, json::as_int_list(el, path));
  if (raw.empty()) return invalid("input_ids cannot be empty.");
  std::vector<int32_t> ids;
  ids.reserve(raw.size());
  for (int64_t v : raw) {
    if (v < 0 || v >= limits.vocab_size)
      return invalid(
          fmt::format("Token id {} in {} is outside the vocabulary [0, {}).", v, path, limits.vocab_size));
    ids.push_back(int32_t(v));
  }
  return ids;
}

// text: str | [str]; input_ids: [int] | [[int]]. Returns whether the input was a batch.
Result<bool> read_prompts(json::Object body, const RequestLimits& limits, std::vector<PromptInput>& prompts) {
  auto text = json::find(body, "text");
  auto ids = json::find(body, "input_ids");
  if (!text && !ids) {
    // SGLang uses input_embeds only when neither text nor input_ids is given.
    auto embeds = json::find(body, "input_embeds");
    if (!embeds) return invalid("At least one of text, input_ids, or image should be provided");
    if (limits.hidden_size <= 0) return invalid("input_embeds is not supported by this model.");
    SGL_ASSIGN_OR_RETURN(InputEmbeds in,
                         read_input_embeds(*embeds, limits.hidden_size, limits.context_length));
    const bool batch = in.batch;
    append_embeds_prompts(std::move(in), limits.hidden_size, prompts);
    return batch;
  }
  if (text && ids) return invalid("text and input_ids cannot be provided at the same time");
  if (text) {
    if (text->type() == element_type::STRING) {
      SGL_ASSIGN_OR_RETURN(std::string s, json::as_string(*text, "text"));
      if (s.empty()) return invalid("text cannot be empty.");
      prompts.push_back({false, std::move(s), {}, {}});
      return false;
    }
    if (text->type() != element_type::ARRAY)
      return json::type_error("text", "a valid string or list of strings");
    size_t i = 0;
    for (json::Element item : json::Array(text->get_array().value_unsafe())) {
      SGL_ASSIGN_OR_RETURN(std::string s, json::as_string(item, fmt::format("text.{}", i++)));
      if (s.empty()) return invalid("text cannot be empty.");
      prompts.push_back({false, std::move(s), {}, {}});
    }
    if (prompts.empty()) return invalid("text cannot be an empty list.");
    return true;
  }
  if (ids->type() != element_type::ARRAY) return json::type_error("input_ids", "a valid list of integers");
  auto arr = ids->get_array().value_unsafe();
  if (arr.size() == 0) return invalid("input_ids cannot be empty.");
  json::Element first = arr.at(0).value_unsafe();
  if (first.type() != element_type::ARRAY) {
    SGL_ASSIGN_OR_RETURN(std::vector<int32_t> v, read_ids(*ids, "input_ids", limits));
    prompts.push_back({true, {}, std::move(v), {}});
    return false;
  }
  size_t i = 0;
  for (json::Element item : arr) {
    SGL_ASSIGN_OR_RETURN(std::vector<int32_t> v, read_ids(item, fmt::format("input_ids.{}", i++), limits));
    prompts.push_back({true, {}, std::move(v), {}});
  }
  return true;
}

Result<std::vector<SamplingParams>> read_sampling(json::Object body, size_t num_prompts,
                                                  const SamplingParams& defaults) {
  std::vector<SamplingParams> out;
  auto el = json::find(body, "sampling_params");
  if (!el) return std::vector<SamplingParams>(num_prompts, defaults);
  if (el->type() == element_type::OBJECT) {
    SGL_ASSIGN_OR_RETURN(SamplingParams p,
                         parse_sampling_params(el->get_object().value_unsafe(), "sampling_params", defaults));
    return std::vector<SamplingParams>(num_prompts, p);
  }
  if (el->type() != element_type::ARRAY)
    return json::type_error("sampling_params", "a valid dictionary or list");
  size_t i = 0;
  for (json::Element item : json::Array(el->get_array().value_unsafe())) {
    std::string path = fmt::format("sampling_params.{}", i++);
    SGL_ASSIGN_OR_RETURN(json::Object o, json::as_object(item, path));
    SGL_ASSIGN_OR_RETURN(SamplingParams p, parse_sampling_params(o, path, defaults));
    out.push_back(std::move(p));
  }
  if (out.size() != num_prompts)
    return invalid(fmt::format("The sampling_params list has {} entries but the batch has {} prompts.",
                               out.size(), num_prompts));
  return out;
}

Result<std::vector<std::string>> read_rids(json::Object body, size_t num_prompts, bool batch) {
  auto el = json::find(body, "rid");
  if (!el) return std::vector<std::string>{};
  if (el->type() == element_type::STRING) {
    std::string rid(el->get_string().value_unsafe());
    if (!batch) return std::vector<std::string>{rid};
    std::vector<std::string> rids;
    for (size_t i = 0; i < num_prompts; ++i) rids.push_back(fmt::format("{}_{}", rid, i));
    return rids;
  }
  SGL_ASSIGN_OR_RETURN(std::vector<std::string> rids, json::as_string_or_list(*el, "rid"));
  if (!batch || rids.size() != num_prompts)
    return invalid("The specified rids length mismatch with the batch_size for batch processing.");
  return rids;
}

// SGLang's SessionParams; without an id the request is an ordinary one (as SGLang's scheduler).
Result<std::optional<SessionParams>> read_session_params(json::Object body) {
  auto el = json::find(body, "session_params");
  if (!el) return std::optional<SessionParams>{};
  SGL_ASSIGN_OR_RETURN(json::Object o, json::as_object(*el, "session_params"));
  std::optional<std::string> id;
  SGL_TRY(json::read(o, "id", "session_params", id));
  if (!id) return std::optional<SessionParams>{};
  SessionParams p;
  p.id = *id;
  SGL_TRY(json::read(o, "rid", "session_params", p.rid));
  SGL_TRY(json::read(o, "offset", "session_params", p.offset));
  SGL_TRY(json::read(o, "replace", "session_params", p.replace));
  SGL_TRY(json::read(o, "drop_previous_output", "session_params", p.drop_previous_output));
  return std::optional<SessionParams>{std::move(p)};
}

// return_routed_experts: a bool, or one per prompt (SGLang-JAX); routed_experts_start_len (SGLang).
Status read_routed_experts(json::Object body, std::vector<GenerateItem>& items, size_t num_prompts) {
  std::vector<bool> per_prompt(num_prompts, false);
  if (auto el = json::find(body, "return_routed_experts"); el && el->type() == element_type::ARRAY) {
    size_t i = 0;
    for (json::Element item : json::Array(el->get_array().value_unsafe())) {
      SGL_ASSIGN_OR_RETURN(bool b, json::as_bool(item, fmt::format("return_routed_experts.{}", i)));
      if (i >= num_prompts)
        return invalid(
            fmt::format("return_routed_experts has more entries than the batch's {} prompts.", num_prompts));
      per_prompt[i++] = b;
    }
    if (i != num_prompts)
      return invalid(
          fmt::format("return_routed_experts has {} entries but the batch has {} prompts.", i, num_prompts));
  } else {
    bool all = false;
    SGL_TRY(json::read(body, "return_routed_experts", "", all));
    per_prompt.assign(num_prompts, all);
  }
  int64_t start = 0;
  SGL_TRY(json::read(body, "routed_experts_start_len", "", start));
  if (start < 0) return invalid(fmt::format("routed_experts_start_len must be at least 0, got {}.", start));
  for (auto& it : items)
    it.return_routed_experts = per_prompt[it.prompt_index], it.routed_experts_start_len = start;
  return ok_status();
}

Status read_logprob_options(json::Object body, const RequestLimits& limits, LogprobOptions& lp) {
  if (auto el = json::find(body, "return_logprob"); el && el->type() == element_type::ARRAY) {
    // A per-prompt list: any true asks for logprobs (the arrays are per output anyway).
    size_t i = 0;
    for (json::Element item : json::Array(el->get_array().value_unsafe())) {
      SGL_ASSIGN_OR_RETURN(bool b, json::as_bool(item, fmt::format("return_logprob.{}", i++)));
      lp.return_logprob = lp.return_logprob || b;
    }
  } else {
    SGL_TRY(json::read(body, "return_logprob", "", lp.return_logprob));
  }
  SGL_TRY(json::read(body, "logprob_start_len", "", lp.logprob_start_len));
  SGL_TRY(json::read(body, "top_logprobs_num", "", lp.top_logprobs_num));
  SGL_TRY(json::read(body, "return_text_in_logprobs", "", lp.return_text_in_logprobs));
  if (auto el = json::find(body, "token_ids_logprob")) {
    SGL_ASSIGN_OR_RETURN(std::vector<int64_t> ids, json::as_int_list(*el, "token_ids_logprob"));
    for (int64_t id : ids) {
      if (id < 0 || id >= limits.vocab_size)
        return invalid(fmt::format("token_ids_logprob has id {} outside the vocabulary [0, {}).", id,
                                   limits.vocab_size));
      lp.token_ids_logprob.push_back(int32_t(id));
    }
  }
  if (lp.logprob_start_len < -1)
    return invalid(fmt::format("logprob_start_len must be -1 or at least 0, got {}.", lp.logprob_start_len));
  if (lp.top_logprobs_num < 0 || lp.top_logprobs_num > limits.vocab_size)
    return invalid(
        fmt::format("top_logprobs_num must be in [0, {}], got {}.", limits.vocab_size, lp.top_logprobs_num));
  return ok_status();
}

}  // namespace

void append_embeds_prompts(InputEmbeds in, int64_t hidden_size, std::vector<PromptInput>& prompts) {
  for (PromptEmbeds& e : in.prompts) {
    const auto rows = e->size() / static_cast<size_t>(hidden_size);
    prompts.push_back({true, {}, std::vector<int32_t>(rows, kInputEmbedsPlaceholderId), std::move(e)});
  }
}

void attach_prompt_embeds(GenerateRequest& req) {
  for (auto& it : req.items) it.input_embeds = req.prompts[it.prompt_index].embeds;
}

Status check_token_ids(const std::vector<int32_t>& ids, const RequestLimits& limits, std::string_view what) {
  for (int32_t id : ids)
    if (id < 0 || id >= limits.vocab_size)
      return invalid(
          fmt::format("Token id {} in {} is outside the vocabulary [0, {}).", id, what, limits.vocab_size));
  return ok_status();
}

Result<std::vector<GenerateItem>> expand_items(size_t num_prompts,
                                               const std::vector<SamplingParams>& per_prompt,
                                               const std::vector<std::string>& rids, const LogprobOptions& lp,
                                               const RequestLimits& limits) {
  const int64_t n = per_prompt.empty() ? 1 : per_prompt[0].n;
  for (const auto& p : per_prompt) {
    if (p.n != n)
      return invalid("The parallel_sample_num should be the same for all samples in sample params.");
    SGL_TRY(validate_sampling_params(p, limits));
  }
  if (num_prompts * size_t(n) > limits.max_batch)
    return invalid(fmt::format("A request may produce at most {} outputs, got {} prompts x n={}.",
                               limits.max_batch, num_prompts, n));
  std::vector<GenerateItem> items;
  items.reserve(num_prompts * size_t(n));
  for (size_t i = 0; i < num_prompts; ++i) {
    for (int64_t s = 0; s < n; ++s) {
      GenerateItem item;
      item.prompt_index = i;
      item.sample_index = s;
      // With n > 1 every sample gets a fresh id, as SGLang-JAX does.
      // An empty rid is no id (it could not be aborted or told apart): a fresh one, as when absent.
      item.rid = (n == 1 && i < rids.size() && !rids[i].empty()) ? rids[i] : new_request_id();
      item.sampling = per_prompt[i];
      item.sampling.n = 1;
      item.logprob = lp;
      items.push_back(std::move(item));
    }
  }
  return items;
}

Result<GenerateRequest> parse_generate_request(std::string_view body, const RequestLimits& limits,
                                               const SamplingParams& defaults) {
  thread_local simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, body));
  SGL_ASSIGN_OR_RETURN(json::Object obj, json::as_object(root, "body"));
  GenerateRequest req;
  SGL_ASSIGN_OR_RETURN(bool batch, read_prompts(obj, limits, req.prompts));
  SGL_ASSIGN_OR_RETURN(std::vector<SamplingParams> sampling,
                       read_sampling(obj, req.prompts.size(), defaults));
  SGL_ASSIGN_OR_RETURN(std::vector<std::string> rids, read_rids(obj, req.prompts.size(), batch));
  LogprobOptions lp;
  SGL_TRY(read_logprob_options(obj, limits, lp));
  SGL_TRY(json::read(obj, "stream", "", req.stream));
  bool require_reasoning = false, return_hidden_states = false;
  SGL_TRY(json::read(obj, "require_reasoning", "", require_reasoning));
  SGL_TRY(json::read(obj, "return_hidden_states", "", return_hidden_states));
  SGL_ASSIGN_OR_RETURN(auto lora_paths, read_lora_paths(obj, req.prompts.size()));
  SGL_ASSIGN_OR_RETURN(req.items, expand_items(req.prompts.size(), sampling, rids, lp, limits));
  assign_lora_paths(lora_paths, req.items);
  for (auto& it : req.items)
    it.require_reasoning = require_reasoning, it.return_hidden_states = return_hidden_states,
    it.return_prompt_hidden = return_hidden_states;
  attach_prompt_embeds(req);
  SGL_TRY(read_routed_experts(obj, req.items, req.prompts.size()));
  req.list_response = batch || req.items.size() > req.prompts.size();
  SGL_ASSIGN_OR_RETURN(req.session, read_session_params(obj));
  if (req.session && req.items.size() != 1)
    return invalid(
        "session_params: a session request has one prompt and n = 1 (its turn continues one sequence).");
  if (req.session && req.prompts[0].embeds)
    return invalid("session_params: a session turn takes text or input_ids, not input_embeds.");
  return req;
}

}  // namespace sgl::server
