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

// Every tensor of a checkpoint directory.
class WeightFiles {
 public:
  static Result<WeightFiles> open_dir(const std::string& dir);
  // The tensor, checked against the expected shape; errors name the tensor and its file.
  Result<TensorView> get(const std::string& name, const std::vector<int64_t>& shape) const;
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> index_;
};

std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace sgl::engine
