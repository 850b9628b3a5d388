// POST /generate_from_file: SGLang's upload of a prompt as embeddings. The multipart field `file`
// holds JSON input_embeds ([seq][hidden], or a batch of them); the answer is /generate's, with
// SGLang's fixed sampling (greedy, 512 new tokens).
#include <simdjson.h>

#include "server/protocol/form_data.h"
#include "server/protocol/input_embeds.h"
#include "server/routes/route_util.h"
#include "server/routes/routes.h"

namespace sgl::server {
namespace {

Result<GenerateRequest> parse_upload(const App& app, const net::Request& http) {
  SGL_ASSIGN_OR_RETURN(std::string_view file,
                       form_data_field(http.header("Content-Type"), http.body, "file"));
  if (app.limits.hidden_size <= 0) return invalid_argument("input_embeds is not supported by this model.");
  simdjson::dom::parser parser;
  SGL_ASSIGN_OR_RETURN(json::Element root, json::parse_body(parser, file));
  SGL_ASSIGN_OR_RETURN(InputEmbeds in,
                       read_input_embeds(root, app.limits.hidden_size, app.limits.context_length));
  GenerateRequest req;
  const bool batch = in.batch;
  append_embeds_prompts(std::move(in), app.limits.hidden_size, req.prompts);
  SamplingParams sampling;  // SGLang's: {"temperature": 0.0, "max_new_tokens": 512}
  sampling.temperature = 0.0;
  sampling.max_new_tokens = 512;
  SGL_ASSIGN_OR_RETURN(
      req.items, expand_items(req.prompts.size(), std::vector<SamplingParams>(req.prompts.size(), sampling),
                              {}, LogprobOptions{}, app.limits));
  attach_prompt_embeds(req);
  req.list_response = batch;
  return req;
}

}  // namespace

RouteResult handle_generate_from_file(App& app, net::Exchange& ex) {
  auto req = parse_upload(app, ex.request());
  if (!req.ok()) co_return native_error(req.error());
  co_return co_await serve_generate(app, ex, std::move(req).value());
}

}  // namespace sgl::server
