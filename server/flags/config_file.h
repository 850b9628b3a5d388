// SGLang's `--config FILE.yaml` (server_args_config_parser.py): a YAML mapping of flag names to
// values, turned into command-line arguments before the command line is parsed.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace sgl::server::flags {

class FlagTable;

// `args` (argv without the program name, prefixes already expanded) with the flags of the file
// that `--config PATH` names added in front; unchanged without --config. As SGLang: one --config
// at most, a .yaml/.yml file whose root is a mapping; a key is a flag name without its dashes
// (`tp-size`; `tp_size` is accepted too), a boolean turns a store_true flag on or leaves it off
// (BooleanOptionalAction: --x / --no-x) and is "true"/"false" for other flags, a list gives the
// flag its items, a mapping is passed as JSON (--json-model-override-args). The command line wins:
// a flag it gives is not taken from the file. Errors name the file and the key.
Result<std::vector<std::string>> expand_config_file(std::vector<std::string> args, const FlagTable& table);

}  // namespace sgl::server::flags
