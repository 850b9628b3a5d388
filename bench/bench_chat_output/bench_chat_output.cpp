// Cost of parsing a chat answer as the server does for every streamed choice: the qwen3
// reasoning parser chained with a tool-call parser (qwen3_coder or hermes) over a long agentic
// answer (a <think> block, text, several calls with multi-line code arguments), fed either whole
// (non-streaming) or in token-sized pieces (streaming, one feed per ~4 bytes).
// Prints thread-CPU µs per answer and MB/s (median of rounds). Usage:
//   bench_chat_output [--iters 2000] [--rounds 7] [--piece 4] [--lines 30]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "bench/bench_timing.h"
#include "server/parsers/chat_output.h"

namespace {

constexpr const char* kTools = R"([
  {"type":"function","function":{"name":"str_replace_editor","parameters":{"type":"object","properties":{
    "command":{"type":"string"},"path":{"type":"string"},"old_str":{"type":"string"},"new_str":{"type":"string"},
    "view_range":{"type":"array"}}}}},
  {"type":"function","function":{"name":"execute_bash","parameters":{"type":"object","properties":{
    "command":{"type":"string"},"timeout":{"type":"integer"}}}}}])";

std::string code_block(int lines) {
  std::string s;
  for (int i = 0; i < lines; ++i)
    s += fmt::format("    if (x_{0} < limit && \"q{0}\" != name) {{ total += x_{0} * {0}; }}\n", i);
  return s;
}

std::string answer(bool coder, int lines) {
  std::string out = "<think>\n";
  for (int i = 0; i < 20; ++i)
    out += fmt::format("Step {}: the bug is probably in the loop bound, check it.\n", i);
  out += "</think>\n\nI will fix the loop and run the tests.\n";
  for (int call = 0; call < 4; ++call) {
    const std::string code = code_block(lines);
    if (coder) {
      out += fmt::format(
          "<tool_call>\n<function=str_replace_editor>\n<parameter=command>\nstr_replace\n</parameter>\n"
          "<parameter=path>\n/src/f{}.cpp\n</parameter>\n<parameter=old_str>\n{}</parameter>\n"
          "<parameter=new_str>\n{}</parameter>\n</function>\n</tool_call>\n",
          call, code, code);
    } else {
      std::string esc;
      for (char c : code)
        esc += c == '\n' ? std::string("\\n") : c == '"' ? std::string("\\\"") : std::string(1, c);
      out += fmt::format(
          "<tool_call>\n{{\"name\": \"str_replace_editor\", \"arguments\": {{\"command\": \"str_replace\", "
          "\"path\": \"/src/f{}.cpp\", \"old_str\": \"{}\", \"new_str\": \"{}\"}}}}\n</tool_call>\n",
          call, esc, esc);
    }
  }
  return out;
}

using sgl::bench::median;
using sgl::bench::thread_cpu_us;

// µs per answer; `piece` 0 = whole.
double run(const std::string& parser, const std::string& text, size_t piece, int iters, int rounds,
           int& calls) {
  sgl::server::ChatParsingOptions o;
  o.tool_call_parser = parser;
  o.reasoning_parser = "qwen3";
  o.tools_json = kTools;
  std::vector<double> us;
  for (int r = 0; r < rounds; ++r) {
    const double t0 = thread_cpu_us();
    for (int i = 0; i < iters; ++i) {
      auto p = sgl::server::ChatOutputParser::create(o, "");
      if (!p.ok()) return -1;
      const size_t step = piece ? piece : text.size();
      for (size_t at = 0; at < text.size(); at += step) (*p)->feed(std::string_view(text).substr(at, step));
      (*p)->finish();
      calls = (*p)->num_calls();
    }
    us.push_back((thread_cpu_us() - t0) / iters);
  }
  return median(us);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chat output (reasoning + tool-call) parsing benchmark"};
  int iters = 2000, rounds = 7;
  size_t piece = 4;
  int lines = 30;
  app.add_option("--iters", iters, "answers per round");
  app.add_option("--rounds", rounds, "rounds (the median is reported)");
  app.add_option("--piece", piece, "bytes per streamed feed (about one token)");
  app.add_option("--lines", lines, "lines of code in each of the 4 calls' old_str and new_str");
  CLI11_PARSE(app, argc, argv);
  for (const char* parser : {"qwen3_coder", "hermes"}) {
    const std::string text = answer(std::string(parser) == "qwen3_coder", lines);
    for (size_t p : {size_t(0), piece}) {
      int calls = 0;
      const double us = run(parser, text, p, iters, rounds, calls);
      if (us < 0) return 1;
      fmt::print(
          "{:<12} {:>9}: {} bytes, {} calls: {:.1f} us/answer, {:.0f} MB/s (thread CPU, median of {} x {})\n",
          parser, p ? fmt::format("{}B feeds", p) : std::string("whole"), text.size(), calls, us,
          double(text.size()) / us, rounds, iters);
    }
  }
  return 0;
}
