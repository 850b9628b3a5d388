// Speculative decoding, LoRA and OpenAI API flags.
#include "server/flags/flag_table.h"

namespace sgl::server::flags {

void add_feature_flags(FlagTable& t) {
  using K = Kind;
  t.group("Speculative decoding");
  t.add("--speculative-algorithm", &ServerArgs::speculative_algorithm, K::kStr, "None", "EAGLE | EAGLE3",
        "EAGLE|EAGLE3|NEXTN|STANDALONE|DFLASH|NGRAM")
      .refuse({"NEXTN", "STANDALONE", "DFLASH", "NGRAM"},
              "only EAGLE / EAGLE3 draft heads are implemented in sglcpp");
  t.add("--speculative-draft-model-path,--speculative-draft-model", &ServerArgs::speculative_draft_model_path,
        K::kStr, "None", "Draft model directory");
  const char* auto_choice =
      "SGLang-JAX: 4 steps, top-k 5, 4 draft tokens; None lets sglcpp choose 3 steps, top-k 1 and steps + 1 "
      "draft tokens (a chain), as SGLang does";
  t.add("--speculative-num-steps", &ServerArgs::speculative_num_steps, K::kInt, "None",
        "Draft steps per round")
      .deviates(auto_choice);
  t.add("--speculative-eagle-topk", &ServerArgs::speculative_eagle_topk, K::kInt, "None",
        "Branches kept per draft step")
      .deviates(auto_choice);
  t.add("--speculative-num-draft-tokens", &ServerArgs::speculative_num_draft_tokens, K::kInt, "None",
        "Draft tokens verified per round")
      .deviates(auto_choice);
  t.add("--enable-deterministic-sampling", &ServerArgs::enable_deterministic_sampling, K::kTrue, "False",
        "Always so: sglcpp's kernels are batch-invariant and seeded sampling is per request, so a request's "
        "output does not depend on its batch");

  t.group("LoRA");
  t.add("--enable-lora", &ServerArgs::enable_lora, K::kTrue, "False",
        "Serve LoRA adapters (implied by --lora-paths)");
  t.add("--lora-paths", &ServerArgs::lora_paths, K::kStrList, "None",
        "Adapters loaded at start: PATH, NAME=PATH or {\"lora_name\",\"lora_path\",\"pinned\"}");
  t.add("--max-loras-per-batch", &ServerArgs::max_loras_per_batch, K::kInt, "8",
        "Adapter slots: distinct adapters in one batch, the base model counting as one");
  t.add("--max-lora-rank", &ServerArgs::max_lora_rank, K::kInt, "None",
        "Largest adapter rank (default: the largest of --lora-paths)");
  t.add("--lora-target-modules", &ServerArgs::lora_target_modules, K::kStrList, "None",
        "Projections adapters may target (default: all seven)",
        "q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|qkv_proj|gate_up_proj|all");
  t.add("--max-loaded-loras", &ServerArgs::max_loaded_loras, K::kInt, "None",
        "Adapters kept in host memory (default: no limit)");
  t.add("--lora-eviction-policy", &ServerArgs::lora_eviction_policy, K::kStr, "lru",
        "Which adapter leaves a full slot table", "lru|fifo");
  t.add("--lora-backend", &ServerArgs::lora_backend, K::kStr, "csgmv", "", "triton|csgmv|ascend|torch_native")
      .ignored("sglcpp runs its own segmented LoRA kernels");
  t.add("--max-lora-chunk-size", &ServerArgs::max_lora_chunk_size, K::kInt, "16", "", "16|32|64|128")
      .ignored("sglcpp runs its own segmented LoRA kernels");

  t.group("OpenAI API");
  // SGLang-JAX's names and SGLang's; the ones whose format sglcpp has no parser for are refused.
  t.add("--tool-call-parser", &ServerArgs::tool_call_parser, K::kStr, "None",
        "Tool-call format: qwen3_coder and mimo (<function=...> XML), hermes, qwen and qwen25 (JSON in "
        "<tool_call>)",
        "qwen3_coder|mimo|glm47|hermes|qwen|qwen25|deepseekv3|deepseekv31|deepseekv32|glm|glm45|gpt-oss|kimi_"
        "k2|"
        "llama3|mistral|pythonic|step3|minimax-m2|interns1|gigachat3")
      .refuse({"glm47", "deepseekv3", "deepseekv31", "deepseekv32", "glm", "glm45", "gpt-oss", "kimi_k2",
               "llama3", "mistral", "pythonic", "step3", "minimax-m2", "interns1", "gigachat3"},
              "this tool-call format has no parser in sglcpp (qwen3_coder, mimo, hermes, qwen, qwen25 have)");
  t.add("--reasoning-parser", &ServerArgs::reasoning_parser, K::kStr, "None",
        "Reasoning format: deepseek-r1, qwen3, qwen3-thinking, mimo, glm45, glm47 (<think>), kimi (◁think▷)",
        "deepseek-r1|qwen3|qwen3-thinking|mimo|kimi|glm45|glm47|deepseek-v3|kimi_k2|gpt-oss|step3|minimax|"
        "minimax-append-think|nano_v3|interns1")
      .refuse(
          {"deepseek-v3", "kimi_k2", "gpt-oss", "step3", "minimax", "minimax-append-think", "nano_v3",
           "interns1"},
          "this reasoning format has no parser in sglcpp (deepseek-r1, qwen3, qwen3-thinking, mimo, kimi, "
          "glm45, glm47 have)");
  t.add("--enable-cache-report", &ServerArgs::enable_cache_report, K::kTrue, "False",
        "Report cached prompt tokens in usage");
}

}  // namespace sgl::server::flags
