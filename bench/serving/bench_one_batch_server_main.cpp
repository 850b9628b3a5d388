// bench_one_batch_server: one batch of fixed-length requests per case of the (batch size × input
// len × output len) cross product — SGLang-JAX's tool, same flags, lines and records. Like
// SGLang-JAX's it takes every launch flag: without --base-url it launches sglcpp-server with them,
// benchmarks it and stops it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "bench/common/parse_flags.h"
#include "bench/serving/profile_client.h"
#include "bench/serving/run_requests.h"
#include "bench/serving/server_launcher.h"
#include "bench/serving/server_probe.h"
#include "server/args.h"
#include "server/flags/config_file.h"
#include "server/flags/flag_table.h"

namespace {

using sgl::bench::Endpoint;
using Json = nlohmann::json;

struct Args {  // SGLang-JAX's BenchArgs, plus --seed
  std::string run_name = "default";
  std::vector<int64_t> batch_size = {1}, input_len = {1024}, output_len = {16};
  double temperature = 0.0;
  bool return_logprob = false;
  int client_stream_interval = 1;
  double input_len_step_percentage = 0.0;
  std::string result_filename = "result.jsonl";
  std::string base_url;
  bool skip_warmup = false, show_report = false, profile = false, profile_by_stage = false;
  std::string api_type = "native";
  uint64_t seed = 42;
};

struct CaseResult {
  int64_t bs = 0, in = 0, out = 0;
  double latency = 0, ttft = 0, last_gen_throughput = -1;
  double input_throughput = 0, output_throughput = 0, overall_throughput = 0;
  double accept_length = -1;
  std::string profile_link;
  std::string error;
};

int64_t vocab_limit(const std::string& model_path) {
  // Random ids stay below 10000 as SGLang draws them, and below the model's vocabulary.
  std::ifstream f(model_path + "/config.json");
  if (!f) return 10000;
  Json j = Json::parse(f, nullptr, false);
  if (j.is_object() && j.contains("vocab_size") && j["vocab_size"].is_number_integer())
    return std::min<int64_t>(10000, j["vocab_size"].get<int64_t>() - 1);
  return 10000;
}

CaseResult run_case(const Endpoint& ep, const Args& a, int64_t bs, int64_t in, int64_t out, std::mt19937_64& rng,
                    int64_t max_id, bool profile) {
  using namespace sgl::bench;
  CaseResult r;
  r.bs = bs, r.in = in, r.out = out;
  http_post(ep, "/flush_cache", "");
  std::uniform_int_distribution<int64_t> id(0, max_id);
  Json ids = Json::array();
  for (int64_t b = 0; b < bs; ++b) {
    Json row = Json::array();
    for (int64_t i = 0; i < in; ++i) row.push_back(id(rng));
    ids.push_back(std::move(row));
  }
  Json body;
  std::string path;
  if (a.api_type == "openai") {
    path = "/v1/completions";
    body = {{"model", "default"},           {"prompt", ids},      {"max_tokens", out},
            {"temperature", a.temperature}, {"ignore_eos", true}, {"stream", true},
            {"logprobs", a.return_logprob ? Json(1) : Json(nullptr)}};
  } else {
    path = "/generate";
    body = {{"input_ids", ids},
            {"sampling_params",
             {{"temperature", a.temperature},
              {"max_new_tokens", out},
              {"ignore_eos", true},
              {"json_schema", nullptr},
              {"stream_interval", a.client_stream_interval}}},
            {"return_logprob", a.return_logprob},
            {"stream", true}};
  }
  if (profile) {
    // SGLang-JAX's run_profile: 3 steps into a fresh directory, server args beside the trace.
    const auto dir = std::filesystem::path("/tmp/sgl-jax-profile") /
                     fmt::format("{:.6f}", std::chrono::duration<double>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    ProfileRequest pr;
    pr.output_dir = dir.string();
    pr.num_steps = "3";
    pr.num_steps_as_string = true;
    pr.profile_by_stage = a.profile_by_stage;
    ProfileReply rep = start_profile(ep, pr);
    if (rep.outcome == ProfileOutcome::kNoProfiler) {
      r.error = no_profiler_warning("--profile", ep, rep);
      return r;
    }
    if (rep.outcome != ProfileOutcome::kOk) {
      r.error = "starting the profiler failed: " + rep.message;
      return r;
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::ofstream(dir / "server_args.json") << fetch_server_info(ep);
    std::cout << "Dump profiling traces to " << dir.string() << "\n";
    r.profile_link = dir.string();
  }
  double st = now_seconds();
  auto on_data = [&](std::string_view data) {
    if (data == "[DONE]" || !r.error.empty()) return;
    Json j = Json::parse(data.begin(), data.end(), nullptr, false);
    if (!j.is_object()) {
      r.error = "malformed event";
      return;
    }
    if (j.contains("error")) {
      r.error = "Request has failed. " + j.dump();
      return;
    }
    if (a.api_type == "openai") {
      if (r.ttft == 0 && j.contains("choices") && j["choices"].is_array())
        for (const auto& c : j["choices"])
          if (c.is_object() && c.contains("text") && c["text"].is_string() && !c["text"].get<std::string>().empty()) {
            r.ttft = now_seconds() - st;
            break;
          }
      return;
    }
    const Json& mi = j.value("meta_info", Json::object());
    // SGLang takes TTFT when a chunk reports its first completion token (the last such chunk).
    if (mi.value("completion_tokens", 0) == 1) r.ttft = now_seconds() - st;
    if (mi.contains("finish_reason") && !mi["finish_reason"].is_null()) {
      const Json& fr = mi["finish_reason"];
      std::string type = fr.is_object() ? fr.value("type", std::string()) : "";
      if (type != "length") r.error = "unexpected finish_reason " + fr.dump();
    }
  };
  HttpResult h = http_post(ep, path, body.dump(), on_data);
  r.latency = now_seconds() - st;
  if (h.status != 200)
    r.error = h.status == 0 ? h.error : fmt::format("HTTP {}: {}", h.status, h.body.substr(0, 300));
  if (!r.error.empty()) return r;
  std::string info = fetch_server_info(ep);
  r.last_gen_throughput = last_gen_throughput_of(info);
  r.accept_length = accept_length_of(info);
  r.input_throughput = r.ttft > 0 ? static_cast<double>(bs * in) / r.ttft : 0;
  r.output_throughput = r.latency > r.ttft ? static_cast<double>(bs * out) / (r.latency - r.ttft) : 0;
  r.overall_throughput = static_cast<double>(bs * (in + out)) / r.latency;
  return r;
}

double round_to(double v, int digits) {
  const double p = std::pow(10.0, digits);
  return std::round(v * p) / p;
}

void print_case(const CaseResult& r) {
  std::cout << fmt::format(
      "batch size: {}\ninput_len: {}\noutput_len: {}\nlatency: {:.2f} s\nttft: {:.2f} s\n"
      "last generation throughput: {:.2f} tok/s\ninput throughput: {:.2f} tok/s\n",
      r.bs, r.in, r.out, r.latency, r.ttft, r.last_gen_throughput, r.input_throughput);
  if (r.out != 1) std::cout << fmt::format("output throughput: {:.2f} tok/s\n", r.output_throughput);
  std::cout << std::flush;
}

void append_record(const Args& a, const CaseResult& r) {
  if (a.result_filename.empty()) return;
  nlohmann::ordered_json rec = {{"run_name", a.run_name},
                                {"batch_size", r.bs},
                                {"input_len", r.in},
                                {"output_len", r.out},
                                {"latency", round_to(r.latency, 4)},
                                {"output_throughput", round_to(r.output_throughput, 2)},
                                {"overall_throughput", round_to(r.overall_throughput, 2)},
                                {"last_gen_throughput", round_to(r.last_gen_throughput, 2)},
                                // sglcpp's: what the summary lines show besides
                                {"ttft", round_to(r.ttft, 4)},
                                {"input_throughput", round_to(r.input_throughput, 2)}};
  std::ofstream(a.result_filename, std::ios::app) << rec.dump() << "\n";
}

// A Python tuple's repr, as SGLang-JAX prints its BenchArgs lists: (1024,) or (1, 16).
std::string tuple_text(const std::vector<int64_t>& v) {
  return v.size() == 1 ? fmt::format("({},)", v[0]) : fmt::format("({})", fmt::join(v, ", "));
}

// SGLang-JAX's --show-report table: $2/hour per device for the cost columns.
void print_report(const Args& a, const std::vector<CaseResult>& results, int tp_size) {
  std::string s = fmt::format("\nInput lens: {}. Output lens: {}.\n", tuple_text(a.input_len), tuple_text(a.output_len));
  s += "| batch size | latency (s) | input throughput (tok/s)  | output throughput (tok/s) | acc length | ITL (ms) | "
       "input cost ($/1M) | output cost ($/1M) |";
  if (a.profile) s += " profile |";
  s += "\n| ---------- | ----------- | ------------------------- | ------------------------- | ---------- | -------- | "
       "----------------- | ------------------ |";
  if (a.profile) s += "-------------|";
  s += "\n";
  const double hourly_cost = 2.0 * tp_size, input_util = 0.7;
  for (const auto& r : results) {
    const std::string acc = r.accept_length >= 0 ? fmt::format("{}", round_to(r.accept_length, 2)) : "n/a";
    s += fmt::format("| {} | {:.2f} | {:.2f} | {:.2f} | {} | {:.2f} | {:.2f} | {:.2f} |", r.bs, r.latency,
                     r.input_throughput, r.output_throughput, acc, 1 / (r.output_throughput / r.bs) * 1000,
                     1e6 / (r.input_throughput * input_util) / 3600 * hourly_cost,
                     1e6 / r.output_throughput / 3600 * hourly_cost);
    if (!r.profile_link.empty()) s += fmt::format(" [Profile]({}) |", r.profile_link);
    s += "\n";
  }
  std::cout << s << "\n" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sgl::bench;
  namespace flags = sgl::server::flags;
  Args a;
  sgl::server::ServerArgs sa;
  CLI::App app{
      "bench_one_batch_server: latency/throughput of one batch through a server (SGLang-JAX's flags); "
      "without --base-url it launches sglcpp-server with the launch flags given"};
  app.option_defaults()->always_capture_default(false);
  flags::FlagTable table(app, sa);  // every launch flag, as SGLang-JAX's ServerArgs.add_cli_args
  app.get_option("--model-path")->required(false);  // not needed against a running server
  std::set<std::string> bench_flags;
  auto bench = [&](CLI::Option* o) {
    for (const auto& n : o->get_lnames()) bench_flags.insert("--" + n);
    o->group("Benchmark");
    return o;
  };
  bench(app.add_option("--run-name", a.run_name));
  bench(app.add_option("--batch-size", a.batch_size)->expected(1, CLI::detail::expected_max_vector_size));
  bench(app.add_option("--input-len", a.input_len)->expected(1, CLI::detail::expected_max_vector_size));
  bench(app.add_option("--output-len", a.output_len)->expected(1, CLI::detail::expected_max_vector_size));
  bench(app.add_option("--temperature", a.temperature));
  bench(app.add_flag("--return-logprob", a.return_logprob));
  bench(app.add_option("--client-stream-interval", a.client_stream_interval));
  bench(app.add_option("--input-len-step-percentage", a.input_len_step_percentage,
                       "Accepted; unused, as in SGLang-JAX"));
  bench(app.add_option("--result-filename", a.result_filename, "JSONL records appended here ('' = none)"));
  bench(app.add_option("--base-url", a.base_url, "A running server; without it the tool launches sglcpp-server"));
  bench(app.add_flag("--skip-warmup", a.skip_warmup));
  bench(app.add_flag("--show-report", a.show_report));
  bench(app.add_flag("--profile", a.profile, "Profile each case again through /start_profile (3 steps)"));
  bench(app.add_flag("--profile-by-stage", a.profile_by_stage));
  bench(app.add_option("--api-type", a.api_type)->check(CLI::IsMember({"native", "openai"})));
  bench(app.add_option("--seed", a.seed, "Seed of the random input ids (sglcpp's)"));
  std::vector<std::string> args = expand_flags(app, argc, argv);
  if (auto merged = flags::expand_config_file(std::move(args), table); merged.ok()) {
    args = std::move(merged).value();
  } else {
    std::cerr << "error: " << merged.error().message << "\n";
    return 2;
  }
  // The launch flags as given, for the server: every argument outside the benchmark's own flags.
  std::vector<std::string> server_argv;
  bool in_bench = false;
  for (const auto& t : args) {
    if (t.starts_with("--")) in_bench = bench_flags.contains(t.substr(0, t.find('=')));
    if (!in_bench) server_argv.push_back(t);
  }
  if (const int rc = parse_expanded(app, args); rc >= 0) return rc;
  if (a.input_len_step_percentage != 0)
    std::cerr << fmt::format(
        "warning: --input-len-step-percentage {}: accepted for compatibility only; SGLang-JAX's "
        "bench_one_batch_server passes it along without using it, and so does this tool\n",
        a.input_len_step_percentage);

  std::unique_ptr<ServerProcess> server;
  Endpoint ep;
  if (a.base_url.empty()) {
    if (sa.model_path.empty() || sa.model_path == "None") {
      std::cerr << "--model-path is required to launch a server (or pass --base-url of a running one)\n";
      return 2;
    }
    for (const auto& r : table.refusals()) std::cerr << r << "\n";
    if (!table.refusals().empty()) return 2;
    const std::string binary = find_server_binary();
    auto started = ServerProcess::start(binary, server_argv);
    if (!started.ok()) {
      std::cerr << "cannot launch " << binary << ": " << started.error().message << "\n";
      return 1;
    }
    server = std::move(started).value();
    ep = endpoint_from_flags("", sa.host == "0.0.0.0" ? "127.0.0.1" : sa.host, sa.port);
    std::cerr << fmt::format("Launched {} {} (pid {}); waiting for http://{}:{}/health\n", binary,
                             fmt::join(server_argv, " "), server->pid(), ep.host, ep.port);
    if (auto st = server->wait_ready(ep, 600); !st.ok()) {
      std::cerr << "the server did not start: " << st.error().message;
      return 1;
    }
  } else {
    ep = endpoint_from_flags(a.base_url, "", 0);
  }
  auto ready = wait_for_server(ep, 600);
  if (!ready.ok()) {
    std::cerr << ready.error().message << "\n";
    return 1;
  }
  const std::string model_path = sa.model_path.empty() || sa.model_path == "None" ? ready->model_path : sa.model_path;
  const int64_t max_id = vocab_limit(model_path);
  std::mt19937_64 rng(a.seed);
  int failures = 0;
  std::vector<CaseResult> results;
  if (!a.skip_warmup) {
    std::cout << "======== Warmup Begin ========\n" << std::flush;
    CaseResult w = run_case(ep, a, std::min<int64_t>(16, a.batch_size[0]), a.input_len[0], 16, rng, max_id, false);
    if (!w.error.empty()) {
      std::cerr << "warmup failed: " << w.error << "\n";
      return 1;
    }
    std::cout << "======== Warmup End   ========\n\n" << std::flush;
  }
  for (int64_t bs : a.batch_size)
    for (int64_t in : a.input_len)
      for (int64_t out : a.output_len) {
        CaseResult r = run_case(ep, a, bs, in, out, rng, max_id, false);
        if (!r.error.empty()) {
          std::cerr << fmt::format("case bs={} in={} out={} failed: {}\n", bs, in, out, r.error);
          ++failures;
          continue;
        }
        print_case(r);
        append_record(a, r);
        results.push_back(r);
      }
  if (a.profile && failures == 0) {
    // SGLang-JAX runs every case again under the profiler; the report links each trace.
    size_t i = 0;
    for (int64_t bs : a.batch_size)
      for (int64_t in : a.input_len)
        for (int64_t out : a.output_len) {
          if (i > results.size()) continue;
          CaseResult r = run_case(ep, a, bs, in, out, rng, max_id, true);
          if (!r.error.empty()) {
            std::cerr << "Error profiling, there will be no profile trace dump: " << r.error << "\n";
            i = results.size() + 1;  // as SGLang-JAX: the first failure ends the profiled pass
            continue;
          }
          print_case(r);
          append_record(a, r);
          results[i++].profile_link = r.profile_link;
        }
  }
  if (server) {
    const pid_t pid = server->pid();
    server->stop();
    std::cerr << "Stopped the server (pid " << pid << ")\n";
  }
  std::cout << "\nResults are saved to " << a.result_filename << "\n";
  if (a.show_report && !results.empty()) print_report(a, results, sa.tp_size);
  return failures == 0 ? 0 : 1;
}
