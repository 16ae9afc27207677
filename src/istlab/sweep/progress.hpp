#pragma once
// What a running sweep tells: cells done / total, cells/s, ETA and statuses, redrawn in place
// on a terminal, a line every few seconds otherwise, nothing when quiet; and, for a cell that
// runs longer than a couple of seconds, its rounds, rate and ETA. It also keeps
// OUT/<experiment>/.progress.json (the pid and the running cells, rewritten every 2 s and
// removed at the end) so that `istlab status` can show a live run.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace istlab {

enum class ProgressMode { kAuto, kTerminal, kLines, kQuiet };

// A cell while it runs: the loop counts its rounds into `rounds`.
struct RunningCell {
  std::string label;  // describe_cell
  std::int64_t max_iters = 0;
  std::chrono::steady_clock::time_point start;
  std::atomic<std::int64_t> rounds{0};
};

class Progress {
 public:
  // `folder` gets .progress.json (none when empty).
  Progress(int total, ProgressMode mode, std::ostream& log, std::filesystem::path folder = {});
  ~Progress();  // stops the reporter and removes .progress.json
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Thread-safe.
  void cell_done(const std::string& status);
  // A cell starts; its entry lives until cell_ended (thread-safe).
  RunningCell& cell_started(std::string label, std::int64_t max_iters);
  void cell_ended(RunningCell& cell);

 private:
  using Clock = std::chrono::steady_clock;
  void report();                                         // every second, on its own thread
  std::string summary();                                 // the cells line; mutex_ held
  std::string longest_cell_line(Clock::time_point now);  // mutex_ held; "" when none is long
  void write_progress_file(Clock::time_point now);       // mutex_ held

  int total_;
  ProgressMode mode_;
  std::ostream& log_;
  std::filesystem::path file_;
  int done_ = 0;
  std::map<std::string, int> statuses_;
  std::list<RunningCell> running_;
  std::mutex mutex_;
  Clock::time_point start_ = Clock::now();
  // (as if long ago: the first finished cell, or the first long one, is reported at once)
  Clock::time_point last_print_ = Clock::now() - std::chrono::hours(1);
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread reporter_;
};

}  // namespace istlab
