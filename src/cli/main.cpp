// The istlab command line. Exit codes: 0 success, 1 run failure, 2 bad usage or config.

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <iostream>
#include <string>

#include "istlab/io/build_info.hpp"
#include "istlab/io/config.hpp"
#include "istlab/sweep/grid.hpp"
#include "istlab/sweep/sweep.hpp"

namespace {

constexpr int kRunFailure = 1;
constexpr int kBadInput = 2;

std::string joined(int argc, char** argv) {
  std::string text;
  for (int i = 0; i < argc; ++i) text += (i ? " " : "") + std::string(argv[i]);
  return text;
}

int sweep_command(const std::string& config_path, const istlab::SweepOptions& options, bool dry_run) {
  const istlab::SweepConfig config = istlab::load_config(config_path);
  if (dry_run) {
    istlab::describe_sweep(config, istlab::expand_grid(config), std::cout);
    return 0;
  }
  const istlab::SweepSummary summary = istlab::run_sweep(config, options, std::cerr);
  std::string statuses;
  for (const auto& [status, count] : summary.by_status) statuses += fmt::format(" {} {},", count, status);
  if (!statuses.empty()) statuses.pop_back();
  std::cerr << fmt::format("{}: {} cells ({}) on {} problems in {:.2f} s -> {}\n", config.experiment,
                           summary.cells, statuses.substr(1), summary.problems, summary.seconds,
                           summary.directory.string());
  return 0;
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
  bool dry_run = false;
  bool quiet = false;
  std::string out_dir = "results";
  auto* sweep = app.add_subcommand("sweep", "run every cell of a sweep config and write tidy CSV");
  sweep->add_option("config", config_path, "the sweep config (YAML)")->required()->check(CLI::ExistingFile);
  sweep->add_option("--out", out_dir, "folder for results; the sweep writes OUT/<experiment>/")->capture_default_str();
  sweep->add_option("--threads", options.threads, "worker threads (default: all cores)")->check(CLI::PositiveNumber);
  sweep->add_flag("--dry-run", dry_run, "print the grid (cells, axes, distinct problems) and run nothing");
  sweep->add_flag("--quiet", quiet, "no progress output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : kBadInput;
  }
  options.out_dir = out_dir;
  if (quiet) options.progress = istlab::ProgressMode::kQuiet;

  try {
    if (*sweep) return sweep_command(config_path, options, dry_run);
  } catch (const istlab::ConfigError& error) {
    std::cerr << "istlab: " << error.what() << '\n';
    return kBadInput;
  } catch (const std::exception& error) {
    std::cerr << "istlab: run failed: " << error.what() << '\n';
    return kRunFailure;
  }
  return kBadInput;
}
