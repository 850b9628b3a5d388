// What node 0's leader rank sends the other ranks each step, as bytes for a broadcast: a fixed
// header (the command and the payload's size), then the payload — for a forward, the batch with
// its input ids already resolved (placeholders are a leader-side table).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/forward_batch.h"
#include "engine/model_runner.h"

namespace sgl::engine::dist {

enum class Command : uint32_t {
  kForward = 1,      // payload: encoded batch + ids
  kInitKv = 2,       // payload: num_slots, page_size
  kLoadWeights = 3,  // payload: model path
  kHeartbeat = 4,    // no payload; followed by a barrier (proves every rank alive)
  kShutdown = 5,
  kInitLora = 6,  // payload: the LoRA pool's slots, rank, modules
  kLoadLora = 7,  // payload: a slot and the adapter to put there (or none), weights included
};

struct CommandHeader {
  uint32_t command = 0;
  uint32_t reserved = 0;
  uint64_t payload_bytes = 0;
};
static_assert(sizeof(CommandHeader) == 16);

// `hidden_size`: the width of the segments' input_embeds rows (only the new tokens' rows travel).
std::vector<uint8_t> encode_forward(const ForwardBatch& batch, const std::vector<int32_t>& ids,
                                    int64_t hidden_size);
Status decode_forward(const std::vector<uint8_t>& bytes, ForwardBatch& batch, std::vector<int32_t>& ids);

std::vector<uint8_t> encode_init_kv(int64_t num_slots, int page_size);
Status decode_init_kv(const std::vector<uint8_t>& bytes, int64_t& num_slots, int& page_size);

std::vector<uint8_t> encode_init_lora(const LoraPoolConfig& config);
Status decode_init_lora(const std::vector<uint8_t>& bytes, LoraPoolConfig& config);

// The whole adapter travels (each rank slices it as it installs it), so follower nodes need no
// copy of the adapter's files.
std::vector<uint8_t> encode_lora_load(const LoraSlotLoad& load);
Status decode_lora_load(const std::vector<uint8_t>& bytes, LoraSlotLoad& load);

}  // namespace sgl::engine::dist
