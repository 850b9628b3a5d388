// The OpenAI Responses API (POST /v1/responses, GET/DELETE /v1/responses/{id},
// POST /v1/responses/{id}/cancel) as SGLang serves it: the request, its conversation as chat
// messages (input items, instructions, a stored previous response), the response object, the
// streamed events and the bounded store of finished responses. A request runs as the chat
// completion `chat_body` describes, so templating, tools and parsing are the chat route's.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "server/parsers/chat_output.h"
#include "server/protocol/output_types.h"

namespace sgl::server {

using RJson = nlohmann::ordered_json;

struct ResponsesRequest {
  std::string model;
  RJson input;  // a string or a list of input items
  std::optional<std::string> instructions;
  std::optional<int64_t> max_output_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  RJson tools = RJson::array();  // as given (Responses shape: {"type":"function","name",...})
  RJson tool_choice = "auto";    // "none" | "auto" | "required" | {"type":"function","name"}
  bool store = true;
  std::optional<std::string> previous_response_id;
  bool stream = false;
  bool background = false;  // run after answering "queued"; poll with GET, stop with cancel
  RJson metadata = nullptr;
  RJson user = nullptr;
  RJson reasoning = nullptr;
  RJson text = nullptr;
  bool parallel_tool_calls = true;
  // SGLang's accepted `include` values; "message.output_text.logprobs" fills output_text's
  // logprobs (top_logprobs alternatives each), the others have nothing to add here.
  std::vector<std::string> include;
  int64_t top_logprobs = 0;
  bool wants_output_logprobs() const;
};

// Puts `entries` (chat-style token logprobs: token, bytes, logprob, top_logprobs) into the
// output_text part of the response's message item.
void attach_output_logprobs(RJson& output, const RJson& entries);

// Body checks (types, required `input`, function tools only) → 400 errors.
Result<ResponsesRequest> parse_responses_request(std::string_view body);

// Input items as chat messages: a string is one user message; message items keep their role
// (developer → system) with their text parts joined; function_call items become an assistant
// message's tool_calls (consecutive ones share it); function_call_output items become tool
// messages; reasoning items are dropped.
Result<RJson> input_messages(const RJson& input);

// The output items of a response as chat messages (for previous_response_id).
RJson output_messages(const RJson& output);

// The chat completions body this request runs as (messages already built, rid = response id).
std::string chat_body(const ResponsesRequest& req, const RJson& messages, std::string_view rid);

// "resp_…", "msg_…", "fc_…", "rs_…": prefix + 32 hex digits.
std::string new_response_item_id(std::string_view prefix);

struct ResponseUsage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t reasoning_tokens = 0;
};

// The response object. `status`: "in_progress" | "completed" | "incomplete" | "failed";
// `incomplete_reason` ("max_output_tokens") only with "incomplete"; usage null without one.
RJson response_object(const ResponsesRequest& req, std::string_view id, int64_t created_at,
                      std::string_view status, const RJson& output, const std::optional<ResponseUsage>& usage,
                      std::optional<std::string> incomplete_reason = std::nullopt,
                      std::optional<std::string> error_message = std::nullopt);

// The output items and their stream events from the parser's pieces, in the official order:
// output_item.added, content_part.added, *.delta…, *.done, content_part.done, output_item.done
// per item (reasoning → reasoning item, content → message item, each call → function_call item).
// Non-streamed responses use it too (events dropped) so both give the same output.
class ResponseStreamState {
 public:
  // An SSE event "event: <type>\ndata: <json>\n\n"; `fields` get "type" first and a
  // "sequence_number" last.
  std::string event(std::string_view type, RJson fields);
  std::vector<std::string> feed(const ChatPieces& pieces);
  // Closes the open item; `item_status` is "completed" or "incomplete".
  std::vector<std::string> close(std::string_view item_status = "completed");
  const RJson& output() const { return output_; }
  int64_t next_sequence_number() const { return seq_; }

 private:
  enum class Kind { kNone, kReasoning, kMessage, kCall };
  void open(Kind kind, std::vector<std::string>& out, const ToolCallItem* call = nullptr);
  void close_into(std::vector<std::string>& out, std::string_view item_status);
  RJson current_item(std::string_view status) const;

  int64_t seq_ = 0;
  RJson output_ = RJson::array();
  Kind kind_ = Kind::kNone;
  std::string id_, text_, name_, call_id_;
  int call_index_ = -1;
};

// Output items from a whole parsed answer (reasoning, content, calls).
RJson output_items(const ChatMessageParts& parts, std::string_view item_status = "completed");

// "output_text" of a response: its message items' texts joined.
std::string output_text(const RJson& output);

// Finished responses kept for GET and previous_response_id: the most recent `capacity`, oldest
// evicted first. Thread-safe.
struct StoredResponse {
  RJson response;
  RJson history;  // the conversation without instructions, this response's output included
};
class ResponseStore {
 public:
  explicit ResponseStore(size_t capacity = 1024) : capacity_(capacity) {}
  void put(const std::string& id, StoredResponse r);
  std::optional<StoredResponse> get(const std::string& id) const;
  bool erase(const std::string& id);
  size_t size() const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, StoredResponse> map_;
  std::deque<std::string> order_;  // insertion order (ids may be stale after erase)
};

// OpenAI's error object with a type and param: {"object":"error","message","type","param","code"}.
std::string responses_error_body(int status, std::string_view message, std::string_view param);

}  // namespace sgl::server
