#include "sched/step_worker.h"

namespace sgl::sched {

StepWorker::StepWorker(engine::ModelRunner& runner) : runner_(runner) {
  thread_ = std::thread([this] { run(); });
}

StepWorker::~StepWorker() {
  todo_.push(nullptr);
  thread_.join();
  StepRecord* s = nullptr;
  while (done_.try_pop(s)) std::unique_ptr<StepRecord> owned(s);  // released at launch
}

void StepWorker::launch(std::unique_ptr<StepRecord> step) { todo_.push(step.release()); }

std::unique_ptr<StepRecord> StepWorker::wait_oldest() {
  StepRecord* s = nullptr;
  done_.pop(s);
  return std::unique_ptr<StepRecord>(s);
}

void StepWorker::run() {
  for (;;) {
    StepRecord* s = nullptr;
    todo_.pop(s);
    if (s == nullptr) return;
    s->output.emplace(runner_.step(s->input));
    done_.push(s);
  }
}

}  // namespace sgl::sched
