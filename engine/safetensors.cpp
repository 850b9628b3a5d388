#include "engine/safetensors.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/load_progress.h"

namespace sgl::engine {

using Json = nlohmann::json;

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) munmap(map_, size_);
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return io_error("cannot stat " + path);
  }
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ < 8) {
    ::close(fd);
    return corrupt(path + ": truncated safetensors file (no header length)");
  }
  void* m = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return io_error("cannot mmap " + path);
  f->map_ = m;
  const auto* bytes = static_cast<const uint8_t*>(m);
  uint64_t header_len;
  std::memcpy(&header_len, bytes, 8);
  if (header_len > f->size_ - 8)
    return corrupt(fmt::format("{}: header length {} exceeds file size {}", path, header_len, f->size_));
  Json h = Json::parse(bytes + 8, bytes + 8 + header_len, nullptr, false);
  if (h.is_discarded() || !h.is_object())
    return corrupt(path + ": corrupt safetensors header (not a JSON object)");
  const uint8_t* data = bytes + 8 + header_len;
  const uint64_t data_size = f->size_ - 8 - header_len;
  for (const auto& [name, info] : h.items()) {
    if (name == "__metadata__") continue;
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
        !info.contains("data_offsets"))
      return corrupt(fmt::format("{}: tensor '{}' has a malformed header entry", path, name));
    TensorView v;
    v.name = name;
    v.file = path;
    std::string dt = info["dtype"].is_string() ? info["dtype"].get<std::string>() : "";
    if (dt == "F32") {
      v.dtype = DType::kF32;
    } else if (dt == "BF16") {
      v.dtype = DType::kBF16;
    } else if (dt == "F16") {
      v.dtype = DType::kF16;
    } else if (dt == "F8_E4M3") {
      v.dtype = DType::kF8E4M3;
    } else if (dt == "F8_E5M2") {
      v.dtype = DType::kF8E5M2;
    } else if (dt == "I8") {
      v.dtype = DType::kI8;
    } else if (dt == "U8") {
      v.dtype = DType::kU8;
    } else if (dt == "I32") {
      v.dtype = DType::kI32;
    } else {
      return unsupported(fmt::format(
          "{}: tensor '{}' has dtype {} (supported: F32, BF16, F16, F8_E4M3, F8_E5M2, I8, U8, I32)", path,
          name, dt));
    }
    // The element count must not overflow: a header's shape is the file's word, not a fact (found by
    // tests/fuzz/safetensors_fuzz.cpp: [2^62, 4] times 4 bytes).
    int64_t elements = 1;
    for (const auto& d : info["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0 ||
          __builtin_mul_overflow(elements, d.get<int64_t>(), &elements))
        return corrupt(fmt::format("{}: tensor '{}' has a bad shape", path, name));
      v.shape.push_back(d.get<int64_t>());
    }
    int64_t bytes = 0;
    if (__builtin_mul_overflow(elements, dtype_size(v.dtype), &bytes))
      return corrupt(fmt::format("{}: tensor '{}' has a bad shape", path, name));
    const Json& off = info["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return corrupt(fmt::format("{}: tensor '{}' has bad data_offsets", path, name));
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data_size)
      return corrupt(
          fmt::format("{}: tensor '{}' lies outside the file (offsets {}..{}, data {} bytes): truncated?",
                      path, name, b, e, data_size));
    if (static_cast<int64_t>(e - b) != bytes)
      return corrupt(fmt::format("{}: tensor '{}' byte size {} does not match shape {} of {}", path, name,
                                 e - b, shape_str(v.shape), dtype_name(v.dtype)));
    v.data = data + b;
    f->tensors_.emplace(name, std::move(v));
  }
  return f;
}

Result<WeightFiles> WeightFiles::open_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  WeightFiles w;
  w.dir_ = dir;
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return not_found("model path " + dir + " is not a readable directory");
  std::string index = dir + "/model.safetensors.index.json";
  if (fs::exists(index, ec)) {
    std::ifstream f(index);
    std::stringstream ss;
    ss << f.rdbuf();
    Json j = Json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.contains("weight_map") || !j["weight_map"].is_object())
      return corrupt(index + ": missing 'weight_map'");
    for (const auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string()) return corrupt(index + ": bad entry for " + name);
      std::string p = dir + "/" + file.get<std::string>();
      if (std::find(files.begin(), files.end(), p) == files.end()) files.push_back(p);
    }
  } else if (fs::exists(dir + "/model.safetensors", ec)) {
    files.push_back(dir + "/model.safetensors");
  } else {
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) return not_found("no *.safetensors weights in " + dir);
  for (const auto& p : files) {
    SGL_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open(p));
    w.files_.push_back(std::move(f));
  }
  for (const auto& f : w.files_)
    for (const auto& [name, view] : f->tensors()) {
      auto [it, fresh] = w.index_.emplace(name, &view);
      if (!fresh) {
        auto& pieces = w.pieces_[name];
        if (pieces.empty()) pieces.push_back(it->second);
        pieces.push_back(&view);
      }
    }
  return w;
}

