#include "istlab/sweep/progress.hpp"

#include <fmt/core.h>
#include <unistd.h>

namespace istlab {

Progress::Progress(int total, ProgressMode mode, std::ostream& log) : total_(total), log_(log) {
  if (mode == ProgressMode::kAuto)
    mode = ::isatty(STDERR_FILENO) ? ProgressMode::kTerminal : ProgressMode::kLines;
  mode_ = mode;
}

void Progress::cell_done(const std::string& status) {
  if (mode_ == ProgressMode::kQuiet || total_ == 0) return;
  std::lock_guard lock(mutex_);
  ++done_;
  ++statuses_[status];
  const auto now = Clock::now();
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  const double interval = mode_ == ProgressMode::kTerminal ? 0.1 : 5.0;
  if (done_ != total_ && since_print < interval) return;
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  std::string counts;
  for (const auto& [name, count] : statuses_) counts += fmt::format(" {} {}", count, name);
  const std::string text =
      fmt::format("  {}/{} cells, {:.1f} cells/s, ETA {:.0f} s |{}", done_, total_, rate,
                  rate > 0 ? (total_ - done_) / rate : 0.0, counts);
  if (mode_ == ProgressMode::kTerminal) {
    log_ << '\r' << text << "\033[K" << (done_ == total_ ? "\n" : "") << std::flush;
  } else {
    log_ << text << '\n' << std::flush;
  }
}

}  // namespace istlab
