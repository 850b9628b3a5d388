// bench_one_batch takes every launch flag, as SGLang-JAX's (ServerArgs.add_cli_args on the same
// parser): the server's flag table registers them, the engine's share comes from the same
// conversion the server uses, and the ones without meaning here (no HTTP, no scheduler) are named.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_config.h"
#include "server/args.h"
#include "server/flags/flag_table.h"

namespace sgl::bench {

class LaunchFlags {
 public:
  explicit LaunchFlags(CLI::App& app) : table_(app, args_) {}

  const server::ServerArgs& args() const { return args_; }
  const server::flags::FlagTable& table() const { return table_; }
  // The engine settings of the flags, as sglcpp-server derives them.
  engine::EngineConfig engine_config() const;
  // After parsing: the table's refusals (exit), then one warning per flag the table ignores and
  // one line naming the launch flags given that only a server would use.
  std::vector<std::string> refusals() const { return table_.refusals(); }
  std::vector<std::string> warnings() const;

 private:
  server::ServerArgs args_;
  server::flags::FlagTable table_;
};

}  // namespace sgl::bench
