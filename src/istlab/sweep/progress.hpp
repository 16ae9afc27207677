#pragma once
// Cells done / total, cells/s, ETA and statuses: redrawn in place on a terminal, a line
// every few seconds otherwise, nothing when quiet.

#include <chrono>
#include <map>
#include <mutex>
#include <ostream>
#include <string>

namespace istlab {

enum class ProgressMode { kAuto, kTerminal, kLines, kQuiet };

class Progress {
 public:
  Progress(int total, ProgressMode mode, std::ostream& log);
  // Thread-safe.
  void cell_done(const std::string& status);

 private:
  using Clock = std::chrono::steady_clock;
  int total_;
  ProgressMode mode_;
  std::ostream& log_;
  int done_ = 0;
  std::map<std::string, int> statuses_;
  std::mutex mutex_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_print_ = Clock::now();
};

}  // namespace istlab