std::string WeightFiles::resolve(const std::string& name) const {
  constexpr std::string_view kPrefix = "model.";
  if (index_.count(name) != 0 || name.compare(0, kPrefix.size(), kPrefix) != 0) return name;
  std::string bare = name.substr(kPrefix.size());
  return index_.count(bare) != 0 ? bare : name;
}

Result<TensorView> WeightFiles::get(const std::string& requested, const std::vector<int64_t>& shape) const {
  const std::string name = resolve(requested);
  auto it = index_.find(name);
  if (it == index_.end())
    return not_found(fmt::format("tensor '{}' is missing from the checkpoint in {}", name, dir_));
  const TensorView& v = *it->second;
  note_read(v);
  if (auto p = pieces_.find(name); p != pieces_.end())
    return unsupported(
        fmt::format("tensor '{}' is stored in {} pieces ({}, ...), which only expert and "
                    "projection matrices may be",
                    name, p->second.size(), v.file));
  if (v.shape != shape)
    return corrupt(fmt::format("{}: tensor '{}' has shape {}, expected {}", v.file, name, shape_str(v.shape),
                               shape_str(shape)));
  return v;
}

Result<TensorView> WeightFiles::get_float(const std::string& name, const std::vector<int64_t>& shape) const {
  SGL_ASSIGN_OR_RETURN(TensorView v, get(name, shape));
  if (!is_float_dtype(v.dtype))
    return corrupt(fmt::format("{}: tensor '{}' is {}, where a float tensor (F32, BF16, F16) belongs{}",
                               v.file, v.name, dtype_name(v.dtype),
                               v.dtype == DType::kF8E4M3 || v.dtype == DType::kI32
                                   ? " (a quantized checkpoint without its quantization_config?)"
                                   : ""));
  return v;
}

Result<std::vector<TensorPart>> WeightFiles::get_parts(const std::string& requested,
                                                       const std::vector<int64_t>& shape) const {
  const std::string name = resolve(requested);
  auto p = pieces_.find(name);
  if (p == pieces_.end()) {
    SGL_ASSIGN_OR_RETURN(TensorView v, get(name, shape));
    return std::vector<TensorPart>{{std::move(v), 0, 0}};
  }
  const auto& views = p->second;
  auto bad = [&](const std::string& why) {
    return corrupt(fmt::format("tensor '{}' is stored in {} pieces ({} … {}) that {}; expected {} in all",
                               name, views.size(), views.front()->file, views.back()->file, why,
                               shape_str(shape)));
  };
  if (shape.size() != 2) return bad("are not a matrix");
  // Rows or columns: the axis along which the pieces' sizes add up to the whole.
  int64_t rows = 0, cols = 0;
  bool same_cols = true, same_rows = true;
  for (const TensorView* v : views) {
    if (v->shape.size() != 2 || v->dtype != views.front()->dtype) return bad("differ in rank or dtype");
    rows += v->shape[0];
    cols += v->shape[1];
    same_cols &= v->shape[1] == shape[1];
    same_rows &= v->shape[0] == shape[0];
  }
  const bool by_rows = same_cols && rows == shape[0], by_cols = same_rows && cols == shape[1];
  if (!by_rows && !by_cols) return bad("do not tile it along one axis");
  std::vector<TensorPart> parts;
  int64_t at = 0;
  for (const TensorView* v : views) {
    note_read(*v);
    parts.push_back({*v, by_rows ? at : 0, by_rows ? 0 : at});
    at += by_rows ? v->shape[0] : v->shape[1];
  }
  return parts;
}

void WeightFiles::track_progress() {
  std::vector<int64_t> shard_bytes;
  for (const auto& f : files_) {
    int64_t bytes = 0;
    for (const auto& [name, v] : f->tensors()) bytes += v.numel() * dtype_size(v.dtype);
    if (!f->tensors().empty()) shard_of_.emplace(f->tensors().begin()->second.file, shard_bytes.size());
    shard_bytes.push_back(bytes);
  }
  progress_ = std::make_shared<LoadProgress>(std::move(shard_bytes));
}

void WeightFiles::finish_progress() {
  if (progress_) progress_->finish();
}

void WeightFiles::note_read(const TensorView& v) const {
  if (!progress_) return;
  auto it = shard_of_.find(v.file);
  progress_->add(&v, it == shard_of_.end() ? 0 : it->second, v.numel() * dtype_size(v.dtype));
}

}  // namespace sgl::engine
