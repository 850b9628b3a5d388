#include "engine/spec/draft_checkpoint.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/dtype.h"

namespace sgl::engine::spec {

namespace {

int64_t elem_size(const std::string& dt) {
  if (dt == "F32" || dt == "I32") return 4;
  if (dt == "BF16" || dt == "F16") return 2;
  if (dt == "I64" || dt == "F64") return 8;
  if (dt == "BOOL" || dt == "U8" || dt == "I8") return 1;
  return 0;
}

std::string shape_text(const std::vector<int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

}  // namespace

Result<DraftCheckpoint> DraftCheckpoint::open_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  DraftCheckpoint ck;
  ck.dir_ = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return not_found("draft model path " + dir + " is not a directory");
  for (const auto& de : fs::directory_iterator(dir, ec)) {
    const std::string path = de.path().string();
    if (de.path().extension() != ".safetensors") continue;
    std::ifstream f(path, std::ios::binary);
    uint64_t header_len = 0;
    if (!f.read(reinterpret_cast<char*>(&header_len), 8))
      return corrupt(path + ": truncated safetensors file (no header length)");
    const auto file_size = static_cast<uint64_t>(fs::file_size(path, ec));
    if (header_len > file_size - 8) return corrupt(path + ": header length exceeds the file");
    std::string header(header_len, '\0');
    f.read(header.data(), static_cast<std::streamsize>(header_len));
    auto h = nlohmann::json::parse(header, nullptr, false);
    if (h.is_discarded() || !h.is_object()) return corrupt(path + ": corrupt safetensors header");
    const uint64_t data0 = 8 + header_len;
    for (const auto& [name, info] : h.items()) {
      if (name == "__metadata__") continue;
      Entry e;
      e.file = path;
      e.dtype = info.value("dtype", "");
      e.shape = info.value("shape", std::vector<int64_t>{});
      const auto offs = info.value("data_offsets", std::vector<uint64_t>{});
      if (offs.size() != 2 || offs[1] < offs[0] || data0 + offs[1] > file_size)
        return corrupt(fmt::format("{}: tensor '{}' has bad data offsets", path, name));
      e.offset = data0 + offs[0];
      e.bytes = offs[1] - offs[0];
      int64_t n = 1;
      for (auto d : e.shape) n *= d;
      if (elem_size(e.dtype) == 0 || static_cast<uint64_t>(n * elem_size(e.dtype)) != e.bytes)
        return corrupt(fmt::format("{}: tensor '{}' ({} {}) does not match its byte size", path, name,
                                   e.dtype, shape_text(e.shape)));
      ck.entries_[name] = std::move(e);
    }
  }
  if (ck.entries_.empty()) return not_found("draft model path " + dir + " has no .safetensors weights");
  return ck;
}

Result<const DraftCheckpoint::Entry*> DraftCheckpoint::find(const std::string& name,
                                                            const std::vector<int64_t>& shape) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return not_found(fmt::format("draft model {}: missing tensor '{}'", dir_, name));
  if (it->second.shape != shape)
    return invalid_argument(fmt::format("draft model {}: tensor '{}' has shape {}, expected {}", dir_, name,
                                        shape_text(it->second.shape), shape_text(shape)));
  return &it->second;
}

Result<std::vector<uint8_t>> DraftCheckpoint::read(const Entry& e) const {
  std::ifstream f(e.file, std::ios::binary);
  std::vector<uint8_t> buf(e.bytes);
  f.seekg(static_cast<std::streamoff>(e.offset));
  if (!f.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(e.bytes)))
    return io_error("cannot read " + e.file);
  return buf;
}

Result<std::vector<float>> DraftCheckpoint::floats(const std::string& name,
                                                   const std::vector<int64_t>& shape) const {
  SGL_ASSIGN_OR_RETURN(const Entry* e, find(name, shape));
  SGL_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, read(*e));
  const size_t n = e->bytes / static_cast<uint64_t>(elem_size(e->dtype));
  std::vector<float> out(n);
  if (e->dtype == "F32") {
    std::memcpy(out.data(), raw.data(), n * 4);
  } else if (e->dtype == "BF16" || e->dtype == "F16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, raw.data() + 2 * i, 2);
      out[i] = e->dtype == "BF16" ? bf16_to_f32(h) : f16_to_f32(h);
    }
  } else {
    return invalid_argument(
        fmt::format("draft model {}: tensor '{}' is {}, expected a float type", dir_, name, e->dtype));
  }
  return out;
}

Result<std::vector<int64_t>> DraftCheckpoint::ints(const std::string& name,
                                                   const std::vector<int64_t>& shape) const {
  SGL_ASSIGN_OR_RETURN(const Entry* e, find(name, shape));
  SGL_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, read(*e));
  std::vector<int64_t> out;
  if (e->dtype == "I64") {
    out.resize(raw.size() / 8);
    std::memcpy(out.data(), raw.data(), raw.size());
  } else if (e->dtype == "I32") {
    out.resize(raw.size() / 4);
    for (size_t i = 0; i < out.size(); ++i) {
      int32_t v;
      std::memcpy(&v, raw.data() + 4 * i, 4);
      out[i] = v;
    }
  } else {
    return invalid_argument(
        fmt::format("draft model {}: tensor '{}' is {}, expected I64 or I32", dir_, name, e->dtype));
  }
  return out;
}

}  // namespace sgl::engine::spec
