// bench_serving's command line: every flag of SGLang-JAX's bench_serving.py (its spelling, type,
// nargs, choices and default), and the checks that refuse what sglcpp cannot do (image inputs,
// PD disaggregation) naming the flag and the missing capability.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sgl::bench {

struct ServingArgs {
  std::string backend = "sglang";
  std::optional<std::string> base_url;
  std::string host = "0.0.0.0";
  std::optional<int> port;  // default: the backend's usual port
  std::string dataset_name = "sharegpt", dataset_path;
  std::optional<std::string> model, served_model_name, tokenizer;
  int num_prompts = 1000;
  std::optional<int64_t> sharegpt_output_len, sharegpt_context_len;
  int64_t random_input_len = 1024, random_output_len = 1024;
  double random_range_ratio = 0.0;
  // The image dataset's: refused unless left at their defaults (no multimodal input in sglcpp).
  int image_count = 1;
  std::string image_resolution = "1080p";
  bool random_image_count = false;
  std::string image_format = "jpeg", image_content = "random";
  std::string request_rate = "inf";  // a Python float: parsed by request_rate_value()
  bool use_trace_timestamps = false;
  std::optional<int> max_concurrency;
  std::optional<std::string> output_file;
  bool output_details = false, print_requests = false, disable_tqdm = false, disable_stream = false;
  bool return_logprob = false, return_routed_experts = false;
  int seed = 1;
  bool disable_ignore_eos = false;
  std::optional<std::string> extra_request_body;
  bool apply_chat_template = false;
  bool profile = false, plot_throughput = false;
  std::vector<std::string> profile_activities = {"CPU", "GPU"};
  std::optional<int> profile_num_steps;
  bool profile_by_stage = false;
  std::optional<std::vector<std::string>> profile_stages;
  std::optional<std::vector<std::string>> lora_name;
  std::string lora_request_distribution = "uniform";
  double lora_zipf_alpha = 1.5;
  std::string prompt_suffix;
  bool pd_separated = false;
  std::optional<std::vector<std::string>> profile_prefill_url, profile_decode_url;
  bool flush_cache = false;
  int warmup_requests = 1;
  bool tokenize_prompt = false;
  int adjust_prompt_max_retry = 10;
  int gsp_num_groups = 64, gsp_prompts_per_group = 16;
  int64_t gsp_system_prompt_len = 2048, gsp_question_len = 128, gsp_output_len = 256;
  double gsp_range_ratio = 1.0;
  bool gsp_fast_prepare = false, gsp_send_routing_key = false;
  int gsp_num_turns = 1;
  bool gsp_ordered = false;
  double mooncake_slowdown_factor = 1.0;
  int mooncake_num_rounds = 1;
  std::string mooncake_workload = "conversation";
  std::optional<std::string> tag;
  std::optional<std::vector<std::string>> header;
};

// Registers every flag on `app`, storing into `a`.
void add_serving_flags(CLI::App& app, ServingArgs& a);

struct FlagCheck {
  std::vector<std::string> refusals;  // each names the flag and what sglcpp lacks; exit 2
  std::vector<std::string> warnings;  // accepted, with what they do not do here
};
// After parsing: SGLang-JAX's own argument checks plus sglcpp's refusals and warnings.
FlagCheck check_serving_flags(const ServingArgs& a);

// --request-rate as a number (inf allowed); nullopt when it is not a float.
std::optional<double> request_rate_value(const std::string& text);
// A float as Python prints it (inf, 4.0, 0.5): the summary's "Traffic request rate" line.
std::string python_float(double v);

}  // namespace sgl::bench
