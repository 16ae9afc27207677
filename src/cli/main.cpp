// The istlab command line. Exit codes: 0 success, 1 run failure (or interrupted, or cells
// missing after a merge), 2 bad usage or config.

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <string>

#ifdef ISTLAB_WITH_MPI
#include <mpi.h>
#endif

#include "istlab/io/build_info.hpp"
#include "istlab/io/config.hpp"
#include "istlab/sweep/grid.hpp"
#include "istlab/sweep/sweep.hpp"

namespace {

constexpr int kRunFailure = 1;
constexpr int kBadInput = 2;

// Set by SIGINT/SIGTERM; runs stop after their current round, finished cells stay stored.
std::atomic<bool> interrupt_requested{false};

extern "C" void on_interrupt(int signal) {
  interrupt_requested.store(true);
  std::signal(signal, SIG_DFL);  // a second signal ends the process at once
}

std::string joined(int argc, char** argv) {
  std::string text;
  for (int i = 0; i < argc; ++i) text += (i ? " " : "") + std::string(argv[i]);
  return text;
}

std::string counts(const std::map<std::string, int>& by_status) {
  std::string text;
  for (const auto& [status, count] : by_status) text += fmt::format("{}{} {}", text.empty() ? "" : ", ", count, status);
  return text.empty() ? "none run" : text;
}

void print_summary(const istlab::SweepConfig& config, const istlab::SweepSummary& summary) {
  std::cerr << fmt::format("{}: {} cells: ran {} ({}), skipped {} already done, on {} problems in {:.2f} s -> {}\n",
                           config.experiment, summary.cells, summary.ran, counts(summary.by_status), summary.skipped,
                           summary.problems, summary.seconds, summary.directory.string());
}

int interrupted_exit(const istlab::SweepSummary& summary) {
  std::cerr << fmt::format("istlab: interrupted: {} cells finished and stored; rerun the same command to resume\n",
                           summary.ran);
  return kRunFailure;
}

int sweep_command(const std::string& config_path, istlab::SweepOptions options, bool dry_run, bool use_mpi,
                  bool quick) {
  const istlab::SweepConfig config = istlab::load_config(config_path, quick);
  if (dry_run) {
    istlab::describe_sweep(config, options, std::cout);
    return 0;
  }
  if (!use_mpi) {
    if (options.shard.count > 1) options.mode = fmt::format("shard {}/{}", options.shard.index, options.shard.count);
    const istlab::SweepSummary summary = istlab::run_sweep(config, options, std::cerr);
    print_summary(config, summary);
    if (summary.interrupted) return interrupted_exit(summary);
    return summary.failed > 0 ? kRunFailure : 0;
  }
#ifdef ISTLAB_WITH_MPI
  // Ranks share the grid as shards of one folder; rank 0 assembles once all have finished.
  int rank = 0;
  int ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  options.shard = istlab::Shard{rank + 1, ranks};
  options.mode = fmt::format("mpi, {} ranks", ranks);
  if (rank != 0) options.progress = istlab::ProgressMode::kQuiet;
  const istlab::SweepSummary summary = istlab::run_cells(config, options, std::cerr);
  int local[2] = {summary.interrupted ? 1 : 0, summary.failed};
  int total[2] = {0, 0};
  MPI_Allreduce(local, total, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank != 0) return total[0] > 0 || total[1] > 0 ? kRunFailure : 0;
  print_summary(config, summary);
  if (total[0] > 0) return interrupted_exit(summary);
  options.shard = istlab::Shard{};
  const auto missing = istlab::assemble_outputs(config, options, summary);
  if (!missing.empty()) std::cerr << fmt::format("istlab: {} cells missing after all ranks finished\n", missing.size());
  return total[1] > 0 || !missing.empty() ? kRunFailure : 0;
#else
  std::cerr << "istlab: --mpi needs a build with MPI (install libopenmpi-dev and reconfigure)\n";
  return kBadInput;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"istlab: sweeps and benchmarks for Independent Subnetwork Training (Shulgin & Richtárik, ICML 2024)"};
  app.set_version_flag("--version", std::string(istlab::build_info().version) + " (" +
                                        istlab::build_info().git_commit + ")");
  app.require_subcommand(1);

