// write_chrome_trace_gz (base/trace.h): zlib's gzip stream, in 1 MiB pieces.
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "base/trace.h"

namespace sgl::trace {

Status write_chrome_trace_gz(const Capture& c, const std::string& path, std::string_view process_name) {
  const std::string json = to_chrome_json(c, ::getpid(), process_name);
  const std::string tmp = path + ".partial";
  gzFile f = gzopen(tmp.c_str(), "wb6");
  if (f == nullptr) return io_error(fmt::format("cannot create {}", tmp));
  size_t off = 0;
  bool ok = true;
  while (off < json.size() && ok) {
    const auto n = static_cast<unsigned>(std::min<size_t>(json.size() - off, size_t{1} << 20));
    ok = gzwrite(f, json.data() + off, n) == static_cast<int>(n);
    off += n;
  }
  ok = gzclose(f) == Z_OK && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    return io_error(fmt::format("cannot write {}", path));
  }
  return ok_status();
}

}  // namespace sgl::trace
