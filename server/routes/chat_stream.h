// The streamed answer of POST /v1/chat/completions: role chunk, reasoning_content / content /
// tool_calls deltas from each choice's ChatOutputParser, finish chunk, optional usage chunk.
#pragma once

#include <memory>
#include <vector>

#include "server/generation.h"
#include "server/parsers/chat_output.h"
#include "server/protocol/openai_request.h"
#include "server/routes/routes.h"

namespace sgl::server {

// `parsers[i]` belongs to gen.items()[i]. The caller keeps every argument alive (it co_awaits).
RouteResult stream_chat_response(App& app, net::Exchange& ex, const ChatRequest& req, Generation& gen,
                                 std::vector<std::unique_ptr<ChatOutputParser>>& parsers);

// The parsing a chat request gets on this server (--tool-call-parser, --reasoning-parser).
ChatParsingOptions chat_parsing_options(const ServerArgs& args, const ChatRequest& req);

// finish_reason "tool_calls" replaces "stop" once a choice made calls (not "length": a cut-off
// answer stays "length", as SGLang reports it).
bool finished_by_tool_calls(const FinishReason& finish, int num_calls);

}  // namespace sgl::server
