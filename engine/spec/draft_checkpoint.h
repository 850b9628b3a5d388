// The tensors of an EAGLE draft checkpoint. Draft heads store integer tensors (`d2t` as I64,
// `t2d` as BOOL) next to the float weights, which the engine's safetensors loader (float
// dtypes only) refuses; the heads are small, so this reader copies what it is asked for.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace sgl::engine::spec {

class DraftCheckpoint {
 public:
  // Every *.safetensors file of `dir` (one file or shards).
  static Result<DraftCheckpoint> open_dir(const std::string& dir);

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  // The tensor as fp32 (from F32/BF16/F16), checked against `shape`.
  Result<std::vector<float>> floats(const std::string& name, const std::vector<int64_t>& shape) const;
  // The tensor as int64 (from I64/I32), checked against `shape`.
  Result<std::vector<int64_t>> ints(const std::string& name, const std::vector<int64_t>& shape) const;

 private:
  struct Entry {
    std::string file;
    std::string dtype;
    std::vector<int64_t> shape;
    uint64_t offset = 0;  // absolute, in the file
    uint64_t bytes = 0;
  };
  Result<std::vector<uint8_t>> read(const Entry& e) const;
  Result<const Entry*> find(const std::string& name, const std::vector<int64_t>& shape) const;

  std::string dir_;
  std::map<std::string, Entry> entries_;
};

}  // namespace sgl::engine::spec
