#include "engine/dist/tp_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/cpu/cpu_model_runner.h"
#include "engine/dist/gloo_communicator.h"
#include "engine/dist/rendezvous.h"
#include "engine/dist/step_codec.h"

namespace sgl::engine::dist {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One rank of this node: its store connection, its place in the Gloo mesh and its model slice
// (declared in this order so the runner, which points at the communicator, goes first).
struct Rank {
  std::unique_ptr<TcpStore> store;
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<cpu::CpuModelRunner> runner;
};

milliseconds timeout_of(const EngineConfig& cfg) { return milliseconds(int64_t{cfg.dist_timeout_s} * 1000); }

int ranks_per_node(const EngineConfig& cfg) { return cfg.tp_size / cfg.nnodes; }

// The node's cores split between its ranks: each rank runs its kernels in its own arena, so ranks
// waiting in a collective do not leave their workers spinning on cores another rank computes on.
int threads_per_rank(const EngineConfig& cfg) {
  const int cores = cfg.num_threads > 0 ? cfg.num_threads : tbb::info::default_concurrency();
  return std::max(1, cores / ranks_per_node(cfg));
}

Status validate(const EngineConfig& cfg) {
  if (cfg.tp_size < 1 || cfg.nnodes < 1 || cfg.ep_size < 1)
    return invalid_argument("--tp-size, --ep-size and --nnodes must be >= 1");
  if (cfg.tp_size % cfg.nnodes != 0)
    return invalid_argument(
        fmt::format("--tp-size {} must be a multiple of --nnodes {} (ranks per node = tp / nnodes)",
                    cfg.tp_size, cfg.nnodes));
  if (cfg.tp_size % cfg.ep_size != 0)
    return invalid_argument(fmt::format("--ep-size {} must divide --tp-size {}", cfg.ep_size, cfg.tp_size));
  if (cfg.dist_timeout_s < 2) return invalid_argument("--dist-timeout must be at least 2 seconds");
  if (cfg.device != "cpu")
    return unsupported(
        fmt::format("--tp-size {} on --device {}: tensor parallelism runs CPU ranks over Gloo in "
                    "this build",
                    cfg.tp_size, cfg.device));
  return {};
}

// Connects rank `g` into the mesh, loads its slice, then agrees with every rank that all loaded.
Result<Rank> setup_rank(const EngineConfig& cfg, const NodeRendezvous& rdv, int g) {
  Rank r;
  SGL_ASSIGN_OR_RETURN(r.store, TcpStore::connect(rdv.store_addr, timeout_of(cfg)));
  GlooGroupOptions go;
  go.prefix = "tp";
  go.rank = g;
  go.size = cfg.tp_size;
  go.hostname = rdv.local_ip;
  go.timeout = timeout_of(cfg);
  SGL_ASSIGN_OR_RETURN(r.comm, create_gloo_communicator(*r.store, go));
  Status loaded;
  // The factory completes the plan from the model's config (heads, intermediate, experts).
  ShardPlan want;
  want.tp_rank = g;
  want.tp_size = cfg.tp_size;
  want.ep_size = cfg.ep_size;
  auto runner = cpu::create_cpu_runner(cfg, want, r.comm.get());
  if (runner.ok()) {
    r.runner = std::move(*runner);
  } else {
    loaded = std::move(runner).take_error();
  }
  // Every rank reports; one failure stops them all (its own message is in its node's log).
  float failed = loaded.ok() ? 0.0f : 1.0f;
  SGL_TRY(r.comm->all_reduce_sum(&failed, 1));
  if (!loaded.ok()) return Error{loaded.error().code, fmt::format("rank {}: {}", g, loaded.error().message)};
  if (failed > 0)
    return Error{ErrorCode::kUnavailable,
                 fmt::format("rank {}: {} other rank(s) failed to load the model (see their node's log)", g,
                             static_cast<int>(failed))};
  return r;
}

Status receive(Communicator& comm, CommandHeader& h, std::vector<uint8_t>& payload) {
  SGL_TRY(comm.broadcast(&h, sizeof h, 0));
  payload.resize(h.payload_bytes);
  if (h.payload_bytes > 0) SGL_TRY(comm.broadcast(payload.data(), payload.size(), 0));
  return {};
}

// Runs the leader's commands on a follower rank until shutdown (ok) or failure.
Status follower_loop(Rank& r) {
  CommandHeader h;
  std::vector<uint8_t> payload;
  ForwardBatch batch;
  std::vector<int32_t> ids;
  for (;;) {
    SGL_TRY(receive(*r.comm, h, payload));
    switch (static_cast<Command>(h.command)) {
      case Command::kForward:
        SGL_TRY(decode_forward(payload, batch, ids));
        SGL_TRY(r.runner->forward_only(batch, ids));
        break;
      case Command::kInitKv: {
        int64_t slots = 0;
        int page = 0;
        SGL_TRY(decode_init_kv(payload, slots, page));
        Status st = r.runner->init_kv_cache(slots, page);
        // Every rank must hold the same slots: one that committed fewer (memory ran short) fails.
        if (st.ok() && r.runner->kv_num_slots() != slots)
          st = Error{ErrorCode::kResourceExhausted,
                     fmt::format("only {} of {} KV slots committed", r.runner->kv_num_slots(), slots)};
        float failed = st.ok() ? 0.0f : 1.0f;
        SGL_TRY(r.comm->all_reduce_sum(&failed, 1));
        if (!st.ok()) spdlog::error("rank {}: {}", r.comm->rank(), st.error().message);
        break;
      }
      case Command::kLoadWeights: {
        const std::string path(payload.begin(), payload.end());
        for (bool dry : {true, false}) {
          Status st = r.runner->load_weights_shard(path, dry);
          float failed = st.ok() ? 0.0f : 1.0f;
          SGL_TRY(r.comm->all_reduce_sum(&failed, 1));
          if (failed > 0) break;
        }
        break;
      }
      case Command::kInitLora: {
        LoraPoolConfig lc;
        SGL_TRY(decode_init_lora(payload, lc));
        Status st = r.runner->init_lora(lc);
        float failed = st.ok() ? 0.0f : 1.0f;
        SGL_TRY(r.comm->all_reduce_sum(&failed, 1));
        break;
      }
      case Command::kLoadLora: {
        LoraSlotLoad load;
        SGL_TRY(decode_lora_load(payload, load));
        // The leader checked the adapter against the model; a rank that cannot install its slice
        // cannot run the next forward, so it stops the group.
        SGL_TRY(r.runner->install_lora(load));
        break;
      }
      case Command::kHeartbeat:
        SGL_TRY(r.comm->barrier());
        break;
      case Command::kShutdown:
        return {};
      default:
        return corrupt(fmt::format("rank {}: unknown command {} from the leader", r.comm->rank(), h.command));
    }
  }
}

class TpLeaderRunner final : public ModelRunner {
 public:
  TpLeaderRunner(NodeRendezvous rdv, Rank leader, std::vector<std::thread> followers, milliseconds timeout,
                 int local_ranks, int threads)
      : arena_(threads),
        rdv_(std::move(rdv)),
        leader_(std::move(leader)),
        followers_(std::move(followers)),
        local_ranks_(local_ranks),
        heartbeat_every_(std::min(milliseconds(1000), timeout / 4)) {
    leader_.runner->set_pre_forward_hook([this](const ForwardBatch& b, const std::vector<int32_t>& ids) {
      return send(Command::kForward, encode_forward(b, ids, leader_.runner->info().hidden_size));
    });
    leader_.runner->set_lora_load_hook(
        [this](const LoraSlotLoad& load) { return send(Command::kLoadLora, encode_lora_load(load)); });
    heartbeat_ = std::thread([this] { heartbeat_loop(); });
  }

