#include "server/text/chat_template.h"

#include "server/text/jinja/interpreter.h"
#include "server/text/jinja/parser.h"

namespace sgl::text {

using jinja::Value;

struct ChatTemplate::Impl {
  jinja::Body body;
  jinja::RenderOptions options;
};

ChatTemplate::ChatTemplate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChatTemplate::~ChatTemplate() = default;

Result<std::shared_ptr<const ChatTemplate>> ChatTemplate::create(std::string_view source) {
  auto impl = std::make_unique<Impl>();
  SGL_ASSIGN_OR_RETURN(impl->body, jinja::parse_template(source));
  struct Made : ChatTemplate {
    explicit Made(std::unique_ptr<Impl> i) : ChatTemplate(std::move(i)) {}
  };
  return std::shared_ptr<const ChatTemplate>(std::make_shared<Made>(std::move(impl)));
}

void ChatTemplate::set_clock(std::function<std::string(const std::string&)> strftime_now) {
  impl_->options.strftime_now = std::move(strftime_now);
}

namespace {

// SGLang's preprocessing before apply_chat_template.
void normalise_messages(Value& ctx) {
  const Value* msgs = ctx.obj->find("messages");
  if (!msgs || !msgs->is_array()) return;
  for (Value& m : *msgs->arr) {
    if (!m.is_object()) continue;
    const Value* content = m.obj->find("content");
    if (content && content->is_array()) {
      std::string joined;
      for (const auto& part : *content->arr)
        if (part.is_object())
          if (const Value* t = part.obj->find("text"); t && t->is_string()) joined += t->s;
      m.obj->set("content", Value::string(joined));
    }
    const Value* calls = m.obj->find("tool_calls");
    if (calls && calls->is_array()) {
      for (Value& call : *calls->arr) {
        if (!call.is_object()) continue;
        const Value* fn = call.obj->find("function");
        if (!fn || !fn->is_object()) continue;
        const Value* args = fn->obj->find("arguments");
        if (args && args->is_string()) {
          auto parsed = jinja::from_json(args->s);
          if (parsed.ok()) fn->obj->set("arguments", *parsed);
        }
      }
    }
  }
}

}  // namespace

Result<std::string> ChatTemplate::render(std::string_view context_json) const {
  SGL_ASSIGN_OR_RETURN(Value ctx, jinja::from_json(context_json));
  if (!ctx.is_object()) return invalid_argument("chat template context must be a JSON object");
  normalise_messages(ctx);
  return jinja::render(impl_->body, ctx, impl_->options);
}

}  // namespace sgl::text
