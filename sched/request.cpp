#include "sched/request.h"

#include <iterator>

namespace sgl::sched {

const char* finish_type_name(FinishReason::Type t) {
  switch (t) {
    case FinishReason::Type::kStop:
      return "stop";
    case FinishReason::Type::kLength:
      return "length";
    case FinishReason::Type::kAbort:
      return "abort";
  }
  return "abort";
}

size_t RequestStream::drain(std::vector<OutputChunk>& out) {
  // Clear the flag before popping: a chunk pushed after this point re-arms notify, so none is
  // ever left behind without a wake-up (at worst one spurious wake-up finds nothing).
  pending_.store(false, std::memory_order_release);
  // Moved out under the lock so that chunks_ keeps its capacity: pushes do not allocate.
  std::lock_guard<std::mutex> lk(mu_);
  const size_t n = chunks_.size();
  out.insert(out.end(), std::make_move_iterator(chunks_.begin()), std::make_move_iterator(chunks_.end()));
  chunks_.clear();
  return n;
}

void RequestStream::push(OutputChunk chunk) {
  const bool last = chunk.finish.has_value();
  {
    std::lock_guard<std::mutex> lk(mu_);
    chunks_.push_back(std::move(chunk));
  }
  if (last) remaining_.fetch_sub(1, std::memory_order_acq_rel);
  if (!pending_.exchange(true, std::memory_order_acq_rel) && notify_) notify_();
}

}  // namespace sgl::sched
