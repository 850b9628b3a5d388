#include "engine/model_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/models/registry.h"

namespace sgl::engine {

using Json = nlohmann::json;

bool ModelConfig::is_moe_layer(int layer) const {
  if (num_experts <= 0) return false;
  if (std::find(mlp_only_layers.begin(), mlp_only_layers.end(), layer) != mlp_only_layers.end()) return false;
  return decoder_sparse_step > 0 && (layer + 1) % decoder_sparse_step == 0;
}

namespace {

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void add_eos(const Json& v, std::vector<int32_t>& out) {
  auto add = [&](int32_t id) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  if (v.is_number_integer()) add(v.get<int32_t>());
  if (v.is_array())
    for (const auto& e : v)
      if (e.is_number_integer()) add(e.get<int32_t>());
}

Result<DType> parse_dtype(const std::string& s, const std::string& source) {
  if (s == "bfloat16") return DType::kBF16;
  if (s == "float16" || s == "half") return DType::kF16;
  if (s == "float32" || s == "float") return DType::kF32;
  return unsupported(source + ": unsupported dtype '" + s + "'");
}

}  // namespace

namespace {
Result<ModelConfig> parse_model_config_json(std::string_view text, const std::string& source);

// A number no integer key can hold (an integer literal past int64 parses as a double): reading it
// as an int would be undefined behaviour (found by tests/fuzz/model_config_fuzz.cpp under UBSan), and
// no float key of a model config comes near 2^63 either.
bool has_number_beyond_int64(const Json& j) {
  if (j.is_number_float()) return !(std::abs(j.get<double>()) < 9.2e18);
  if (j.is_structured())
    for (const auto& x : j) {
      if (has_number_beyond_int64(x)) return true;
    }
  return false;
}
}  // namespace

// The readers use nlohmann's value()/get(), which throw on a key of the wrong type: a malicious or
// broken config.json must be a load error, never an exception out of the loader (found by
// tests/fuzz/model_config_fuzz.cpp: "tie_word_embeddings": "fp8").
Result<ModelConfig> parse_model_config(std::string_view text, const std::string& source) {
  try {
    return parse_model_config_json(text, source);
  } catch (const nlohmann::json::exception& e) {
    return corrupt(source + ": a key has the wrong type: " + e.what());
  }
}

namespace {
Result<ModelConfig> parse_model_config_json(std::string_view text, const std::string& source) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt(source + ": not a JSON object");
  if (has_number_beyond_int64(j)) return corrupt(source + ": a number is out of range");
  ModelConfig c;
  auto need_int = [&](const char* key, auto& dst) -> Status {
    if (!j.contains(key) || !j[key].is_number_integer())
      return corrupt(source + ": missing or non-integer '" + key + "'");
    dst = j[key].get<std::remove_reference_t<decltype(dst)>>();
    return {};
  };
  if (!j.contains("architectures") || !j["architectures"].is_array() || j["architectures"].empty() ||
      !j["architectures"][0].is_string())
    return corrupt(source + ": missing 'architectures'");
  c.architecture = j["architectures"][0].get<std::string>();
  c.model_type = j.value("model_type", std::string());
  SGL_TRY(need_int("vocab_size", c.vocab_size));
  SGL_TRY(need_int("hidden_size", c.hidden_size));
  SGL_TRY(need_int("num_hidden_layers", c.num_layers));
  SGL_TRY(need_int("num_attention_heads", c.num_heads));
  if (j.contains("intermediate_size")) SGL_TRY(need_int("intermediate_size", c.intermediate_size));
  c.num_kv_heads = c.num_heads;
  if (j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null())
    SGL_TRY(need_int("num_key_value_heads", c.num_kv_heads));
  c.head_dim = static_cast<int>(c.hidden_size / std::max(c.num_heads, 1));
  if (j.contains("head_dim") && !j["head_dim"].is_null()) SGL_TRY(need_int("head_dim", c.head_dim));
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 ||
      c.num_kv_heads <= 0 || c.head_dim <= 0 || c.num_heads % c.num_kv_heads != 0)
    return corrupt(source + ": inconsistent sizes (heads, kv heads, head_dim, layers)");
  c.rms_norm_eps = j.value("rms_norm_eps", 1e-6);
  c.max_position_embeddings = j.value("max_position_embeddings", int64_t{4096});
  c.tie_word_embeddings = j.value("tie_word_embeddings", false);
  c.attention_bias = j.value("attention_bias", false);
  c.mlp_bias = j.value("mlp_bias", false);
  std::string dtype = j.contains("dtype") && j["dtype"].is_string() ? j["dtype"].get<std::string>()
                      : j.contains("torch_dtype") && j["torch_dtype"].is_string()
                          ? j["torch_dtype"].get<std::string>()
                          : "bfloat16";
  SGL_ASSIGN_OR_RETURN(c.dtype, parse_dtype(dtype, source));

