// SGLang's `structural_tag` structured output (response_format type "structural_tag", or
// sampling_params.structural_tag): free text in which every trigger must open one of the
// structures — its `begin`, a JSON value of its `schema`, its `end` — e.g. a function call the
// model may place anywhere in its answer.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace sgl::server {

// {"type":"structural_tag","structures":[{"begin","schema","end"}...],"triggers":[...]} → a PCRE2
// pattern (UTF, unanchored: the caller anchors it). Each `begin` must start with a trigger.
Result<std::string> structural_tag_to_regex(std::string_view tag_json);

}  // namespace sgl::server
