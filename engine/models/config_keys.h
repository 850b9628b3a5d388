// Typed, defaulted reads of config.json keys for the family config readers: a key that is absent
// or null takes the default, one of the wrong type is an error naming it (nlohmann's value()
// would throw instead).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace sgl::engine::config_keys {

inline Result<double> number(const nlohmann::json& j, const char* key, double dflt,
                             const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return dflt;
  if (!j[key].is_number()) return corrupt(source + ": '" + key + "' is not a number");
  return j[key].get<double>();
}

inline Result<int64_t> integer(const nlohmann::json& j, const char* key, int64_t dflt,
                               const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return dflt;
  if (!j[key].is_number_integer()) return corrupt(source + ": '" + key + "' is not an integer");
  return j[key].get<int64_t>();
}

inline Result<bool> boolean(const nlohmann::json& j, const char* key, bool dflt, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return dflt;
  if (!j[key].is_boolean()) return corrupt(source + ": '" + key + "' is not a boolean");
  return j[key].get<bool>();
}

}  // namespace sgl::engine::config_keys
