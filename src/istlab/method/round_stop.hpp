#pragma once
// A round of many local steps can run for minutes: it asks between its steps whether its run
// must end now, on an interrupt or at the cell's time limit (run.max_seconds), instead of
// finishing first. The loop (run/loop.hpp) sets the deadline before each round; a method
// polls only where a round's work has no bound of its own (its local steps).

#include <atomic>
#include <chrono>

namespace istlab {

// Thrown out of a round that stopped midway. Every method writes a round's result into the
// model only after its local steps, so the model is still the previous round's.
struct RoundStopped {
  bool time_up = false;  // the time limit; otherwise an interrupt
};

class RoundStop {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RoundStop(const std::atomic<bool>* interrupt = nullptr) : interrupt_(interrupt) {}

  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }

  // Throws RoundStopped when an interrupt came or the deadline passed. (An atomic load, and a
  // clock read only when a deadline is set.)
  void poll() const {
    if (interrupt_ != nullptr && interrupt_->load(std::memory_order_relaxed))
      throw RoundStopped{false};
    if (deadline_ != Clock::time_point::max() && Clock::now() >= deadline_)
      throw RoundStopped{true};
  }

  // A stop that never comes: what a method polls when no loop watches it.
  static const RoundStop& never() {
    static const RoundStop none;
    return none;
  }

 private:
  const std::atomic<bool>* interrupt_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

}  // namespace istlab
