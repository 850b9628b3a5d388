#include "engine/testing/scripted_runner.h"

#include <algorithm>

namespace sgl::engine {

ScriptedRunner::ScriptedRunner(std::unique_ptr<ModelRunner> inner, std::vector<int32_t> script)
    : inner_(std::move(inner)), script_(std::move(script)) {}

Result<StepOutput> ScriptedRunner::step(const StepInput& input) {
  StepInput resolved = input;
  for (auto& id : resolved.batch.input_ids) {
    if (!is_placeholder(id)) continue;
    auto it = last_token_.find(placeholder_slot(id));
    if (it == last_token_.end()) return internal_error("scripted runner: unresolved placeholder");
    id = it->second;
  }
  SGL_ASSIGN_OR_RETURN(StepOutput out, inner_->step(resolved));
  if (script_.empty()) return out;
  for (size_t r = 0; r < out.rows.size() && r < input.sampling.size(); ++r) {
    const RowSampling& rs = input.sampling[r];
    if (!rs.sample) continue;
    auto i = static_cast<size_t>(std::clamp<int64_t>(rs.step, 0, static_cast<int64_t>(script_.size()) - 1));
    out.rows[r].token = script_[i];
    if (rs.req_slot >= 0) last_token_[rs.req_slot] = script_[i];
  }
  return out;
}

}  // namespace sgl::engine
