#include "bench/serving/bench_serving_args.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdlib>

#include "bench/serving/backends.h"

namespace sgl::bench {
namespace {

// An argparse option with default None: set only when given.
template <class T>
CLI::Option* add_optional(CLI::App& app, const std::string& name, std::optional<T>& target, std::string help = "") {
  return app.add_option_function<T>(name, [&target](const T& v) { target = v; }, std::move(help));
}

std::string bool_text(bool b) { return b ? "True" : "False"; }

}  // namespace

void add_serving_flags(CLI::App& app, ServingArgs& a) {
  app.add_option("--backend", a.backend,
                 "sglang | sgl-jax | sglang-native (/generate); sglang-oai | vllm | lmdeploy (/v1/completions); "
                 "sglang-oai-chat | vllm-chat | lmdeploy-chat (/v1/chat/completions); openai, openai-chat too");
  add_optional(app, "--base-url", a.base_url, "Server or API base url if not using http host and port");
  app.add_option("--host", a.host);
  add_optional(app, "--port", a.port, "Default: the backend's usual port (30000 for SGLang)");
  app.add_option("--dataset-name", a.dataset_name)
      ->check(CLI::IsMember(
          {"sharegpt", "custom", "random", "random-ids", "generated-shared-prefix", "mmmu", "image", "mooncake"}));
  app.add_option("--dataset-path", a.dataset_path, "Path to the dataset");
  add_optional(app, "--model", a.model, "Model name or path (default: /v1/models); also the tokenizer's default");
  add_optional(app, "--served-model-name", a.served_model_name,
               "The model name sent in requests (default: --model)");
  add_optional(app, "--tokenizer", a.tokenizer, "Tokenizer directory (default: --model, else the server's)");
  app.add_option("--num-prompts", a.num_prompts);
  add_optional(app, "--sharegpt-output-len", a.sharegpt_output_len,
               "Output length of every ShareGPT/custom request (default: the reply's)");
  add_optional(app, "--sharegpt-context-len", a.sharegpt_context_len,
               "Drop ShareGPT/custom pairs whose prompt + output exceed it");
  app.add_option("--random-input-len", a.random_input_len);
  app.add_option("--random-output-len", a.random_output_len);
  app.add_option("--random-range-ratio", a.random_range_ratio);
  app.add_option("--image-count", a.image_count, "[refused unless default] no multimodal input in sglcpp");
  app.add_option("--image-resolution", a.image_resolution, "[refused unless default] no multimodal input in sglcpp");
  app.add_flag("--random-image-count", a.random_image_count, "[refused] no multimodal input in sglcpp");
  app.add_option("--image-format", a.image_format, "[refused unless default] no multimodal input in sglcpp");
  app.add_option("--image-content", a.image_content, "[refused unless default] no multimodal input in sglcpp");
  app.add_option("--request-rate", a.request_rate, "Requests per second (Poisson arrivals); inf sends all at once");
  app.add_flag("--use-trace-timestamps", a.use_trace_timestamps,
               "Replay the trace's timestamps (mooncake): the rate reads 'trace'");
  add_optional(app, "--max-concurrency", a.max_concurrency);
  add_optional(app, "--output-file", a.output_file,
               "JSONL file the result is appended to (default: <backend>_<MMDD>_<num-prompts>_... .jsonl)");
  app.add_flag("--output-details", a.output_details, "Per-request lists in the JSONL record");
  app.add_flag("--print-requests", a.print_requests, "A line as each request starts and ends");
  app.add_flag("--disable-tqdm", a.disable_tqdm);
  app.add_flag("--disable-stream", a.disable_stream);
  app.add_flag("--return-logprob", a.return_logprob, "Native API: ask for logprobs");
  app.add_flag("--return-routed-experts", a.return_routed_experts, "Native API: ask for the routed experts");
  app.add_option("--seed", a.seed);
  app.add_flag("--disable-ignore-eos", a.disable_ignore_eos);
  add_optional(app, "--extra-request-body", a.extra_request_body, "JSON object merged into every request body");
  app.add_flag("--apply-chat-template", a.apply_chat_template, "ShareGPT/custom prompts through the chat template");
  app.add_flag("--profile", a.profile, "Drive the server's /start_profile and /stop_profile around the run");
  app.add_flag("--plot-throughput", a.plot_throughput, "[no effect] no terminal plotting in sglcpp");
  app.add_option("--profile-activities", a.profile_activities)
      ->expected(1, CLI::detail::expected_max_vector_size)
      ->check(CLI::IsMember({"CPU", "GPU", "CUDA_PROFILER"}));
  add_optional(app, "--profile-num-steps", a.profile_num_steps,
               "The server stops profiling after these steps (else /stop_profile after the run)");
  app.add_flag("--profile-by-stage", a.profile_by_stage);
  add_optional(app, "--profile-stages", a.profile_stages)->expected(1, CLI::detail::expected_max_vector_size);
  add_optional(app, "--lora-name", a.lora_name, "LoRA adapter names; each request names one (lora_path)")
      ->expected(0, CLI::detail::expected_max_vector_size);
  app.add_option("--lora-request-distribution", a.lora_request_distribution,
                 "uniform (random), distinct (round robin) or skewed (Zipf over the listed order)")
      ->check(CLI::IsMember({"uniform", "distinct", "skewed"}));
  app.add_option("--lora-zipf-alpha", a.lora_zipf_alpha, "Zipf exponent of the skewed distribution (> 1)");
  app.add_option("--prompt-suffix", a.prompt_suffix, "Appended to ShareGPT/custom prompts before 'Assistant:'");
  app.add_flag("--pd-separated", a.pd_separated, "[refused] no prefill/decode disaggregation in sglcpp");
  auto* prefill = add_optional(app, "--profile-prefill-url", a.profile_prefill_url,
                               "[refused] no prefill/decode disaggregation in sglcpp")
                      ->expected(0, CLI::detail::expected_max_vector_size);
  auto* decode = add_optional(app, "--profile-decode-url", a.profile_decode_url,
                              "[refused] no prefill/decode disaggregation in sglcpp")
                     ->expected(0, CLI::detail::expected_max_vector_size);
  prefill->excludes(decode);  // argparse's mutually exclusive group
  app.add_flag("--flush-cache", a.flush_cache, "POST /flush_cache after the warmup");
  app.add_option("--warmup-requests", a.warmup_requests);
  app.add_flag("--tokenize-prompt", a.tokenize_prompt, "Send random prompts as input_ids (native API)");
  app.add_option("--adjust-prompt-max-retry", a.adjust_prompt_max_retry,
                 "Retries to make a random prompt re-encode to its length");
  app.add_option("--gsp-num-groups", a.gsp_num_groups, "generated-shared-prefix: system prompts");
  app.add_option("--gsp-prompts-per-group", a.gsp_prompts_per_group, "generated-shared-prefix: questions per system prompt");
  app.add_option("--gsp-system-prompt-len", a.gsp_system_prompt_len);
  app.add_option("--gsp-question-len", a.gsp_question_len);
  app.add_option("--gsp-output-len", a.gsp_output_len);
  app.add_option("--gsp-range-ratio", a.gsp_range_ratio);
  app.add_flag("--gsp-fast-prepare", a.gsp_fast_prepare, "Skip encoding prompts (prompt lengths read 1)");
  app.add_flag("--gsp-send-routing-key", a.gsp_send_routing_key, "X-SMG-Routing-Key header per group");
  app.add_option("--gsp-num-turns", a.gsp_num_turns, "> 1: conversations of that many questions (chat backends)");
  app.add_flag("--gsp-ordered", a.gsp_ordered, "Keep the groups in order (no shuffle)");
  app.add_option("--mooncake-slowdown-factor", a.mooncake_slowdown_factor);
  app.add_option("--mooncake-num-rounds", a.mooncake_num_rounds);
  app.add_option("--mooncake-workload", a.mooncake_workload,
                 "Which trace: without --dataset-path, /tmp/<workload>_trace.jsonl")
      ->check(CLI::IsMember({"mooncake", "conversation", "synthetic", "toolagent"}));
  add_optional(app, "--tag", a.tag, "Written to the record's tag");
  add_optional(app, "--header", a.header, "Extra HTTP headers, Key=Value")
      ->expected(1, CLI::detail::expected_max_vector_size);
  // nargs='*' given with no values is [] (not None): record that it was given.
  app.final_callback([&a, prefill, decode, &app] {
    if (prefill->count() > 0 && !a.profile_prefill_url) a.profile_prefill_url.emplace();
    if (decode->count() > 0 && !a.profile_decode_url) a.profile_decode_url.emplace();
    if (app.get_option("--lora-name")->count() > 0 && !a.lora_name) a.lora_name.emplace();
  });
}

std::optional<double> request_rate_value(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || *end != '\0' || std::isnan(v)) return std::nullopt;
  return v;
}

