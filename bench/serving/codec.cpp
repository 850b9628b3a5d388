#include "bench/serving/codec.h"

#include <filesystem>

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
  // TODO(chat-template): render with the model's Jinja template once server/text has the
  // interpreter; until then --apply-chat-template is refused by bench_serving.
  return c;
}

}  // namespace sgl::bench
