#include "engine/cpu/cpu_model_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <string>

#include "base/system_memory.h"
#include "base/trace.h"
#include "engine/cpu/kv_commit.h"
#include "engine/cpu/scratch.h"
#include "engine/step_input_checks.h"

namespace sgl::engine::cpu {

CpuModelRunner::CpuModelRunner(std::unique_ptr<DecoderModel> model, ModelInfo info, const EngineConfig& cfg,
                               WeightSource source)
    : model_(std::move(model)),
      info_(std::move(info)),
      sampler_(cfg.random_seed),
      source_(std::move(source)) {
  if (cfg.num_threads > 0) threads_.emplace(tbb::global_control::max_allowed_parallelism, cfg.num_threads);
  if (cfg.arena_threads > 0) arena_ = std::make_unique<tbb::task_arena>(cfg.arena_threads);
  sampler_.set_nan_detection(cfg.enable_nan_detection);
  // create_cpu_runner validated the value (its kv_bytes_per_token is sized from it).
  const auto kv = kv_cache_dtype(cfg, model_->compute_dtype());
  kv_.dtype = kv.ok() ? *kv : model_->compute_dtype();
}

Status CpuModelRunner::init_kv_cache(int64_t num_slots, int page_size) {
  if (num_slots <= 0 || page_size <= 0)
    return invalid_argument("KV cache needs a positive size and page size");
  if (kv_.num_slots > 0) return invalid_argument("KV cache already allocated");
  const auto& c = model_->config();
  KvPool pool;
  pool.dtype = kv_.dtype;
  try {
    for (int l = 0; l < c.num_layers; ++l) {
      const int kv_heads = model_->shard().kv_heads;  // this rank's (all on a whole model)
      pool.k.push_back(Tensor::zeros(kv_.dtype, {num_slots, kv_heads, c.head_dim}));
      pool.v.push_back(Tensor::zeros(kv_.dtype, {num_slots, kv_heads, c.head_dim}));
    }
  } catch (const std::bad_alloc&) {
    return invalid_argument(fmt::format("KV cache of {} slots ({} bytes) does not fit in memory", num_slots,
                                        num_slots * info_.kv_bytes_per_token));
  }
  // calloc only reserved address space: fault every page in now (kv_commit.h says why).
  const auto t0 = std::chrono::steady_clock::now();
  const KvCommit got = commit_kv_slots(pool.k, pool.v, num_slots, page_size, read_memory_snapshot);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (got.slots < 2LL * page_size)
    return Error{ErrorCode::kResourceExhausted,
                 fmt::format("KV cache: memory ran out while committing it ({} of {} tokens committed, "
                             "{:.1f} GiB usable now); free memory or lower --max-total-tokens / "
                             "--mem-fraction-static",
                             got.slots, num_slots, double(read_memory_snapshot().usable) / (1 << 30))};
  spdlog::info("KV cache committed: {} tokens, {:.1f} MiB resident ({:.2f} s)", got.slots,
               double(got.bytes) / (1 << 20), secs);
  if (got.slots < num_slots)
    spdlog::warn(
        "KV cache: only {} of the {} planned tokens committed: usable memory fell to the reserve "
        "while committing (another process allocating at the same time)",
        got.slots, num_slots);
  pool.num_slots = got.slots;
  kv_ = std::move(pool);
  return {};
}

Result<StepOutput> CpuModelRunner::step(const StepInput& input) {
  if (!arena_) return step_in_arena(input);
  // The calling (worker) thread joins the arena; the kernels' parallel loops stay inside it.
  return arena_->execute([&] { return step_in_arena(input); });
}

namespace {
Error weights_are_released() {
  return invalid_argument(
      "the model weights are released (/release_memory_occupation); resume them first "
      "(/resume_memory_occupation with the \"weights\" tag)");
}
}  // namespace

Status CpuModelRunner::release_weights() {
  if (weights_released_) return ok_status();
  model_->release_weights();
  model_->release_scratch();
  weights_released_ = true;
  return ok_status();
}

Status CpuModelRunner::resume_weights() {
  if (!weights_released_) return ok_status();
  try {
    Status st = fill_weights(*model_, source_, /*log_progress=*/true);
    if (!st.ok()) {
      model_->release_weights();  // whatever was allocated before the failure
      return st;
    }
  } catch (const std::bad_alloc&) {
    model_->release_weights();
    return Error{ErrorCode::kResourceExhausted,
                 fmt::format("Cannot resume the model weights: {} bytes do not fit in memory now",
                             info_.weight_bytes)};
  }
  weights_released_ = false;
  return ok_status();
}

Result<StepOutput> CpuModelRunner::step_in_arena(const StepInput& input) {
  if (weights_released_) return weights_are_released();
  SGL_TRY(validate_step_input(input, info_, kv_.num_slots));
  for (const LoraSlotLoad& load : input.lora_loads) {
    if (lora_load_) SGL_TRY(lora_load_(load));
    SGL_TRY(install_lora(load));
  }
  SGL_TRY(model_->lora_slots().validate(input.batch));
  SGL_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                       last_token_.resolve(input.batch.input_ids, info_.vocab_size));
  if (pre_forward_) SGL_TRY(pre_forward_(input.batch, ids));
  DecoderModel::Output fwd = model_->forward(input.batch, ids, kv_, std::move(logits_buffer_));
  if (!fwd.status.ok()) return std::move(fwd.status).take_error();
  StepOutput out;
  const int64_t width = model_->config().logits_width();  // a classifier: its labels
  out.vocab_size = width;
  if (input.return_logits) out.logits = fwd.logits;  // sampling works in place on its copy
  {
    trace::Span span("kernel", "sample");
    span.set_args([&] { return trace::Args().add("rows", static_cast<int64_t>(input.sampling.size())); });
    out.rows = sampler_.sample(fwd.logits.data(), width, input.sampling);
  }
  last_token_.record(input.sampling, out.rows);
  out.hidden_states = std::move(fwd.hidden_states);
  out.tensor_stats = std::move(fwd.tensor_stats);
  out.segment_hidden = std::move(fwd.segment_hidden);
  out.routed_experts = std::move(fwd.routed_experts);
  if (!fwd.row_hidden.empty()) {
    // hidden_size floats a row (a classifier's: its num_labels logits)
    const size_t h = fwd.row_hidden.size() / std::max<size_t>(1, out.rows.size());
    for (size_t r = 0; r < out.rows.size() && (r + 1) * h <= fwd.row_hidden.size(); ++r)
      out.rows[r].hidden.assign(fwd.row_hidden.begin() + r * h, fwd.row_hidden.begin() + (r + 1) * h);
  }
  logits_buffer_ = std::move(fwd.logits);
  return out;
}