  ~TpLeaderRunner() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    heartbeat_.join();
    {
      std::lock_guard lock(mu_);
      if (leader_.comm->failure().empty()) (void)send(Command::kShutdown, {});
    }
    // Closing our mesh connections wakes any follower still waiting on us.
    leader_.runner.reset();
    leader_.comm.reset();
    for (auto& t : followers_) t.join();
  }

  const ModelInfo& info() const override { return leader_.runner->info(); }
  int64_t kv_num_slots() const override { return leader_.runner->kv_num_slots(); }

  Status init_kv_cache(int64_t num_slots, int page_size) override {
    std::lock_guard lock(mu_);
    SGL_TRY(send(Command::kInitKv, encode_init_kv(num_slots, page_size)));
    Status st = leader_.runner->init_kv_cache(num_slots, page_size);
    if (st.ok() && leader_.runner->kv_num_slots() != num_slots)
      st = Error{ErrorCode::kResourceExhausted, fmt::format("rank 0: only {} of {} KV slots committed",
                                                            leader_.runner->kv_num_slots(), num_slots)};
    float failed = st.ok() ? 0.0f : 1.0f;
    SGL_TRY(leader_.comm->all_reduce_sum(&failed, 1));
    SGL_TRY(std::move(st));
    if (failed > 0) return invalid_argument("the KV cache does not fit on every rank (see the ranks' log)");
    return {};
  }

