// SGLang's /generate answers: {"text","output_ids","meta_info":{...}} and lists of them.
#pragma once

#include <string>
#include <vector>

#include "server/protocol/output_types.h"

namespace sgl::server {

std::string generate_output_json(const GenerateOutput& out);
std::string generate_outputs_json(const std::vector<GenerateOutput>& outs);  // a JSON list

}  // namespace sgl::server
