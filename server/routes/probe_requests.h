// What the model computes right after a prompt, for the routes that read one row instead of
// generating (/v1/score, /v1/embeddings, /encode, /classify, /v1/rerank): each prompt runs as one
// greedy single-token request whose logprobs (token_ids_logprob) or final hidden state
// (return_hidden_states) the route then reads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "base/result.h"
#include "net/exchange.h"
#include "server/generation.h"

namespace sgl::server {

// `configure` says what each item asks for; the items are otherwise greedy, one token, with fresh
// rids. Waits for all of them (a client that leaves aborts them); an aborted probe is an error.
boost::asio::awaitable<Result<std::shared_ptr<Generation>>> run_probes(
    App& app, net::Exchange& ex, const std::vector<std::vector<int32_t>>& prompt_ids,
    const std::function<void(GenerateItem&)>& configure);

}  // namespace sgl::server
