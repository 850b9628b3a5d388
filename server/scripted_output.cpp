#include "server/scripted_output.h"

#include <charconv>
#include <optional>

namespace sgl::server {
namespace {

// nullopt when `value` is not a plain comma-separated id list.
std::optional<std::vector<int32_t>> parse_id_list(std::string_view value) {
  std::vector<int32_t> ids;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view part = value.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    int32_t id = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), id);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || id < 0) return std::nullopt;
    ids.push_back(id);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return ids;
}

}  // namespace

Result<std::vector<int32_t>> scripted_output_tokens(std::string_view value, const text::Tokenizer& tok) {
  std::vector<int32_t> ids;
  if (auto list = parse_id_list(value)) {
    ids = std::move(*list);
  } else {
    SGL_ASSIGN_OR_RETURN(ids, tok.encode(value, /*add_special_tokens=*/false));
  }
  if (ids.empty()) return invalid_argument("--test-scripted-output: the script is empty");
  if (tok.eos_token_id() >= 0 && ids.back() != tok.eos_token_id()) ids.push_back(tok.eos_token_id());
  return ids;
}

}  // namespace sgl::server