  // RoPE: transformers-5 keeps theta and scaling in `rope_parameters`; older configs use
  // `rope_theta` and `rope_scaling`.
  c.rope.rotary_dim = c.head_dim;
  c.rope.theta = j.value("rope_theta", 10000.0);
  const Json* scaling = nullptr;
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) scaling = &j["rope_parameters"];
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) scaling = &j["rope_scaling"];
  if (scaling != nullptr) {
    const Json& s = *scaling;
    if (s.contains("rope_theta") && s["rope_theta"].is_number()) c.rope.theta = s["rope_theta"].get<double>();
    std::string type = s.contains("rope_type") && s["rope_type"].is_string()
                           ? s["rope_type"].get<std::string>()
                       : s.contains("type") && s["type"].is_string() ? s["type"].get<std::string>()
                                                                     : "default";
    if (type != "default" && type != "linear" && type != "llama3")
      return unsupported(source + ": rope scaling type '" + type +
                         "' is not supported (default, linear, llama3)");
    c.rope.scaling_type = type;
    c.rope.factor = s.value("factor", 1.0);
    c.rope.low_freq_factor = s.value("low_freq_factor", 1.0);
    c.rope.high_freq_factor = s.value("high_freq_factor", 4.0);
    c.rope.original_max_position = s.value("original_max_position_embeddings", int64_t{8192});
  }
  if (j.contains("partial_rotary_factor") && j["partial_rotary_factor"].is_number())
    c.rope.rotary_dim = static_cast<int64_t>(c.head_dim * j["partial_rotary_factor"].get<double>());

  // MoE: `num_experts` (Qwen3-MoE) or `num_local_experts` (transformers-5 naming).
  if (j.contains("num_experts") && j["num_experts"].is_number_integer())
    c.num_experts = j["num_experts"].get<int>();
  if (j.contains("num_local_experts") && j["num_local_experts"].is_number_integer())
    c.num_experts = j["num_local_experts"].get<int>();
  c.num_experts_per_tok = j.value("num_experts_per_tok", 0);
  c.moe_intermediate_size = j.value("moe_intermediate_size", int64_t{0});
  c.norm_topk_prob = j.value("norm_topk_prob", true);
  c.decoder_sparse_step = j.value("decoder_sparse_step", 1);
  if (j.contains("mlp_only_layers") && j["mlp_only_layers"].is_array())
    for (const auto& l : j["mlp_only_layers"])
      if (l.is_number_integer()) c.mlp_only_layers.push_back(l.get<int>());
  if (c.num_experts > 0 &&
      (c.num_experts_per_tok <= 0 || c.num_experts_per_tok > c.num_experts || c.moe_intermediate_size <= 0))
    return corrupt(source + ": inconsistent MoE sizes");

  if (j.contains("eos_token_id")) add_eos(j["eos_token_id"], c.eos_token_ids);
  if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer())
    c.bos_token_id = j["bos_token_id"].get<int32_t>();
  // The family's own keys (and its departures from the names above).
  SGL_TRY(read_family_config(j, source, c));
  if (j.contains("quantization_config") && !j["quantization_config"].is_null()) {
    SGL_ASSIGN_OR_RETURN(c.quant, parse_quant_config(j["quantization_config"].dump(), source));
  }
  return c;
}
}  // namespace

Result<ModelConfig> load_model_config(const std::string& path, std::string_view overrides) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool is_dir = fs::is_directory(path, ec);
  std::string config_path = is_dir ? path + "/config.json" : path;
  SGL_ASSIGN_OR_RETURN(std::string text, read_file(config_path));
  if (!overrides.empty() && overrides != "{}") {
    const Json patch = Json::parse(overrides.begin(), overrides.end(), nullptr, false);
    if (!patch.is_object())
      return invalid_argument("--json-model-override-args must be a JSON object, got: " +
                              std::string(overrides));
    Json j = Json::parse(text, nullptr, false);
    if (!j.is_object()) return corrupt(config_path + ": not a JSON object");
    for (const auto& [key, value] : patch.items()) j[key] = value;  // SGLang: config.update(overrides)
    text = j.dump();
  }
  SGL_ASSIGN_OR_RETURN(ModelConfig c, parse_model_config(text, config_path));
  if (is_dir && fs::exists(path + "/generation_config.json", ec)) {
    auto gen = read_file(path + "/generation_config.json");
    if (gen.ok()) {
      Json g = Json::parse(*gen, nullptr, false);
      if (g.is_object()) {
        if (g.contains("eos_token_id")) add_eos(g["eos_token_id"], c.eos_token_ids);
        if (g.contains("temperature") && g["temperature"].is_number())
          c.default_temperature = g["temperature"].get<double>();
        if (g.contains("top_p") && g["top_p"].is_number()) c.default_top_p = g["top_p"].get<double>();
        if (g.contains("top_k") && g["top_k"].is_number_integer()) c.default_top_k = g["top_k"].get<int>();
      }
    }
  }
  return c;
}

}  // namespace sgl::engine