std::string python_float(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::abs(v) < 1e16) return fmt::format("{:.1f}", v);
  return fmt::format("{}", v);
}

FlagCheck check_serving_flags(const ServingArgs& a) {
  FlagCheck c;
  auto refuse_unless_default = [&c](const std::string& flag, const std::string& now, const std::string& def,
                                    const std::string& lacks) {
    if (now != def)
      c.refusals.push_back(
          fmt::format("{} {}: sglcpp has no {}; leave the flag at its default ({})", flag, now, lacks, def));
  };
  const std::string mm = "multimodal (image) input";
  if (a.dataset_name == "image" || a.dataset_name == "mmmu")
    c.refusals.push_back(fmt::format("--dataset-name {}: sglcpp has no {}; use sharegpt, custom, random, "
                                     "random-ids, generated-shared-prefix or mooncake",
                                     a.dataset_name, mm));
  refuse_unless_default("--image-count", std::to_string(a.image_count), "1", mm);
  refuse_unless_default("--image-resolution", a.image_resolution, "1080p", mm);
  refuse_unless_default("--random-image-count", bool_text(a.random_image_count), "False", mm);
  refuse_unless_default("--image-format", a.image_format, "jpeg", mm);
  refuse_unless_default("--image-content", a.image_content, "random", mm);
  const std::string pd = "prefill/decode disaggregation";
  refuse_unless_default("--pd-separated", bool_text(a.pd_separated), "False", pd);
  if (a.profile_prefill_url)
    refuse_unless_default("--profile-prefill-url", fmt::format("{}", fmt::join(*a.profile_prefill_url, " ")),
                          "None", pd);
  if (a.profile_decode_url)
    refuse_unless_default("--profile-decode-url", fmt::format("{}", fmt::join(*a.profile_decode_url, " ")),
                          "None", pd);
  if (!request_rate_value(a.request_rate))
    c.refusals.push_back("--request-rate: '" + a.request_rate + "' is not a float (a number or inf)");
  if (auto api = api_of_backend(a.backend); !api.ok()) {
    c.refusals.push_back(api.error().message);
  } else {
    const bool native = *api == Api::kNativeGenerate, chat = *api == Api::kChatCompletions;
    if (a.tokenize_prompt && !native)
      c.refusals.push_back("--tokenize-prompt sends input_ids, which only the native /generate backends take "
                           "(sglang, sgl-jax, sglang-native), not --backend " + a.backend);
    if (a.gsp_num_turns > 1 && a.dataset_name == "generated-shared-prefix" && !chat)
      c.refusals.push_back(fmt::format("--gsp-num-turns {}: multi-turn conversations need a chat backend "
                                       "(sglang-oai-chat, vllm-chat, lmdeploy-chat), not --backend {}",
                                       a.gsp_num_turns, a.backend));
  }
  if (a.tokenize_prompt && a.dataset_name != "random" && a.dataset_name != "random-ids")
    c.refusals.push_back("--tokenize-prompt: only the random and random-ids datasets are built as token ids, not " +
                         a.dataset_name);
  if ((a.dataset_name == "sharegpt" || a.dataset_name == "custom") && a.sharegpt_output_len &&
      *a.sharegpt_output_len < 4)
    c.refusals.push_back(fmt::format("--sharegpt-output-len {}: output_len too small (at least 4)",
                                     *a.sharegpt_output_len));
  if (a.lora_request_distribution != "uniform" && (!a.lora_name || a.lora_name->size() < 2))
    c.refusals.push_back("--lora-request-distribution " + a.lora_request_distribution +
                         ": more than 1 LoRA adapter must be given with --lora-name");
  if (!(a.lora_zipf_alpha > 1))
    c.refusals.push_back(fmt::format("--lora-zipf-alpha {}: it must be greater than 1", a.lora_zipf_alpha));
  if (a.header)
    for (const auto& h : *a.header)
      if (h.find('=') == std::string::npos || h.front() == '=' || h.back() == '=')
        c.warnings.push_back("warning: --header " + h + " is not Key=Value: not sent (as SGLang-JAX)");
  if (a.plot_throughput)
    c.warnings.push_back(
        "warning: --plot-throughput: sglcpp's bench_serving has no terminal plotting (SGLang-JAX needs termplotlib "
        "and gnuplot for it); the peak output throughput and peak concurrency are in the summary");
  if (a.use_trace_timestamps && a.dataset_name != "mooncake")
    c.warnings.push_back("warning: --use-trace-timestamps: only the mooncake dataset has timestamps; the " +
                         a.dataset_name + " requests follow --request-rate (the rate is reported as 'trace', as "
                         "SGLang-JAX does)");
  return c;
}

}  // namespace sgl::bench