Status CpuModelRunner::load_weights_from_disk(const std::string& model_path) {
  if (weights_released_) return weights_are_released();
  SGL_ASSIGN_OR_RETURN(ModelConfig cfg, load_model_config(model_path));
  const ModelConfig& cur = model_->config();
  if (cfg.architecture != cur.architecture || cfg.hidden_size != cur.hidden_size ||
      cfg.num_layers != cur.num_layers || cfg.num_heads != cur.num_heads ||
      cfg.num_kv_heads != cur.num_kv_heads || cfg.head_dim != cur.head_dim ||
      cfg.vocab_size != cur.vocab_size || cfg.intermediate_size != cur.intermediate_size ||
      cfg.num_experts != cur.num_experts || cfg.moe_intermediate_size != cur.moe_intermediate_size)
    return invalid_argument(
        fmt::format("{}: model shape or architecture ({}) differs from the running model ({}); "
                    "weights not updated",
                    model_path, cfg.architecture, cur.architecture));
  SGL_ASSIGN_OR_RETURN(WeightFiles files, WeightFiles::open_dir(model_path));
  // Validate every tensor before touching the live buffers, so a bad checkpoint keeps the old weights.
  SGL_TRY(model_->load(files, /*dry_run=*/true));
  files.track_progress();
  SGL_TRY(model_->load(files));
  files.finish_progress();
  source_.dummy = false;  // a later resume reloads these weights, not the first ones
  source_.path = model_path;
  return ok_status();
}

Status CpuModelRunner::forward_only(const ForwardBatch& batch, const std::vector<int32_t>& ids) {
  if (weights_released_) return weights_are_released();
  if (kv_.num_slots == 0) return invalid_argument("init_kv_cache was not called");
  SGL_TRY(model_->lora_slots().validate(batch));
  if (arena_) return arena_->execute([&] { return model_->forward(batch, ids, kv_).status; });
  return model_->forward(batch, ids, kv_).status;
}

Status CpuModelRunner::load_weights_shard(const std::string& model_path, bool dry_run) {
  if (dry_run) {
    SGL_ASSIGN_OR_RETURN(ModelConfig cfg, load_model_config(model_path));
    const ModelConfig& cur = model_->config();
    if (cfg.architecture != cur.architecture || cfg.hidden_size != cur.hidden_size ||
        cfg.num_layers != cur.num_layers || cfg.num_heads != cur.num_heads ||
        cfg.vocab_size != cur.vocab_size)
      return invalid_argument(model_path + ": model shape or architecture differs from the running model");
  }
  SGL_ASSIGN_OR_RETURN(WeightFiles files, WeightFiles::open_dir(model_path));
  return model_->load(files, dry_run);
}

void CpuModelRunner::release_idle_memory() {
  logits_buffer_ = std::vector<float>();  // move-assigned: `= {}` would keep the capacity
  model_->release_scratch();
  cpu::release_kernel_scratch();  // the GEMMs' activation copies in every kernel thread
}

int64_t CpuModelRunner::available_memory_bytes() const {
  return host_available_bytes(read_memory_snapshot());
}

}  // namespace sgl::engine::cpu