  std::string config_path;
  istlab::SweepOptions options;
  options.command_line = joined(argc, argv);
  options.interrupt = &interrupt_requested;
  bool dry_run = false;
  bool quiet = false;
  bool use_mpi = false;
  bool quick = false;
  std::string out_dir = "results";
  std::string shard = "1/1";
  std::vector<std::string> shard_dirs;

  auto* sweep = app.add_subcommand("sweep", "run every cell of a sweep config (resuming) and write tidy CSV");
  sweep->add_option("config", config_path, "the sweep config (YAML)")->required();
  sweep->add_option("--out", out_dir, "folder for results; the sweep writes OUT/<experiment>/")->capture_default_str();
  sweep->add_option("--threads", options.threads, "threads for cells and workers (default: all cores)")
      ->check(CLI::PositiveNumber);
  sweep->add_option("--shard", shard, "run the K-th of N disjoint slices of the grid, e.g. 2/4")->capture_default_str();
  sweep->add_flag("--force", options.force, "rerun cells that are already stored");
  sweep->add_flag("--dry-run", dry_run, "print cells, axes, distinct problems, memory and what is done; run nothing");
  sweep->add_flag("--mpi", use_mpi, "share the cells among MPI ranks (mpirun -np P istlab sweep X.yaml --mpi)");
  sweep->add_flag("--quiet", quiet, "no progress output");
  sweep->add_flag("--quick", quick, "apply the config's quick: section (a smaller sweep, for tests)");

  auto* status = app.add_subcommand("status", "list done, missing and failed cells of a sweep");
  status->add_option("config", config_path, "the sweep config (YAML)")->required();
  status->add_option("--out", out_dir, "the folder given to sweep --out")->capture_default_str();
  status->add_option("--shard", shard, "only this slice of the grid, e.g. 2/4")->capture_default_str();
  status->add_flag("--quick", quick, "the config's quick: variant");

  auto* merge = app.add_subcommand("merge", "combine the outputs of sharded sweeps into one result");
  merge->add_option("shard_dirs", shard_dirs, "the --out folders of the shards")->required();
  merge->add_option("--out", out_dir, "folder for the merged result")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : kBadInput;
  }
  options.out_dir = out_dir;
  if (quiet) options.progress = istlab::ProgressMode::kQuiet;

#ifdef ISTLAB_WITH_MPI
  struct MpiSession {
    bool active;
    explicit MpiSession(bool use, int* argc, char*** argv) : active(use) {
      if (active) MPI_Init(argc, argv);
    }
    ~MpiSession() {
      if (active) MPI_Finalize();
    }
  } mpi_session(use_mpi, &argc, &argv);
#endif

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  try {
    options.shard = istlab::Shard::parse(shard);
    if (*sweep) return sweep_command(config_path, options, dry_run, use_mpi, quick);
    if (*status) {
      const int not_done = istlab::report_status(istlab::load_config(config_path, quick), options, std::cout);
      return not_done == 0 ? 0 : kRunFailure;
    }
    if (*merge) {
      std::vector<std::filesystem::path> folders(shard_dirs.begin(), shard_dirs.end());
      return istlab::merge_shards(folders, options, std::cerr).empty() ? 0 : kRunFailure;
    }
  } catch (const istlab::ConfigError& error) {
    std::cerr << "istlab: " << error.what() << '\n';
    return kBadInput;
  } catch (const std::invalid_argument& error) {
    std::cerr << "istlab: " << error.what() << '\n';
    return kBadInput;
  } catch (const std::exception& error) {
    std::cerr << "istlab: run failed: " << error.what() << '\n';
    return kRunFailure;
  }
  return kBadInput;
}
