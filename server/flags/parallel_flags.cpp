// Device, parallelism and kernel-choice flags.
#include "server/flags/flag_table.h"

namespace sgl::server::flags {

void add_parallel_flags(FlagTable& t) {
  using K = Kind;
  t.group("Device and parallelism");
  t.add("--device", &ServerArgs::device, K::kStr, "cpu", "cpu | cuda (tpu is refused)");
  t.add("--tp-size,--tensor-parallel-size", &ServerArgs::tp_size, K::kInt, "1", "Tensor-parallel ranks");
  t.add("--ep-size,--expert-parallel-size,--ep", &ServerArgs::ep_size, K::kInt, "1", "Expert-parallel ranks");
  t.add("--dp-size,--data-parallel-size", &ServerArgs::dp_size, K::kInt, "1",
        "Data-parallel replicas of the model (each with --tp-size ranks) behind one front");
  t.add("--dp-schedule-policy", &ServerArgs::dp_schedule_policy, K::kStr, "None",
        "Which replica a request goes to (None: cache_aware; min_running_queue without the radix cache)",
        "round_robin|min_running_queue|cache_aware|shape_aware");
  t.add("--nnodes", &ServerArgs::nnodes, K::kInt, "1", "Nodes");
  t.add("--node-rank", &ServerArgs::node_rank, K::kInt, "0", "This node's rank");
  t.add("--dist-init-addr,--nccl-init-addr", &ServerArgs::dist_init_addr, K::kStr, "None",
        "host:port of node 0's rendezvous");
  t.add("--dist-timeout", &ServerArgs::dist_timeout, K::kInt, "60",
        "Seconds to wait for other nodes and for a collective");
  t.add("--cuda-graph-max-bs", &ServerArgs::cuda_graph_max_bs, K::kInt, "0",
        "--device cuda: decode batches up to this size replay CUDA graphs (0: 256)")
      .option->check(CLI::NonNegativeNumber);
  t.add("--disable-cuda-graph", &ServerArgs::disable_cuda_graph, K::kTrue, "False",
        "--device cuda: launch every kernel each step");

  t.group("Kernels");
  t.add("--num-threads", &ServerArgs::num_threads, K::kInt, "0",
        "sglcpp: CPU threads for the model's kernels (0: one per core the process may use)")
      .option->check(CLI::NonNegativeNumber);
  // Every value is accepted so that SGLang's and SGLang-JAX's launch lines start; none selects
  // anything, since sglcpp has one paged-attention kernel per device.
  t.add("--attention-backend", &ServerArgs::attention_backend, K::kStr, "fa", "",
        "native|fa|fa_mha|dsa_sparse|triton|torch_native|flex_attention|flashinfer|fa3|fa4|flashmla|cutlass_"
        "mla|"
        "trtllm_mla|trtllm_mha|aiter|wave|intel_amx|ascend|intel_xpu|dual_chunk_flash_attn|nsa")
      .ignored("sglcpp runs its own paged-attention kernel (cpu or cuda) for every value");
  t.add("--moe-backend", &ServerArgs::moe_backend, K::kStr, "epmoe", "", "epmoe|fused|fused_v2|auto")
      .ignored(
          "sglcpp runs its own MoE kernel for every value; experts are sharded across ranks by --ep-size");
  t.add("--jax-precompile-prefill-token-paddings", &ServerArgs::jax_precompile_prefill_token_paddings,
        K::kIntList, "None", "")
      .ignored("sglcpp compiles no XLA programs");

  // sglcpp's own (SGLang has `python -m sglang.check_env`, SGLang-JAX `python -m sgl_jax.check_env`).
  t.group("Environment check");
  t.add("--check-env", &ServerArgs::check_env, K::kTrue, "False",
        "Print the build, CPU, memory and CUDA devices, warn about the other flags given that would fail "
        "here (model too big, --tp-size above the devices, --device tpu...), and exit: 1 when one would "
        "(docs/check-env.md)");
  t.add("--check-env-json", &ServerArgs::check_env_json, K::kTrue, "False",
        "--check-env, printed as one JSON object");
}

}  // namespace sgl::server::flags
