// bench_tokenizer: single-thread encode/decode throughput of the Qwen3 tokenizer on a mixed corpus
// of several MB, and the same corpus through the JavaScript reference (transformers.js via
// tests/node/bench_tokenizer.mjs) in the same run; prints the ratio.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/shared_dir.h"
#include "server/text/tokenizer.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Lines of the parity corpus (prose in several scripts, code, emoji, special tokens) shuffled and
// repeated until `bytes`.
std::string build_corpus(const std::string& corpus_json, size_t bytes) {
  std::ifstream f(corpus_json);
  auto lines = nlohmann::json::parse(f).get<std::vector<std::string>>();
  std::mt19937 rng(7);
  std::string out;
  while (out.size() < bytes) {
    std::shuffle(lines.begin(), lines.end(), rng);
    for (const auto& l : lines) {
      out += l;
      out += '\n';
    }
  }
  return out;
}

// One pre-token of 1 MB (a letter run, a space run, a CJK run, a digit run): encoding must stay
// linear in length. Prints the 1 MB / 256 KB time ratio (4 is linear, 16 quadratic), best of 3.
void long_inputs(const sgl::text::Tokenizer& tok) {
  const std::pair<const char*, std::string> kinds[] = {{"letters", "a"},
                                                       {"spaces", " "},
                                                       {"cjk", "\xe4\xb8\xad"},
                                                       {"digits", "7"},
                                                       {"emoji", "\xf0\x9f\x98\x80"}};
  for (const auto& [name, unit] : kinds) {
    double secs[2];
    size_t sizes[2] = {256 * 1024, 1024 * 1024};
    for (int k = 0; k < 2; ++k) {
      std::string text;
      while (text.size() < sizes[k]) text += unit;
      secs[k] = 1e30;
      for (int rep = 0; rep < 3; ++rep) {  // best of 3: the machine is shared
        double t0 = now();
        auto r = tok.encode(text);
        if (r.ok()) secs[k] = std::min(secs[k], now() - t0);
      }
    }
    fmt::print("long input ({}): 1 MB in {:.1f} ms, 1 MB / 256 KB time = {:.1f}x\n", name, secs[1] * 1e3,
               secs[1] / secs[0]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string tokenizer_dir;
  double megabytes = 5.0;
  bool skip_js = false;
  CLI::App app{"bench_tokenizer: encode/decode MB/s vs the JavaScript reference"};
  app.add_option("--tokenizer", tokenizer_dir,
                 "Tokenizer directory (default ../shared/models/qwen3-tokenizer)");
  app.add_option("--megabytes", megabytes, "Corpus size");
  app.add_flag("--skip-js", skip_js, "Do not run the JavaScript reference");
  CLI11_PARSE(app, argc, argv);
  if (tokenizer_dir.empty()) {
    std::string shared = sgl::find_shared_dir(SGL_SOURCE_DIR);
    if (shared.empty()) {
      std::cerr << "no --tokenizer and ../shared not found\n";
      return 1;
    }
    tokenizer_dir = shared + "/models/qwen3-tokenizer";
  }
  auto tok = sgl::text::Tokenizer::from_dir(tokenizer_dir);
  if (!tok.ok()) {
    std::cerr << tok.error().message << "\n";
    return 1;
  }
  const std::string src = SGL_SOURCE_DIR;
  const std::string corpus =
      build_corpus(src + "/tests/text/fixtures/corpus.json", static_cast<size_t>(megabytes * 1024 * 1024));
  const double mb = static_cast<double>(corpus.size()) / (1024 * 1024);
  // Encode line by line, as a server sees separate prompts; the BPE cache starts cold.
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < corpus.size();) {
    size_t nl = corpus.find('\n', pos);
    lines.push_back(corpus.substr(pos, nl - pos + 1));
    pos = nl + 1;
  }
  double t0 = now();
  std::vector<std::vector<int32_t>> ids;
  size_t n_tokens = 0;
  for (const auto& l : lines) {
    auto r = (*tok)->encode(l);
    n_tokens += r->size();
    ids.push_back(std::move(*r));
  }
  const double enc_s = now() - t0;
  t0 = now();
  size_t out_bytes = 0;
  for (const auto& v : ids) out_bytes += (*tok)->decode(v, {.skip_special_tokens = false}).size();
  const double dec_s = now() - t0;
  fmt::print("corpus: {:.2f} MB, {} lines, {} tokens\n", mb, lines.size(), n_tokens);
  fmt::print("sglcpp encode: {:.2f} MB/s ({:.0f} tokens/s)\n", mb / enc_s, n_tokens / enc_s);
  fmt::print("sglcpp decode: {:.2f} MB/s\n", static_cast<double>(out_bytes) / (1024 * 1024) / dec_s);
  // Streaming detokenizer: what the server does per generated token of an SSE stream.
  t0 = now();
  size_t streamed = 0;
  for (const auto& v : ids) {
    sgl::text::StreamingDetokenizer d(*tok);
    for (int32_t id : v) streamed += d.feed(id).size();
    streamed += d.finish().size();
  }
  const double stream_s = now() - t0;
  fmt::print("sglcpp streaming detokenizer: {:.0f} ns/token ({} bytes out)\n", stream_s * 1e9 / n_tokens,
             streamed);
  long_inputs(**tok);
  if (skip_js) return 0;
  const std::string path = "/tmp/sglcpp_bench_tokenizer_corpus.txt";
  std::ofstream(path) << corpus;
  std::string cmd = "cd " + src + "/tests/node && node bench_tokenizer.mjs " + path + " 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return 0;
  std::string js;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p)) js += buf;
  pclose(p);
  auto j = nlohmann::json::parse(js, nullptr, false);
  if (j.is_discarded() || !j.contains("encode_s")) {
    fmt::print("JavaScript reference unavailable: {}\n", js.substr(0, 300));
    return 0;
  }
  const double js_enc = j["encode_s"].get<double>(), js_dec = j["decode_s"].get<double>();
  fmt::print("transformers.js encode: {:.2f} MB/s, decode: {:.2f} MB/s\n", mb / js_enc, mb / js_dec);
  fmt::print("ratio encode: {:.1f}x, decode: {:.1f}x (sglcpp / JavaScript, same corpus, same run)\n",
             js_enc / enc_s, js_dec / dec_s);
  if (j.value("tokens", int64_t{0}) != static_cast<int64_t>(n_tokens))
    fmt::print("note: token counts differ (sglcpp {}, JavaScript {})\n", n_tokens,
               j.value("tokens", int64_t{0}));
  return 0;
}
