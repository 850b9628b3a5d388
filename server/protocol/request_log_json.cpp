#include "server/protocol/request_log_json.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <array>

namespace sgl::server {
namespace {

using ojson = nlohmann::ordered_json;

constexpr size_t kUnlimited = size_t{1} << 30;  // SGLang's max_length for levels 0, 1 and 3
constexpr size_t kLevel2Max = 2048;

// SGLang's skip names for GenerateReqInput at levels 0 and 1, and the OpenAI fields that carry the
// same input (SGLang logs the GenerateReqInput it converts them to, whose `text` it drops).
constexpr std::array<std::string_view, 13> kInputKeys = {
    "text",     "input_ids", "input_embeds", "image_data", "audio_data",   "video_data", "lora_path",
    "messages", "prompt",    "input",        "tools",      "instructions", "tokens"};
// Dropped at level 0 only: SGLang's sampling_params and the OpenAI fields that fill it.
constexpr std::array<std::string_view, 22> kSamplingKeys = {"sampling_params",
                                                            "temperature",
                                                            "top_p",
                                                            "top_k",
                                                            "min_p",
                                                            "max_tokens",
                                                            "max_new_tokens",
                                                            "stop",
                                                            "stop_token_ids",
                                                            "seed",
                                                            "frequency_penalty",
                                                            "presence_penalty",
                                                            "repetition_penalty",
                                                            "n",
                                                            "response_format",
                                                            "logit_bias",
                                                            "json_schema",
                                                            "regex",
                                                            "ebnf",
                                                            "max_completion_tokens",
                                                            "min_tokens",
                                                            "ignore_eos"};
constexpr std::array<std::string_view, 3> kOutKeys = {"text", "output_ids", "embedding"};

// `s` cut at most `n` bytes in (towards the start), not splitting a UTF-8 sequence.
size_t utf8_floor(std::string_view s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

// SGLang's _transform_data_for_logging: strings and lists longer than max_length keep their first
// and last max_length/2 (a list's halves are not transformed further), objects recurse.
void transform(ojson& j, size_t max_length) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.size() <= max_length) return;
    const size_t half = max_length / 2;
    const size_t head = utf8_floor(s, half);
    const size_t tail = utf8_floor(s, s.size() - half);
    j = s.substr(0, head) + "..." + s.substr(tail);
  } else if (j.is_array()) {
    if (j.size() > max_length) {
      const size_t half = max_length / 2;
      ojson cut = ojson::array();
      for (size_t i = 0; i < half; ++i) cut.push_back(std::move(j[i]));
      cut.push_back("...");
      for (size_t i = j.size() - half; i < j.size(); ++i) cut.push_back(std::move(j[i]));
      j = std::move(cut);
      return;
    }
    for (auto& e : j) transform(e, max_length);
  } else if (j.is_object()) {
    for (auto& [k, v] : j.items()) transform(v, max_length);
  }
}

size_t max_length_of(int level) { return level == 2 ? kLevel2Max : kUnlimited; }

std::string iso_local(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(us / 1000000);
  tm local{};
  localtime_r(&secs, &local);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &local);
  // Python's isoformat() omits the fraction when it is zero.
  const long frac = static_cast<long>(us % 1000000);
  return frac == 0 ? std::string(buf) : fmt::format("{}.{:06d}", buf, frac);
}

}  // namespace

ojson request_log_obj(std::string_view body, int level) {
  ojson j = ojson::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ojson{{"bytes", body.size()}};
  if (level <= 1) {
    for (auto key : kInputKeys) j.erase(std::string(key));
    if (level <= 0)
      for (auto key : kSamplingKeys) j.erase(std::string(key));
  }
  transform(j, max_length_of(level));
  return j;
}

ojson request_log_out(ojson out, int level) {
  if (level <= 1 && out.is_object())
    for (auto key : kOutKeys) out.erase(std::string(key));
  transform(out, max_length_of(level));
  return out;
}

std::string request_log_line(std::chrono::system_clock::time_point now, std::string_view event,
                             const ojson& rid, const ojson& obj, const ojson& out) {
  ojson line;
  line["timestamp"] = iso_local(now);
  line["event"] = event;
  line["rid"] = rid;
  line["obj"] = obj;
  if (!out.is_null()) line["out"] = out;
  // ensure_ascii=False as SGLang's json.dumps; invalid UTF-8 from a client is replaced, not thrown.
  return line.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

}  // namespace sgl::server
