// Chat templates the server carries itself, for models that ship none.
#include "server/text/chat_template.h"

namespace sgl::text {

namespace {

// ChatML as Qwen v1's make_context and SGLang's "chatml"/"qwen" conversation templates render it: a
// system turn always (the first message's when it is a system message, else the default), then
// every turn, then the assistant's header for the generation prompt.
constexpr std::string_view kChatML =
    "{%- if messages and messages[0]['role'] == 'system' -%}\n"
    "{%- set system_message = messages[0]['content'] if messages[0]['content'] is string else '' -%}\n"
    "{%- set loop_messages = messages[1:] -%}\n"
    "{%- else -%}\n"
    "{%- set system_message = 'You are a helpful assistant.' -%}\n"
    "{%- set loop_messages = messages -%}\n"
    "{%- endif -%}\n"
    "{{- '<|im_start|>system\\n' + system_message + '<|im_end|>\\n' -}}\n"
    "{%- for message in loop_messages -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "{%- if message['content'] is string -%}{{- message['content'] -}}{%- endif -%}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

}  // namespace

std::string_view builtin_chat_template(std::string_view name) {
  if (name == "chatml" || name == "qwen") return kChatML;
  return {};
}

}  // namespace sgl::text
