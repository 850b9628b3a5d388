#include "engine/lora/lora_adapter.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <sstream>

#include "engine/cpu/kernels.h"
#include "engine/safetensors.h"

namespace sgl::engine {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::array<std::string_view, kNumLoraModules> kModuleNames = {
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

std::optional<LoraModule> module_of(std::string_view name) {
  for (int i = 0; i < kNumLoraModules; ++i)
    if (kModuleNames[i] == name) return static_cast<LoraModule>(i);
  return std::nullopt;
}

bool is_attention(LoraModule m) { return static_cast<int>(m) <= static_cast<int>(LoraModule::kO); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// PEFT's rank_pattern / alpha_pattern lookup (peft.utils.other.get_pattern_key): the first key
// that matches the end of the module's dotted name as a regex.
std::optional<double> pattern_value(const Json& patterns, const std::string& module_path) {
  if (!patterns.is_object()) return std::nullopt;
  for (const auto& [key, value] : patterns.items()) {
    if (!value.is_number()) continue;
    try {
      if (std::regex_match(module_path, std::regex("(.*\\.)?(" + key + ")"))) return value.get<double>();
    } catch (const std::regex_error&) {
      if (module_path == key || module_path.ends_with("." + key)) return value.get<double>();
    }
  }
  return std::nullopt;
}

struct AdapterConfig {
  int64_t r = 8;
  double alpha = 8;
  bool use_rslora = false;
  Json rank_pattern, alpha_pattern;
};

Result<AdapterConfig> read_adapter_config(const std::string& dir) {
  const std::string path = dir + "/adapter_config.json";
  if (!fs::is_regular_file(path)) return not_found(dir + " has no adapter_config.json (not a PEFT adapter)");
  Json j = Json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return corrupt(path + " is not a JSON object");
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  std::string type = str("peft_type");
  for (auto& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (type != "LORA")
    return unsupported(fmt::format("{}: peft_type '{}' is not LORA", path, str("peft_type")));
  if (j.value("use_dora", false) == true)
    return unsupported(path + ": DoRA adapters (use_dora) are not supported");
  if (j.value("fan_in_fan_out", false) == true)
    return unsupported(path + ": fan_in_fan_out adapters (Conv1D bases such as GPT-2) are not supported");
  if (const std::string bias = str("bias"); !bias.empty() && bias != "none")
    return unsupported(
        fmt::format("{}: bias '{}' (trained biases) is not supported; only bias 'none'", path, bias));
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null() &&
      !(j["modules_to_save"].is_array() && j["modules_to_save"].empty()))
    return unsupported(path + ": modules_to_save (fully trained modules beside LoRA) is not supported");
  AdapterConfig c;
  if (j.contains("r") && j["r"].is_number_integer()) c.r = j["r"].get<int64_t>();
  c.alpha = j.contains("lora_alpha") && j["lora_alpha"].is_number() ? j["lora_alpha"].get<double>()
                                                                    : static_cast<double>(c.r);
  c.use_rslora = j.value("use_rslora", false) == true;
  if (j.contains("rank_pattern")) c.rank_pattern = j["rank_pattern"];
  if (j.contains("alpha_pattern")) c.alpha_pattern = j["alpha_pattern"];
  if (c.r <= 0) return corrupt(fmt::format("{}: r must be positive (got {})", path, c.r));
  return c;
}

// A tensor name, without PEFT's "base_model.model." and the adapter name, split into its parts:
// model.layers.<L>.<self_attn|mlp>.<module>.lora_<A|B>.weight.
struct TensorKey {
  int layer = -1;
  LoraModule module = LoraModule::kQ;
  bool is_a = true;
};

Result<TensorKey> parse_tensor_name(const std::string& full, const ModelConfig& base,
                                    const std::string& file) {
  std::string n = full;
  if (n.starts_with("base_model.model.")) n = n.substr(17);
  static const std::regex re(
      R"(^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)\.lora_(A|B)(\.[A-Za-z0-9_]+)?\.weight$)");
  std::smatch m;
  auto refuse = [&](const std::string& why) {
    return unsupported(fmt::format("{}: tensor '{}' {}", file, full, why));
  };
  if (!std::regex_match(n, m, re)) {
    if (n.find("embed_tokens") != std::string::npos || n.find("lm_head") != std::string::npos)
      return refuse("adapts the embeddings or the LM head; only the decoder projections are supported");
    if (n.find(".experts.") != std::string::npos)
      return refuse("adapts MoE expert weights; only attention and dense MLP projections are supported");
    if (n.find("lora_magnitude_vector") != std::string::npos)
      return refuse("is DoRA's; DoRA is not supported");
    return refuse("is not a LoRA A/B matrix of q/k/v/o/gate/up/down_proj in a decoder layer");
  }
  TensorKey k;
  k.layer = std::stoi(m[1].str());
  const auto mod = module_of(m[3].str());
  if (!mod)
    return refuse(fmt::format("adapts module '{}'; supported: q/k/v/o/gate/up/down_proj", m[3].str()));
  k.module = *mod;
  if (is_attention(k.module) != (m[2].str() == "self_attn"))
    return refuse("names its module in the wrong block");
  k.is_a = m[4].str() == "A";
  if (k.layer >= base.num_layers)
    return refuse(fmt::format("is for layer {}, but the model has {} layers", k.layer, base.num_layers));
  if (!is_attention(k.module) && base.is_moe_layer(k.layer) && !base.residual_moe)
    return refuse(
        fmt::format("adapts the MLP of layer {}, which is a mixture of experts; adapters on expert "
                    "weights are not supported",
                    k.layer));
  return k;
}

std::vector<float> to_f32(const TensorView& v) {
  std::vector<float> out(static_cast<size_t>(v.numel()));
  cpu::convert_tensor(v.data, v.dtype, v.numel(), DType::kF32, out.data());
  return out;
}

}  // namespace

std::string_view lora_module_name(LoraModule m) { return kModuleNames[static_cast<int>(m)]; }

Result<LoraModuleSet> parse_lora_target_modules(const std::vector<std::string>& names) {
  LoraModuleSet set = 0;
  for (const auto& n : names) {
    if (n == "all" || n == "all-linear") {
      set = kAllLoraModules;
    } else if (n == "qkv_proj") {
      set |= 0b111u;
    } else if (n == "gate_up_proj") {
      set |= (1u << static_cast<int>(LoraModule::kGate)) | (1u << static_cast<int>(LoraModule::kUp));
    } else if (auto m = module_of(n)) {
      set |= 1u << static_cast<int>(*m);
    } else {
      return invalid_argument(fmt::format(
          "--lora-target-modules: unknown module '{}' (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
          "down_proj, qkv_proj, gate_up_proj, all)",
          n));
    }
  }
  return set;
}

std::vector<std::string> lora_module_names(LoraModuleSet set) {
  std::vector<std::string> out;
  for (int i = 0; i < kNumLoraModules; ++i)
    if (set & (1u << i)) out.emplace_back(kModuleNames[i]);
  return out;
}

int64_t LoraAdapter::bytes() const {
  int64_t n = 0;
  for (const auto& layer : layers)
    for (const auto& m : layer) n += static_cast<int64_t>((m.a.size() + m.b.size()) * sizeof(float));
  return n;
}

LoraModuleShape lora_module_shape(const ModelConfig& c, LoraModule m) {
  const int64_t h = c.hidden_size, q = int64_t{c.num_heads} * c.head_dim,
                kv = int64_t{c.num_kv_heads} * c.head_dim;
  switch (m) {
    case LoraModule::kQ:
      return {q, h};
    case LoraModule::kK:
    case LoraModule::kV:
      return {kv, h};
    case LoraModule::kO:
      return {h, q};
    case LoraModule::kGate:
    case LoraModule::kUp:
      return {c.intermediate_size, h};
    case LoraModule::kDown:
      return {h, c.intermediate_size};
  }
  return {};
}

uint64_t next_lora_uid() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

Result<std::shared_ptr<LoraAdapter>> load_peft_adapter(const std::string& dir, const ModelConfig& base,
                                                       const LoraLimits& limits, std::string name,
                                                       uint64_t uid) {
  SGL_ASSIGN_OR_RETURN(AdapterConfig cfg, read_adapter_config(dir));
  const std::string file = dir + "/adapter_model.safetensors";
  if (!fs::is_regular_file(file)) {
    if (fs::is_regular_file(dir + "/adapter_model.bin"))
      return unsupported(dir + ": adapter_model.bin (pickle) is not read; save the adapter as safetensors");
    return not_found(dir + " has no adapter_model.safetensors");
  }
  SGL_ASSIGN_OR_RETURN(auto st, SafetensorsFile::open(file));
  auto adapter = std::make_shared<LoraAdapter>();
  adapter->name = std::move(name);
  adapter->path = dir;
  adapter->uid = uid;
  adapter->lora_alpha = static_cast<float>(cfg.alpha);
  adapter->use_rslora = cfg.use_rslora;
  adapter->layers.resize(static_cast<size_t>(base.num_layers));
  // A and B of each (layer, module) as found; paired and checked below.
  std::map<std::pair<int, int>, std::pair<const TensorView*, const TensorView*>> found;
  for (const auto& [tname, view] : st->tensors()) {
    SGL_ASSIGN_OR_RETURN(TensorKey k, parse_tensor_name(tname, base, file));
    auto& slot = found[{k.layer, static_cast<int>(k.module)}];
    (k.is_a ? slot.first : slot.second) = &view;
  }
  if (found.empty()) return corrupt(file + " holds no LoRA weights");
  for (const auto& [key, ab] : found) {
    const auto [layer, mi] = key;
    const auto m = static_cast<LoraModule>(mi);
    const std::string where = fmt::format("layer {} {}", layer, lora_module_name(m));
    if (!ab.first || !ab.second)
      return corrupt(fmt::format("{}: {} has lora_{} but not lora_{}", file, where, ab.first ? "A" : "B",
                                 ab.first ? "B" : "A"));
    const TensorView& a = *ab.first;
    const TensorView& b = *ab.second;
    if (!is_float_dtype(a.dtype) || !is_float_dtype(b.dtype))
      return unsupported(fmt::format("{}: {} is stored as {}; LoRA weights must be F32, BF16 or F16", file,
                                     where, dtype_name(is_float_dtype(a.dtype) ? b.dtype : a.dtype)));
    const LoraModuleShape shape = lora_module_shape(base, m);
    if (a.shape.size() != 2 || b.shape.size() != 2 || a.shape[1] != shape.in || b.shape[0] != shape.out ||
        a.shape[0] != b.shape[1] || a.shape[0] <= 0)
      return invalid_argument(fmt::format(
          "{}: {}: lora_A {} and lora_B {} do not fit the model's [{}, {}] projection (expected A [r, {}], B "
          "[{}, r]); is the adapter for another base model?",
          file, where, shape_str(a.shape), shape_str(b.shape), shape.out, shape.in, shape.in, shape.out));
    const int64_t r = a.shape[0];
    if (!(limits.target_modules & (1u << mi))) {
      const auto allowed = lora_module_names(limits.target_modules);
      return invalid_argument(
          fmt::format("LoRA adapter '{}' targets {}, which is not in --lora-target-modules ({})",
                      adapter->name, lora_module_name(m), fmt::join(allowed, ", ")));
    }
    if (limits.max_rank > 0 && r > limits.max_rank)
      return invalid_argument(
          fmt::format("LoRA adapter '{}' has rank {} ({}), which exceeds --max-lora-rank {}", adapter->name,
                      r, where, limits.max_rank));
    const std::string module_path = fmt::format("model.layers.{}.{}.{}", layer,
                                                is_attention(m) ? "self_attn" : "mlp", lora_module_name(m));
    const double want_r = pattern_value(cfg.rank_pattern, module_path).value_or(static_cast<double>(cfg.r));
    if (static_cast<int64_t>(want_r) != r)
      return corrupt(fmt::format("{}: {} has rank {} but adapter_config.json says {}", file, where, r,
                                 static_cast<int64_t>(want_r)));
    const double alpha = pattern_value(cfg.alpha_pattern, module_path).value_or(cfg.alpha);
    LoraModuleWeights& w = adapter->layers[static_cast<size_t>(layer)][static_cast<size_t>(mi)];
    w.rank = static_cast<int32_t>(r);
    // PEFT: scaling = lora_alpha / r, or lora_alpha / √r for rsLoRA (SGLang ignores use_rslora).
    w.scale = static_cast<float>(cfg.use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / r);
    w.a = to_f32(a);
    w.b = to_f32(b);
    adapter->max_rank = std::max(adapter->max_rank, w.rank);
    adapter->modules |= 1u << mi;
  }
  return adapter;
}

std::shared_ptr<LoraAdapter> dummy_lora_adapter(const ModelConfig& base, int32_t rank, LoraModuleSet modules,
                                                uint64_t seed, std::string name) {
  auto adapter = std::make_shared<LoraAdapter>();
  adapter->name = std::move(name);
  adapter->path = "dummy";
  adapter->uid = next_lora_uid();
  adapter->max_rank = rank;
  adapter->lora_alpha = static_cast<float>(rank);
  adapter->layers.resize(static_cast<size_t>(base.num_layers));
  std::mt19937_64 rng(seed);
  for (int l = 0; l < base.num_layers; ++l) {
    for (int mi = 0; mi < kNumLoraModules; ++mi) {
      const auto m = static_cast<LoraModule>(mi);
      if (!(modules & (1u << mi)) || (!is_attention(m) && base.is_moe_layer(l) && !base.residual_moe))
        continue;
      const LoraModuleShape s = lora_module_shape(base, m);
      LoraModuleWeights& w = adapter->layers[static_cast<size_t>(l)][static_cast<size_t>(mi)];
      w.rank = rank;
      w.scale = 1.0f;
      // Small enough that the adapter's term stays a perturbation of the base projection.
      std::uniform_real_distribution<float> da(-1.0f / std::sqrt(static_cast<float>(s.in)),
                                               1.0f / std::sqrt(static_cast<float>(s.in)));
      std::uniform_real_distribution<float> db(-0.01f, 0.01f);
      w.a.resize(static_cast<size_t>(rank * s.in));
      w.b.resize(static_cast<size_t>(s.out * rank));
      for (auto& x : w.a) x = da(rng);
      for (auto& x : w.b) x = db(rng);
      adapter->modules |= 1u << mi;
    }
  }
  return adapter;
}

}  // namespace sgl::engine
