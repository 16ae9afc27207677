#include "istlab/sweep/progress.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "istlab/io/files.hpp"

namespace istlab {
namespace {

// A cell is "long" once it has run this long: then its own rounds are reported.
constexpr double kLongCellSeconds = 2.0;
constexpr double kFileSeconds = 2.0;  // .progress.json is rewritten this often

double seconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

Progress::Progress(int total, ProgressMode mode, std::ostream& log, std::filesystem::path folder)
    : total_(total), log_(log), file_(folder.empty() ? folder : folder / ".progress.json") {
  if (mode == ProgressMode::kAuto)
    mode = ::isatty(STDERR_FILENO) ? ProgressMode::kTerminal : ProgressMode::kLines;
  mode_ = mode;
  if (total_ > 0) reporter_ = std::thread([this] { report(); });
}

Progress::~Progress() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (reporter_.joinable()) reporter_.join();
  std::error_code ignored;
  if (!file_.empty()) std::filesystem::remove(file_, ignored);
}

RunningCell& Progress::cell_started(std::string label, std::int64_t max_iters) {
  std::lock_guard lock(mutex_);
  RunningCell& cell = running_.emplace_back();
  cell.label = std::move(label);
  cell.max_iters = max_iters;
  cell.start = Clock::now();
  return cell;
}

void Progress::cell_ended(RunningCell& cell) {
  std::lock_guard lock(mutex_);
  running_.remove_if([&](const RunningCell& other) { return &other == &cell; });
}

std::string Progress::summary() {
  const double elapsed = seconds(Clock::now() - start_);
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  std::string counts;
  for (const auto& [name, count] : statuses_) counts += fmt::format(" {} {}", count, name);
  return fmt::format("  {}/{} cells, {:.1f} cells/s, ETA {}{}", done_, total_, rate,
                     rate > 0 ? fmt::format("{:.0f} s", (total_ - done_) / rate) : "?",
                     counts.empty() ? "" : " |" + counts);
}

std::string Progress::longest_cell_line(Clock::time_point now) {
  const RunningCell* longest = nullptr;
  for (const auto& cell : running_)
    if (longest == nullptr || cell.start < longest->start) longest = &cell;
  if (longest == nullptr || seconds(now - longest->start) < kLongCellSeconds) return "";
  const double elapsed = seconds(now - longest->start);
  const std::int64_t rounds = longest->rounds.load(std::memory_order_relaxed);
  const double rate = static_cast<double>(rounds) / elapsed;
  return fmt::format(
      " | running {}: round {} of {}, {:.1f} rounds/s, ETA {}", longest->label, rounds,
      longest->max_iters, rate,
      rate > 0 ? fmt::format("{:.0f} s", static_cast<double>(longest->max_iters - rounds) / rate)
               : "?");
}

void Progress::write_progress_file(Clock::time_point now) {
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& cell : running_) {
    const double elapsed = seconds(now - cell.start);
    const std::int64_t rounds = cell.rounds.load(std::memory_order_relaxed);
    cells.push_back(
        {{"cell", cell.label},
         {"round", rounds},
         {"max_iters", cell.max_iters},
         {"seconds", elapsed},
         {"rounds_per_second", elapsed > 0 ? static_cast<double>(rounds) / elapsed : 0.0}});
  }
  const nlohmann::json progress = {
      {"pid", ::getpid()}, {"done", done_}, {"total", total_}, {"running", cells}};
  try {  // (progress is a courtesy: a folder that cannot take it does not stop the sweep)
    write_file_atomically(file_, progress.dump(1) + "\n", /*durable=*/false);
  } catch (const std::exception&) {
  }
}

void Progress::report() {
  std::unique_lock lock(mutex_);
  auto last_file = Clock::now() - std::chrono::hours(1);
  while (!stop_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    const auto now = Clock::now();
    if (!file_.empty() && seconds(now - last_file) >= kFileSeconds) {
      write_progress_file(now);
      last_file = now;
    }
    const std::string cell = longest_cell_line(now);
    if (mode_ == ProgressMode::kQuiet || cell.empty()) continue;
    const double interval = mode_ == ProgressMode::kTerminal ? 1.0 : 5.0;
    if (seconds(now - last_print_) < interval) continue;
    last_print_ = now;
    if (mode_ == ProgressMode::kTerminal)
      log_ << '\r' << summary() << cell << "\033[K" << std::flush;
    else
      log_ << summary() << cell << '\n' << std::flush;
  }
}

void Progress::cell_done(const std::string& status) {
  std::lock_guard lock(mutex_);
  ++done_;
  ++statuses_[status];
  if (mode_ == ProgressMode::kQuiet || total_ == 0) return;
  const auto now = Clock::now();
  const double interval = mode_ == ProgressMode::kTerminal ? 0.1 : 5.0;
  if (done_ != total_ && seconds(now - last_print_) < interval) return;
  last_print_ = now;
  const std::string text = summary();
  if (mode_ == ProgressMode::kTerminal) {
    log_ << '\r' << text << "\033[K" << (done_ == total_ ? "\n" : "") << std::flush;
  } else {
    log_ << text << '\n' << std::flush;
  }
}

}  // namespace istlab
