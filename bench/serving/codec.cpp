#include "bench/serving/codec.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "server/text/chat_template.h"
#include "server/text/tokenizer.h"

namespace sgl::bench {

bool is_directory(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_directory(path, ec);
}

Result<TokenCodec> load_codec(const std::string& dir) {
  if (!is_directory(dir)) return not_found("tokenizer directory '" + dir + "' not found");
  SGL_ASSIGN_OR_RETURN(auto tok, text::Tokenizer::from_dir(dir));
  TokenCodec c;
  c.vocab_size = tok->base_vocab_size();
  c.encode = [tok](std::string_view s) {
    auto r = tok->encode(s);
    return r.ok() ? *r : std::vector<int32_t>{};
  };
  c.decode = [tok](std::span<const int32_t> ids) { return tok->decode(ids, {.skip_special_tokens = true}); };
  c.bos_token = tok->bos_token();
  // --apply-chat-template: one user message through the model's own template, as SGLang does;
  // the mooncake dataset renders whole conversations.
  if (!tok->chat_template().empty()) {
    SGL_ASSIGN_OR_RETURN(auto tmpl, text::ChatTemplate::create(tok->chat_template()));
    std::string bos = tok->bos_token(), eos = tok->eos_token();
    c.render_chat = [tmpl, bos, eos](const std::vector<std::pair<std::string, std::string>>& turns) {
      nlohmann::json messages = nlohmann::json::array();
      for (const auto& [role, content] : turns) messages.push_back({{"role", role}, {"content", content}});
      nlohmann::json ctx = {
          {"messages", messages}, {"add_generation_prompt", true}, {"bos_token", bos}, {"eos_token", eos}};
      auto r = tmpl->render(ctx.dump());
      return r.ok() ? *r : std::string();
    };
    c.apply_chat_template = [render = c.render_chat](const std::string& prompt) {
      std::string out = render({{"user", prompt}});
      return out.empty() ? prompt : out;
    };
  }
  return c;
}

}  // namespace sgl::bench
