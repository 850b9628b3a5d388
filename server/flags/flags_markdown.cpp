#include <fmt/format.h>

#include "server/flags/flag_table.h"

namespace sgl::server::flags {
namespace {

std::string cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

const char* status_name(Status s) {
  return s == Status::kHonoured  ? "honoured"
         : s == Status::kIgnored ? "no effect (warns)"
                                 : "refused unless default";
}

}  // namespace

std::string flags_markdown() {
  CLI::App app;
  ServerArgs scratch;
  const FlagTable table(app, scratch);
  std::string out =
      "# Launch flags\n\n"
      "<!-- Generated from server/flags/ by `cmake --build build --target flags-doc`; do not edit. -->\n\n"
      "`sglcpp-server` takes every flag of SGLang-JAX's `server_args.py` (cddbf6f1) and the flags of "
      "SGLang's "
      "`server_args.py` (001067ff) that a CPU/GPU deployment passes, with their spelling, aliases, type, "
      "choices and default. Each flag is one of:\n\n"
      "- **honoured**: it does what SGLang says it does;\n"
      "- **no effect (warns)**: accepted, and the server logs one start-up line naming it and why it does "
      "nothing here (TPU/XLA internals, GPU kernel choices);\n"
      "- **refused unless default**: a capability sglcpp lacks; the server starts with the default value and "
      "refuses any other, naming the flag and the capability.\n\n"
      "Unique prefixes work as in argparse (`--mem-frac 0.7`). `/get_server_info` reports every flag below "
      "under its field name.\n";
  std::string group = "\x01";
  for (const auto& f : table.rows()) {
    if (f.group.empty()) continue;
    if (f.group != group) {
      group = f.group;
      out += fmt::format("\n## {}\n\n| flag | default | status | note |\n|---|---|---|---|\n", group);
    }
    std::string names = "`" + f.names.front() + "`";
    for (size_t i = 1; i < f.names.size(); ++i) names += ", `" + f.names[i] + "`";
    std::string note = f.status == Status::kHonoured ? f.note : f.note;
    if (!f.choices.empty()) {
      note += note.empty() ? "" : ". ";
      note += "Choices: ";
      for (size_t i = 0; i < f.choices.size(); ++i) note += (i ? ", " : "") + f.choices[i];
    }
    if (!f.refused_values.empty()) {
      note += ". Refused: ";
      for (size_t i = 0; i < f.refused_values.size(); ++i) note += (i ? ", " : "") + f.refused_values[i];
      note += " (" + f.refusal + ")";
    }
    if (!f.deviation.empty()) note += ". Default: " + f.deviation;
    out += fmt::format("| {} | `{}` | {} | {} |\n", cell(names), cell(f.default_text), status_name(f.status),
                       cell(note));
  }
  out +=
      "\n## SGLang flags not considered\n\n"
      "Vendor and subsystem groups of SGLang's `server_args.py` that a CPU/GPU deployment of sglcpp does not "
      "pass are not parsed (an unknown flag stops the server with CLI11's message): ROCm/AITer, Ascend NPU, "
      "MLX, HiCache internals (beyond SGLang-JAX's `--hicache-*`), hierarchical sparse attention, multimodal "
      "encoders and processors (`--mm-*`, encoder/language disaggregation), diffusion LLMs (`--dllm-*`), "
      "KTransformers, LMCache and FlexKV connectors, PD multiplexing, ModelOpt quantize-and-export, RL "
      "quantization profiles, remote-instance weight loading, DFlash/DSpark/decoupled speculative decoding, "
      "Dynamo forward-pass metrics, gRPC mode, ASR, elastic EP and DeepEP, DeepSeek sparse-attention (DSA) "
      "kernels, Mamba/linear-attention state and the DP-attention prefill delayer.\n";
  return out;
}

}  // namespace sgl::server::flags
