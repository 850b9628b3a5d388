// Drives a ModelRunner the way the scheduler does, for engine tests: requests own KV slots handed
// out page by page (pages deliberately out of order so the paging indirection is exercised).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/shared_dir.h"
#include "engine/engine_config.h"
#include "engine/model_runner.h"

namespace sgl::engine::testing {

inline std::string model_dir(const std::string& name) {
  std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
  return shared.empty() ? "" : shared + "/models/" + name;
}

inline std::unique_ptr<ModelRunner> make_runner(const std::string& path, const std::string& dtype,
                                                int64_t slots = 8192, int page_size = 16,
                                                const std::string& load_format = "auto") {
  EngineConfig cfg;
  cfg.model_path = path;
  cfg.dtype = dtype;
  cfg.load_format = load_format;
  auto r = create_model_runner(cfg);
  if (!r.ok()) return nullptr;
  auto runner = std::move(*r);
  if (!runner->init_kv_cache(slots, page_size).ok()) return nullptr;
  return runner;
}

// Slot allocator: pages of `page_size`, handed out from the top of the pool downwards.
class SlotPool {
 public:
  SlotPool(int64_t num_slots, int page_size) : page_size_(page_size), next_page_(num_slots / page_size - 1) {}
  // Grows a request's slot list to `len` slots.
  void grow(std::vector<int32_t>& slots, int64_t len) {
    while (static_cast<int64_t>(slots.size()) < len) {
      // A new page when the request's last one is full; otherwise continue its own last page.
      const int64_t page = slots.size() % page_size_ == 0 ? next_page_-- : slots.back() / page_size_;
      slots.push_back(
          static_cast<int32_t>(page * page_size_ + static_cast<int64_t>(slots.size() % page_size_)));
    }
  }

 private:
  int page_size_;
  int64_t next_page_;
};

struct Request {
  std::vector<int32_t> tokens;  // every token fed so far
  std::vector<int32_t> slots;
  int64_t cached = 0;  // tokens already in KV
};

// Appends one request's chunk to a batch; `all_logits`: logits for every new token.
inline void add_chunk(StepInput& in, Request& req, const std::vector<int32_t>& chunk, SlotPool& pool,
                      bool all_logits, int32_t req_slot = -1) {
  Segment s;
  s.prefix_len = static_cast<int32_t>(req.cached);
  s.new_len = static_cast<int32_t>(chunk.size());
  s.slot_offset = static_cast<int64_t>(in.batch.kv_slots.size());
  s.logits_start = all_logits ? 0 : s.new_len - 1;
  for (size_t i = 0; i < chunk.size(); ++i) {
    in.batch.input_ids.push_back(chunk[i]);
    in.batch.positions.push_back(static_cast<int32_t>(req.cached + static_cast<int64_t>(i)));
  }
  req.tokens.insert(req.tokens.end(), chunk.begin(), chunk.end());
  pool.grow(req.slots, req.cached + s.new_len);
  in.batch.kv_slots.insert(in.batch.kv_slots.end(), req.slots.begin(),
                           req.slots.begin() + req.cached + s.new_len);
  for (int32_t i = s.logits_start; i < s.new_len; ++i) {
    RowSampling rs;
    rs.req_slot = req_slot;
    in.sampling.push_back(rs);
  }
  in.batch.segments.push_back(std::move(s));
  req.cached += static_cast<int64_t>(chunk.size());
}

// Prefills `ids` as request `req` in chunks that end at each of `positions` (ascending), so only
// those rows need logits: the logits row of every position, or the step's error message.
inline Result<std::vector<std::vector<float>>> logits_at_positions(ModelRunner& runner, SlotPool& pool,
                                                                   Request& req,
                                                                   const std::vector<int32_t>& ids,
                                                                   const std::vector<int64_t>& positions) {
  std::vector<std::vector<float>> rows;
  int64_t start = 0;
  for (int64_t p : positions) {
    StepInput in;
    in.return_logits = true;
    add_chunk(in, req, std::vector<int32_t>(ids.begin() + start, ids.begin() + p + 1), pool, false);
    auto out = runner.step(in);
    if (!out.ok()) return std::move(out).take_error();
    rows.emplace_back(out->logits.begin(), out->logits.end());
    start = p + 1;
  }
  return rows;
}

}  // namespace sgl::engine::testing
