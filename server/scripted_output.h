// The `--test-scripted-output` hook: turns the flag's value into the token script that
// engine::ScriptedRunner forces onto every request, so end-to-end tests can make a tiny model
// "answer" with a tool call or a <think> block.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "server/text/tokenizer.h"

namespace sgl::server {

// "12,34,56" is a list of token ids; anything else is text, encoded without added special tokens
// (added tokens such as <tool_call> or <|im_end|> written in it are recognised). The tokenizer's
// EOS id is appended unless the script already ends with it, so each request stops after it.
Result<std::vector<int32_t>> scripted_output_tokens(std::string_view value, const text::Tokenizer& tok);

}  // namespace sgl::server
