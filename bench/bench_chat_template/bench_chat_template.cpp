// Chat-template render cost: the real Qwen3 template on an N-turn conversation with tools,
// tool calls, tool results and reasoning, as the server renders it for every chat request.
// Prints CPU µs per parse and per render (median of rounds). Usage:
//   bench_chat_template [--turns 20] [--iters 2000] [--template path.jinja]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench/bench_timing.h"
#include "server/text/chat_template.h"

namespace {

nlohmann::ordered_json conversation(int turns) {
  using J = nlohmann::ordered_json;
  J weather = {{"type", "function"},
               {"function",
                {{"name", "get_weather"},
                 {"description", "Current weather for a city"},
                 {"parameters",
                  {{"type", "object"},
                   {"properties",
                    {{"city", {{"type", "string"}}}, {"unit", {{"type", "string"}, {"enum", {"C", "F"}}}}}},
                   {"required", {"city"}}}}}}};
  J search = weather;
  search["function"]["name"] = "web_search";
  J msgs = J::array();
  msgs.push_back({{"role", "system"}, {"content", "You are a helpful assistant. Answer concisely."}});
  for (int t = 0; t < turns; ++t) {
    msgs.push_back(
        {{"role", "user"}, {"content", fmt::format("Question {}: what is the weather in city {}?", t, t)}});
    if (t % 3 == 0) {
      msgs.push_back(
          {{"role", "assistant"},
           {"content", ""},
           {"reasoning_content", "I should call the weather tool."},
           {"tool_calls",
            {{{"id", fmt::format("call_{}", t)},
              {"type", "function"},
              {"function", {{"name", "get_weather"}, {"arguments", {{"city", fmt::format("c{}", t)}}}}}}}}});
      msgs.push_back({{"role", "tool"}, {"content", R"({"temp": 21, "sky": "clear"})"}});
    }
    msgs.push_back(
        {{"role", "assistant"},
         {"content",
          fmt::format("<think>\nreasoning for turn {}\n</think>\n\nIt is sunny in city {}.", t, t)}});
  }
  msgs.push_back({{"role", "user"}, {"content", "Thanks! Summarise everything."}});
  return {{"messages", msgs},
          {"tools", {weather, search}},
          {"add_generation_prompt", true},
          {"enable_thinking", true}};
}

using sgl::bench::median;
using sgl::bench::thread_cpu_us;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chat template render benchmark"};
  int turns = 20, iters = 2000, rounds = 7;
  std::string path = std::string(SGL_SOURCE_DIR) + "/tests/text/fixtures/chat/qwen3.jinja";
  app.add_option("--turns", turns, "user/assistant turns in the conversation");
  app.add_option("--iters", iters, "renders per round");
  app.add_option("--rounds", rounds, "rounds (the median is reported)");
  app.add_option("--template", path, "Jinja chat template file");
  CLI11_PARSE(app, argc, argv);

  std::ifstream f(path);
  if (!f) {
    fmt::print(stderr, "cannot read {}\n", path);
    return 1;
  }
  const std::string source(std::istreambuf_iterator<char>(f), {});
  const std::string ctx = conversation(turns).dump();

  std::vector<double> parse_us, render_us;
  size_t out_bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    const double t0 = thread_cpu_us();
    const int parses = std::max(1, iters / 10);
    std::shared_ptr<const sgl::text::ChatTemplate> tmpl;
    for (int i = 0; i < parses; ++i) {
      auto t = sgl::text::ChatTemplate::create(source);
      if (!t.ok()) {
        fmt::print(stderr, "parse failed: {}\n", t.error().message);
        return 1;
      }
      tmpl = *t;
    }
    const double t1 = thread_cpu_us();
    for (int i = 0; i < iters; ++i) {
      auto out = tmpl->render(ctx);
      if (!out.ok()) {
        fmt::print(stderr, "render failed: {}\n", out.error().message);
        return 1;
      }
      out_bytes = out->size();
    }
    const double t2 = thread_cpu_us();
    parse_us.push_back((t1 - t0) / parses);
    render_us.push_back((t2 - t1) / iters);
  }
  fmt::print(
      "chat_template {} turns ({} messages, {} context bytes -> {} prompt bytes): parse {:.1f} us, "
      "render {:.1f} us (JSON context parse included); thread CPU time, median of {} rounds x {} renders\n",
      turns, conversation(turns)["messages"].size(), ctx.size(), out_bytes, median(parse_us),
      median(render_us), rounds, iters);
  return 0;
}
