// Memory-mapped safetensors checkpoints: one file or a sharded set behind
// model.safetensors.index.json. Headers are validated on open; tensors are views into the maps.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/dtype.h"

namespace sgl::engine {

class LoadProgress;

struct TensorView {
  std::string name;
  std::string file;  // for error messages
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  int64_t numel() const;
};

// One mapped file.
class SafetensorsFile {
 public:
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::map<std::string, TensorView>& tensors() const { return tensors_; }

 private:
  SafetensorsFile() = default;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorView> tensors_;
};

// One piece of a matrix stored in several files: rows [row0, row0 + shape[0]) × columns
// [col0, col0 + shape[1]) of the whole.
struct TensorPart {
  TensorView view;
  int64_t row0 = 0, col0 = 0;
};

// Every tensor of a checkpoint directory. A name found in several files (Grok-2's checkpoint keeps
// each expert matrix as one slice per tensor-parallel rank file: w1/w3 split by rows, w2 by
// columns) is one tensor in pieces, concatenated in file order.
class WeightFiles {
 public:
  static Result<WeightFiles> open_dir(const std::string& dir);
  // The tensor, checked against the expected shape; errors name the tensor and its file (and say
  // so for a tensor in pieces, which only get_parts() reads).
  Result<TensorView> get(const std::string& name, const std::vector<int64_t>& shape) const;
  // get(), and refused unless its dtype is a float one (F32, BF16, F16): where a model reads floats,
  // a quantized checkpoint's int or fp8 tensor must not be cast silently.
  Result<TensorView> get_float(const std::string& name, const std::vector<int64_t>& shape) const;
  // A [rows, cols] matrix as its pieces (one for an ordinary tensor), checked to tile `shape`
  // along one axis in file order with one dtype.
  Result<std::vector<TensorPart>> get_parts(const std::string& name, const std::vector<int64_t>& shape) const;
  bool contains(const std::string& name) const { return index_.count(resolve(name)) != 0; }
  const std::string& dir() const { return dir_; }
  // From now on, tensors handed out count towards a progress log (engine/load_progress.h) that
  // only a big or slow load prints; finish_progress() prints its last line. Call both around the
  // load that reads the weights (not a dry run, which reads none).
  void track_progress();
  void finish_progress();

 private:
  void note_read(const TensorView& v) const;
  // A base model saved on its own (Qwen3Model: Qwen3-Embedding checkpoints) names its tensors
  // without the "model." of the *ForCausalLM layout: such a name stands for the prefixed one.
  std::string resolve(const std::string& name) const;

  std::string dir_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> index_;
  std::map<std::string, std::vector<const TensorView*>> pieces_;  // names stored in several files
  std::shared_ptr<LoadProgress> progress_;                        // null: not tracked
  std::map<std::string, size_t> shard_of_;                        // file path → its index in files_
};

std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace sgl::engine
