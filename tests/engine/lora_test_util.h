// PEFT adapters and their merged twins (LoRA tests), quantized checkpoints and their float twins
// (quantization tests), written on first use by ../shared/tools/make_lora.py and quantize_checkpoint.py
// (Debian's python3 with numpy) into a per-process temporary directory that is removed at exit. Each CTest
// test is its own process, so each makes only the adapters it asks for (about a second each).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/shared_dir.h"

namespace sgl::engine::testing {

struct LoraSpec {
  std::string base;  // a ../shared/models name
  std::string args;  // the tool's arguments after BASE_DIR OUT_DIR
  bool merged;       // also write <name>-merged (make_lora: W + s·B·A folded in; quantize: the float twin)
  std::string tool = "make_lora.py";
};

inline const std::map<std::string, LoraSpec>& lora_specs() {
  static const std::map<std::string, LoraSpec> specs = {
      {"a", {"tiny-qwen3", "--rank 8 --alpha 16 --seed 1", true}},
      {"b", {"tiny-qwen3", "--rank 16 --alpha 16 --seed 2 --targets q_proj,v_proj", true}},
      {"rs", {"tiny-qwen3", "--rank 16 --alpha 32 --rslora --seed 3", true}},
      {"c", {"tiny-qwen3", "--rank 8 --alpha 8 --seed 5 --targets o_proj,down_proj,up_proj", false}},
      {"moe", {"tiny-qwen3-moe", "--rank 8 --alpha 16 --seed 1", true}},
      {"moe-experts", {"tiny-qwen3-moe", "--rank 8 --alpha 16 --seed 4 --targets q_proj,gate_proj", false}},
      // Quantized checkpoints (quantize_checkpoint.py) with their exact float32 twins.
      {"q3-fp8", {"tiny-qwen3", "--format fp8-block", true, "quantize_checkpoint.py"}},
      {"q3-awq", {"tiny-qwen3", "--format awq", true, "quantize_checkpoint.py"}},
      {"q3-gptq", {"tiny-qwen3", "--format gptq", true, "quantize_checkpoint.py"}},
      {"q3-gptq-act",
       {"tiny-qwen3", "--format gptq-desc-act --group-size 64", true, "quantize_checkpoint.py"}},
      {"q3-gptq-asym",
       {"tiny-qwen3", "--format gptq-desc-act --asym --group-size 32", true, "quantize_checkpoint.py"}},
      {"moe-fp8", {"tiny-qwen3-moe", "--format fp8-block", true, "quantize_checkpoint.py"}},
      {"moe-awq", {"tiny-qwen3-moe", "--format awq --group-size 32", true, "quantize_checkpoint.py"}},
      {"moe-gptq-act",
       {"tiny-qwen3-moe", "--format gptq-desc-act --group-size 32", true, "quantize_checkpoint.py"}},
  };
  return specs;
}

class LoraAssets {
 public:
  static LoraAssets& get() {
    static LoraAssets a;
    return a;
  }
  ~LoraAssets() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // Why adapters cannot be made here (empty: they can).
  const std::string& skip() const { return skip_; }
  const std::string& dir() const { return dir_; }
  // The adapter's directory, made on first use (its merged twin is <path>-merged); empty on failure
  // (then skip() says why).
  std::string adapter(const std::string& name) {
    if (!skip_.empty()) return "";
    const std::string path = dir_ + "/" + name;
    if (std::filesystem::exists(path + "/adapter_config.json") ||
        std::filesystem::exists(path + "/config.json"))
      return path;
    const LoraSpec& s = lora_specs().at(name);
    std::string cmd = py_ + " " + shared_ + "/tools/" + s.tool + " " + shared_ + "/models/" + s.base + " " +
                      path + " " + s.args;
    if (s.merged) cmd += (s.tool == "make_lora.py" ? " --merged " : " --twin ") + path + "-merged";
    if (std::system((cmd + " >/dev/null").c_str()) != 0) {
      skip_ = s.tool + " failed: " + cmd;
      return "";
    }
    return path;
  }

 private:
  LoraAssets() {
    shared_ = sgl::find_shared_dir(SGL_SOURCE_DIR);
    if (shared_.empty()) {
      skip_ = "../shared (models, tools) not found";
      return;
    }
    py_ = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    if (std::system((py_ + " -c 'import numpy' >/dev/null 2>&1").c_str()) != 0) {
      skip_ = py_ + " has no numpy (apt-get install python3-numpy; scripts/setup.sh does)";
      return;
    }
    dir_ = (std::filesystem::temp_directory_path() / ("sgl-lora-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir_);
  }
  std::string shared_, py_, dir_, skip_;
};

// Makes the named adapters, or says why not (for GTEST_SKIP).
inline std::string make_lora_adapters(const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (LoraAssets::get().adapter(n).empty()) return LoraAssets::get().skip();
  return "";
}

inline std::string lora_path(const std::string& name) { return LoraAssets::get().dir() + "/" + name; }

}  // namespace sgl::engine::testing