  Status init_lora(const LoraPoolConfig& config) override {
    std::lock_guard lock(mu_);
    SGL_TRY(send(Command::kInitLora, encode_init_lora(config)));
    Status st = leader_.runner->init_lora(config);
    float failed = st.ok() ? 0.0f : 1.0f;
    SGL_TRY(leader_.comm->all_reduce_sum(&failed, 1));
    SGL_TRY(std::move(st));
    if (failed > 0)
      return invalid_argument("the LoRA slots could not be set up on every rank (see their log)");
    return {};
  }

  Result<StepOutput> step(const StepInput& input) override {
    std::lock_guard lock(mu_);
    // The pre-forward hook broadcasts the batch.
    return arena_.execute([&] { return leader_.runner->step(input); });
  }

  Status load_weights_from_disk(const std::string& model_path) override {
    std::lock_guard lock(mu_);
    SGL_TRY(send(Command::kLoadWeights, std::vector<uint8_t>(model_path.begin(), model_path.end())));
    // Check on every rank first, load only when all can: no rank ends up with other weights.
    for (bool dry : {true, false}) {
      Status st = leader_.runner->load_weights_shard(model_path, dry);
      float failed = st.ok() ? 0.0f : 1.0f;
      SGL_TRY(leader_.comm->all_reduce_sum(&failed, 1));
      SGL_TRY(std::move(st));
      if (failed > 0)
        return invalid_argument(fmt::format("{}: {} rank(s) cannot load it; weights not updated", model_path,
                                            static_cast<int>(failed)));
    }
    return {};
  }

  // The leader's logits only: the other ranks sample nothing.
  void release_idle_memory() override { leader_.runner->release_idle_memory(); }
  int64_t available_memory_bytes() const override {
    // The node's ranks share its memory.
    return leader_.runner->available_memory_bytes() / local_ranks_;
  }

  std::string failure() const { return leader_.comm ? leader_.comm->failure() : ""; }
  CollectiveStats stats() const { return leader_.comm->stats(); }
  void reset_stats() { leader_.comm->reset_stats(); }

 private:
  // Called with mu_ held.
  Status send(Command c, const std::vector<uint8_t>& payload) {
    last_command_ = Clock::now();
    CommandHeader h;
    h.command = static_cast<uint32_t>(c);
    h.payload_bytes = payload.size();
    SGL_TRY(leader_.comm->broadcast(&h, sizeof h, 0));
    if (!payload.empty())
      SGL_TRY(leader_.comm->broadcast(const_cast<uint8_t*>(payload.data()), payload.size(), 0));
    return {};
  }

  void heartbeat_loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, heartbeat_every_);
      if (stop_ || !leader_.comm->failure().empty()) continue;
      if (Clock::now() - last_command_ < heartbeat_every_) continue;
      Status st = send(Command::kHeartbeat, {});
      if (st.ok()) st = leader_.comm->barrier();
      if (!st.ok()) spdlog::debug("heartbeat failed: {}", st.error().message);  // reported by failure()
    }
  }

  tbb::task_arena arena_;
  NodeRendezvous rdv_;
  Rank leader_;
  std::vector<std::thread> followers_;
  int local_ranks_;
  milliseconds heartbeat_every_;
  std::mutex mu_;  // one command at a time on the group (steps, heartbeats, control)
  std::condition_variable cv_;
  bool stop_ = false;
  Clock::time_point last_command_ = Clock::now();
  std::thread heartbeat_;
};

// Starts this node's follower ranks [first, last) as threads; each reports its end in `results`.
std::vector<std::thread> start_followers(const EngineConfig& cfg, const NodeRendezvous& rdv, int first,
                                         int last, std::vector<Status>& results) {
  std::vector<std::thread> threads;
  for (int g = first; g < last; ++g) {
    threads.emplace_back([&cfg, &rdv, &results, g, first] {
      tbb::task_arena arena(threads_per_rank(cfg));
      results[static_cast<size_t>(g - first)] = arena.execute([&]() -> Status {
        auto rank = setup_rank(cfg, rdv, g);
        if (!rank.ok()) return std::move(rank).take_error();
        return follower_loop(*rank);
      });
    });
  }
  return threads;
}

