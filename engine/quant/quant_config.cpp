#include "engine/quant/quant_config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace sgl::engine {

namespace {
using Json = nlohmann::json;

int64_t int_of(const Json& j, const char* key, int64_t dflt) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : dflt;
}
}  // namespace

Result<QuantConfig> parse_quant_config(std::string_view text, const std::string& source) {
  QuantConfig q;
  if (text.empty()) return q;
  const Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_object()) return corrupt(source + ": quantization_config is not an object");
  q.name = j.value("quant_method", std::string());
  if (j.contains("modules_to_not_convert") && j["modules_to_not_convert"].is_array())
    for (const auto& m : j["modules_to_not_convert"])
      if (m.is_string()) q.modules_to_not_convert.push_back(m.get<std::string>());
  if (q.name == "fp8") {
    q.method = QuantConfig::Method::kFp8;
    if (j.contains("weight_block_size") && j["weight_block_size"].is_array() &&
        j["weight_block_size"].size() == 2) {
      q.block_n = j["weight_block_size"][0].get<int64_t>();
      q.block_k = j["weight_block_size"][1].get<int64_t>();
    } else {
      return unsupported(
          source + ": fp8 checkpoints without weight_block_size (per-tensor scales) are not supported yet");
    }
    if (q.block_n <= 0 || q.block_k <= 0) return corrupt(source + ": weight_block_size must be positive");
    const std::string fmt = j.value("fmt", std::string("e4m3"));
    if (fmt != "e4m3") return unsupported(source + ": fp8 weights in format '" + fmt + "' (only e4m3)");
    return q;
  }
  if (q.name == "awq" || q.name == "gptq") {
    q.method = q.name == "awq" ? QuantConfig::Method::kAwq : QuantConfig::Method::kGptq;
    q.bits = static_cast<int>(int_of(j, q.name == "awq" ? "bits" : "bits", 4));
    if (j.contains("w_bit")) q.bits = static_cast<int>(int_of(j, "w_bit", q.bits));  // AutoAWQ's own key
    q.group_size = int_of(j, "group_size", int_of(j, "q_group_size", 128));
    q.sym = j.value("sym", true);
    q.desc_act = j.value("desc_act", false);
    if (q.name == "awq" && q.bits != 4)
      return unsupported(fmt::format("{}: awq with {} bits (only 4)", source, q.bits));
    if (q.name == "gptq" && q.bits != 4 && q.bits != 8)
      return unsupported(fmt::format("{}: gptq with {} bits (4 or 8)", source, q.bits));
    if (q.name == "awq" && j.contains("zero_point") && j["zero_point"] == false)
      return unsupported(source + ": awq without zero points is not supported");
    if (j.contains("checkpoint_format") && j["checkpoint_format"] != "gptq")
      return unsupported(source + ": gptq checkpoint_format '" + j["checkpoint_format"].dump() +
                         "' (only gptq)");
    return q;
  }
  if (q.name == "compressed-tensors")
    return unsupported(source + ": compressed-tensors checkpoints are not supported yet");
  return unsupported(
      fmt::format("{}: quantization method '{}' is not supported (fp8, awq, gptq)", source, q.name));
}

Status check_quantization_flag(const QuantConfig& checkpoint, const std::string& flag) {
  if (flag.empty()) return {};
  if (checkpoint.quantized()) {
    // SGLang accepts the checkpoint's own method, and its Marlin / MoE variants of it.
    const bool same = flag == checkpoint.name || (checkpoint.name == "awq" && flag == "awq_marlin") ||
                      (checkpoint.name == "gptq" && flag == "gptq_marlin");
    if (!same)
      return invalid_argument(fmt::format(
          "Quantization method specified in the model config ({}) does not match the quantization method "
          "specified in the `quantization` argument ({}).",
          checkpoint.name, flag));
    return {};
  }
  return {};  // an unquantized checkpoint: online_quantization() decides
}

}  // namespace sgl::engine
