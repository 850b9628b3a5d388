// The real Qwen3 chat template (../shared/models/qwen3-tokenizer), with a fixed clock so that a
// rendering depends on its input alone; null without ../shared. Shared by the jinja and chat_request
// targets.
#pragma once

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "fuzz_util.h"
#include "server/text/chat_template.h"

namespace sgl::fuzz {

inline std::shared_ptr<const text::ChatTemplate> qwen3_template() {
  static const std::shared_ptr<const text::ChatTemplate> tmpl =
      []() -> std::shared_ptr<const text::ChatTemplate> {
    if (shared_dir().empty()) return nullptr;
    std::ifstream f(shared_dir() + "/models/qwen3-tokenizer/tokenizer_config.json");
    std::stringstream ss;
    ss << f.rdbuf();
    auto cfg = nlohmann::json::parse(ss.str(), nullptr, false);
    if (!cfg.is_object() || !cfg.contains("chat_template") || !cfg["chat_template"].is_string())
      return nullptr;
    auto t = text::ChatTemplate::create(cfg["chat_template"].get<std::string>());
    if (!t.ok()) return nullptr;
    auto made = std::const_pointer_cast<text::ChatTemplate>(*t);
    made->set_clock([](const std::string&) { return std::string("26 Jul 2024"); });
    return made;
  }();
  return tmpl;
}

}  // namespace sgl::fuzz