RendezvousConfig rendezvous_config(const EngineConfig& cfg) {
  RendezvousConfig rc;
  rc.nnodes = cfg.nnodes;
  rc.node_rank = cfg.node_rank;
  rc.init_addr = cfg.nnodes > 1 ? cfg.dist_init_addr : "";
  rc.timeout = timeout_of(cfg);
  rc.fingerprint = launch_fingerprint(cfg);
  return rc;
}

}  // namespace

std::string launch_fingerprint(const EngineConfig& cfg) {
  std::string path = cfg.model_path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return fmt::format(
      "model={}\nload_format={}\ndtype={}\ntp_size={}\nep_size={}\nnnodes={}\ncontext_length={}\nrandom_seed="
      "{}\nquantization={}\nkv_cache_dtype={}\njson_model_override_args={}\n",
      std::filesystem::path(path).filename().string(), cfg.load_format, cfg.dtype, cfg.tp_size, cfg.ep_size,
      cfg.nnodes, cfg.context_length, cfg.random_seed, cfg.quantization, cfg.kv_cache_dtype,
      cfg.json_model_override_args);
}

Result<std::unique_ptr<ModelRunner>> create_tp_runner(const EngineConfig& cfg) {
  SGL_TRY(validate(cfg));
  if (cfg.node_rank != 0)
    return invalid_argument("create_tp_runner runs on node 0; other nodes run run_follower_node");
  SGL_ASSIGN_OR_RETURN(NodeRendezvous rdv, rendezvous(rendezvous_config(cfg)));
  const int local = ranks_per_node(cfg);
  // Followers' results live in the threads' closure owner below; the leader keeps the threads.
  auto results = std::make_shared<std::vector<Status>>(static_cast<size_t>(local - 1));
  std::vector<std::thread> threads;
  for (int g = 1; g < local; ++g) {
    threads.emplace_back([cfg, &rdv, results, g] {
      tbb::task_arena arena(threads_per_rank(cfg));
      Status st = arena.execute([&]() -> Status {
        auto rank = setup_rank(cfg, rdv, g);
        return rank.ok() ? follower_loop(*rank) : std::move(rank).take_error();
      });
      if (!st.ok()) spdlog::debug("rank {} stopped: {}", g, st.error().message);
      (*results)[static_cast<size_t>(g - 1)] = std::move(st);
    });
  }
  tbb::task_arena setup_arena(threads_per_rank(cfg));
  auto leader = setup_arena.execute([&] { return setup_rank(cfg, rdv, 0); });
  if (!leader.ok()) {
    for (auto& t : threads) t.join();
    return std::move(leader).take_error();
  }
  spdlog::info("Tensor parallelism: {} ranks over {} node(s), {} on this node; expert parallelism {}",
               cfg.tp_size, cfg.nnodes, local, cfg.ep_size);
  // The threads capture `rdv` by reference only during setup, which has finished on every rank
  // (setup ends with a collective all of them join).
  return std::unique_ptr<ModelRunner>(std::make_unique<TpLeaderRunner>(
      std::move(rdv), std::move(*leader), std::move(threads), timeout_of(cfg), local, threads_per_rank(cfg)));
}

Status run_follower_node(const EngineConfig& cfg) {
  SGL_TRY(validate(cfg));
  if (cfg.node_rank == 0) return invalid_argument("node 0 runs the leader (create_tp_runner)");
  SGL_ASSIGN_OR_RETURN(NodeRendezvous rdv, rendezvous(rendezvous_config(cfg)));
  const int local = ranks_per_node(cfg), first = cfg.node_rank * local;
  std::vector<Status> results(static_cast<size_t>(local));
  auto threads = start_followers(cfg, rdv, first, first + local, results);
  for (auto& t : threads) t.join();
  for (auto& st : results) SGL_TRY(std::move(st));
  return {};
}

std::string tp_group_failure(const ModelRunner& runner) {
  const auto* tp = dynamic_cast<const TpLeaderRunner*>(&runner);
  return tp ? tp->failure() : "";
}

std::optional<CollectiveStats> tp_collective_stats(const ModelRunner& runner) {
  const auto* tp = dynamic_cast<const TpLeaderRunner*>(&runner);
  if (!tp) return std::nullopt;
  return tp->stats();
}

void reset_tp_collective_stats(ModelRunner& runner) {
  if (auto* tp = dynamic_cast<TpLeaderRunner*>(&runner)) tp->reset_stats();
}

}  // namespace sgl::engine::dist
