// A malicious checkpoint (engine/safetensors.h): arbitrary bytes as a model.safetensors file (header
// length, header JSON with any names, dtypes, shapes and offsets), or as the
// model.safetensors.index.json of a directory with one valid shard. Opening gives an error, or tensors
// that lie inside the file with a byte size that matches shape × dtype — never a crash, an
// out-of-bounds view or an allocation the file does not justify.
//
// Input: [mode][bytes]; mode even: the .safetensors file, odd: the index (with one valid shard).
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/safetensors.h"
#include "fuzz_util.h"

namespace {

namespace fs = std::filesystem;

// A directory of this process for the files under test (removed at exit).
const fs::path& work_dir() {
  static const struct Dir {
    fs::path path;
    Dir() {
      path = fs::temp_directory_path() / ("sgl-fuzz-safetensors-" + std::to_string(getpid()));
      fs::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } dir;
  return dir.path;
}

void write_file(const fs::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A valid shard: one F32 [2] tensor and one BF16 [1, 3] tensor.
std::string valid_shard() {
  const std::string header =
      R"({"a.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("model.b":{"dtype":"BF16","shape":[1,3],"data_offsets":[8,14]},"__metadata__":{"format":"pt"}})";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  return file + header + std::string(14, '\x01');
}

void check_views(const std::map<std::string, sgl::engine::TensorView>& tensors, size_t file_size) {
  volatile uint8_t sink = 0;
  for (const auto& [name, v] : tensors) {
    FUZZ_CHECK(v.numel() >= 0, name);
    const int64_t bytes = v.numel() * sgl::engine::dtype_size(v.dtype);
    FUZZ_CHECK(bytes >= 0 && static_cast<size_t>(bytes) <= file_size, name + ": " + std::to_string(bytes));
    if (bytes > 0) {  // touch both ends: a view past the mapping faults here
      const auto* p = static_cast<const uint8_t*>(v.data);
      sink = sink + p[0] + p[bytes - 1];
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sgl::fuzz::Input in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view bytes = in.rest();
  const fs::path dir = work_dir();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) fs::remove(e.path(), ec);

  if (mode % 2 == 0) {
    write_file(dir / "model.safetensors", bytes);
    auto f = sgl::engine::SafetensorsFile::open((dir / "model.safetensors").string());
    if (!f.ok()) {
      FUZZ_CHECK(f.error().code == sgl::ErrorCode::kCorrupt || f.error().code == sgl::ErrorCode::kUnsupported,
                 f.error().message);
      return 0;
    }
    check_views((*f)->tensors(), bytes.size());
  } else {
    write_file(dir / "model-00001.safetensors", valid_shard());
    write_file(dir / "model.safetensors.index.json", bytes);
  }
  auto w = sgl::engine::WeightFiles::open_dir(dir.string());
  if (!w.ok()) return 0;
  for (const char* name : {"a.weight", "model.b", "b", "model.a.weight"}) {
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{2}, std::vector<int64_t>{1, 3}}) {
      auto v = w->get_float(name, shape);
      if (v.ok()) FUZZ_CHECK(v->shape == shape, name);
      auto parts = w->get_parts(name, shape);
      if (parts.ok()) FUZZ_CHECK(!parts->empty(), name);
    }
  }
  return 0;
}
