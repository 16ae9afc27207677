// The istlab command line. Exit codes: 0 success, 1 run failure (or interrupted, or cells
// missing after a merge), 2 bad usage or config.

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>
#include <new>
#include <string>

#ifdef ISTLAB_WITH_MPI
#include <mpi.h>
#endif

#include "istlab/data/dataset.hpp"
#include "istlab/io/build_info.hpp"
#include "istlab/io/files.hpp"
#include "istlab/param/suggest.hpp"
#include "istlab/sweep/config.hpp"
#include "istlab/sweep/grid.hpp"
#include "istlab/sweep/reference.hpp"
#include "istlab/sweep/sweep.hpp"
#include "python_commands.hpp"

namespace {

constexpr int kRunFailure = 1;
constexpr int kBadInput = 2;

// Set by SIGINT/SIGTERM; runs stop within their current round (run/loop.hpp), finished cells
// stay stored.
std::atomic<bool> interrupt_requested{false};
// True while cells run: a signal then lets running cells stop after their round, so the
// finished ones are stored. At any other stage (reading the config, expanding the grid,
// building problems, assembling outputs) the process ends at once; nothing it leaves is
// half-written (files are renamed into place) and stale temporary files are removed by
// the next run.
std::atomic<bool> cells_running{false};

// Running cells stop within a local step; a thread building a large problem or theory
// (an eigendecomposition cannot stop midway) is not waited for longer than this.
constexpr unsigned kGraceSeconds = 2;
volatile std::sig_atomic_t first_signal = 0;

extern "C" void on_grace_over(int /*alarm*/) {
  if (!cells_running.load()) return;  // the cells stopped: the sweep is ending by itself
  constexpr char kMessage[] =
      "istlab: interrupted while a problem was being built; the finished cells are stored; "
      "rerun the same command to resume\n";
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  ::_exit(128 + first_signal);
}

extern "C" void on_interrupt(int signal) {
  if (cells_running.load()) {
    interrupt_requested.store(true);
    first_signal = signal;
    std::signal(signal, SIG_DFL);  // a second signal ends the process at once
    std::signal(SIGALRM, on_grace_over);
    ::alarm(kGraceSeconds);
    return;
  }
  constexpr char kMessage[] = "istlab: interrupted; rerun the same command to resume\n";
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  ::_exit(128 + signal);
}

constexpr int kMaxThreads = 1024;

// --threads: a whole number in [1, kMaxThreads], with a one-line message otherwise.
CLI::Validator thread_count_rule() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || used == 0 || value < 1 || value > kMaxThreads)
          return fmt::format("must be a whole number from 1 to {}, got '{}'", kMaxThreads, text);
        return "";
      },
      fmt::format("1..{}", kMaxThreads));
}

std::string joined(int argc, char** argv) {
  std::string text;
  for (int i = 0; i < argc; ++i) text += (i ? " " : "") + std::string(argv[i]);
  return text;
}

std::string counts(const std::map<std::string, int>& by_status) {
  std::string text;
  for (const auto& [status, count] : by_status)
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", count, status);
  return text.empty() ? "none run" : text;
}

void print_summary(const istlab::SweepConfig& config, const istlab::SweepSummary& summary) {
  std::cerr << fmt::format(
      "{}: {} cells: ran {} ({}{}), skipped {} already done, on {} problems in {:.2f} s -> {}\n",
      config.experiment, summary.cells, summary.ran, counts(summary.by_status),
      summary.continued > 0
          ? fmt::format("; {} went on from stored shorter runs", summary.continued)
          : "",
      summary.skipped, summary.problems, summary.seconds, summary.directory.string());
  // Each reason once: a failure is never only a count (cells.csv has their rows, with the
  // reason in its error column).
  for (const auto& group : summary.failures) std::cerr << "istlab: failed " << group.line() << '\n';
}

int interrupted_exit(const istlab::SweepSummary& summary) {
  std::cerr << fmt::format(
      "istlab: interrupted: {} cells finished and stored, the outputs assembled from what is "
      "stored (partial); rerun the same command to resume\n",
      summary.ran);
  return kRunFailure;
}

int sweep_command(const std::string& config_path, istlab::SweepOptions options, bool dry_run,
                  bool use_mpi, bool quick, const std::vector<std::string>& overrides) {
  const istlab::SweepConfig config = istlab::load_config(config_path, quick, overrides);
  if (dry_run) {
    istlab::describe_sweep(config, options, std::cout);
    return 0;
  }
  if (!use_mpi) {
    if (options.shard.count > 1)
      options.mode = fmt::format("shard {}/{}", options.shard.index, options.shard.count);
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
  options.lock =
      rank == 0 ? istlab::SweepOptions::Lock::kFolder : istlab::SweepOptions::Lock::kNone;
  const istlab::SweepSummary summary = istlab::run_cells(config, options, std::cerr);
  int local[2] = {summary.interrupted ? 1 : 0, summary.failed};
  int total[2] = {0, 0};
  MPI_Allreduce(local, total, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank != 0) return total[0] > 0 || total[1] > 0 ? kRunFailure : 0;
  print_summary(config, summary);
  options.shard = istlab::Shard{};
  const auto missing = istlab::assemble_outputs(config, options, summary);  // partial too
  if (total[0] > 0) return interrupted_exit(summary);
  if (!missing.empty())
    std::cerr << fmt::format("istlab: {} cells missing after all ranks finished\n", missing.size());
  return total[1] > 0 || !missing.empty() ? kRunFailure : 0;
#else
  std::cerr << "istlab: --mpi needs a build with MPI (install libopenmpi-dev and reconfigure)\n";
  return kBadInput;
#endif
}

// The command line as parsed: which subcommand, and its arguments.
struct Command {
  CLI::App* sweep = nullptr;
  CLI::App* status = nullptr;
  CLI::App* merge = nullptr;
  CLI::App* keys = nullptr;
  CLI::App* help = nullptr;
  CLI::App* clean = nullptr;
  CLI::App* list_names = nullptr;
  std::vector<CLI::App*> python;  // plot, report: their arguments go to the Python package
  std::string help_for;
  std::string config_path;
  istlab::SweepOptions options;
  bool dry_run = false;
  bool quiet = false;
  bool use_mpi = false;
  bool quick = false;
  bool markdown = false;
  bool list = false;
  bool verbose = false;
  std::string out_dir = "results";
  std::string shard = "1/1";
  std::vector<std::string> shard_dirs;
  std::vector<std::string> overrides;  // --set KEY=VALUE
};

// --set KEY=VALUE, repeatable: one override per occurrence.
void add_set_option(CLI::App& app, Command& command) {
  app.add_option("--set", command.overrides,
                 "override a config key, e.g. --set problem.num_workers=8 --set 'seeds=[1, 2]' "
                 "(the value is YAML, checked like the file's; recorded in the manifest)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void define_commands(CLI::App& app, Command& command) {
  auto* sweep = command.sweep =
      app.add_subcommand("sweep", "run every cell of a sweep config (resuming) and write tidy CSV");
  sweep->add_option("config", command.config_path, "the sweep config (YAML)")->required();
  sweep
      ->add_option("-o,--out", command.out_dir,
                   "folder for results; the sweep writes OUT/<experiment>/")
      ->capture_default_str();
  sweep
      ->add_option("-j,--threads", command.options.threads,
                   "threads for cells and workers (default: all cores)")
      ->check(thread_count_rule());
  sweep
      ->add_option("--shard", command.shard,
                   "run the K-th of N disjoint slices of the grid, e.g. 2/4")
      ->capture_default_str();
  sweep->add_flag("-f,--force", command.options.force, "rerun cells that are already stored");
  sweep->add_flag("-n,--dry-run", command.dry_run,
                  "print cells, axes, distinct problems, memory and what is done; run nothing");
  sweep->add_flag("--mpi", command.use_mpi,
                  "share the cells among MPI ranks (mpirun -np P istlab sweep X.yaml --mpi)");
  sweep->add_flag("-q,--quiet", command.quiet, "no progress output");
  sweep->add_flag("--quick", command.quick,
                  "apply the config's quick: section (a smaller sweep, for tests)");
  add_set_option(*sweep, command);

  auto* status = command.status =
      app.add_subcommand("status", "list done, missing and failed cells of a sweep");
  status->add_option("config", command.config_path, "the sweep config (YAML)")->required();
  status->add_option("-o,--out", command.out_dir, "the folder given to sweep --out")
      ->capture_default_str();
  status->add_option("--shard", command.shard, "only this slice of the grid, e.g. 2/4")
      ->capture_default_str();
  status->add_flag("--quick", command.quick, "the config's quick: variant");
  add_set_option(*status, command);
  status->add_flag("-v,--verbose", command.verbose, "list every failed and missing cell");

  auto* merge = command.merge =
      app.add_subcommand("merge", "combine the outputs of sharded sweeps into one result");
  merge->add_option("shard_dirs", command.shard_dirs, "the --out folders of the shards")
      ->required();
  merge->add_option("-o,--out", command.out_dir, "folder for the merged result")->required();

  auto* clean = command.clean =
      app.add_subcommand("clean", "remove stored records that no longer belong to a config's grid");
  clean->add_option("config", command.config_path, "the sweep config (YAML)")->required();
  clean->add_option("-o,--out", command.out_dir, "the folder given to sweep --out")
      ->capture_default_str();
  clean->add_flag("-n,--dry-run", command.dry_run, "list what would be removed; remove nothing");
  clean->add_flag("--quick", command.quick, "the config's quick: variant");
  add_set_option(*clean, command);

  command.list_names = app.add_subcommand(
      "list", "the methods, problem families, sketches, datasets, splits and network models");

  // Every argument (--help too) passes through to the package, which parses and checks them.
  for (const auto& python : istlab_cli::kPythonCommands) {
    CLI::App* subcommand = app.add_subcommand(python.name, python.summary);
    subcommand->set_help_flag();
    subcommand->prefix_command();
    command.python.push_back(subcommand);
  }

  auto* help = command.help = app.add_subcommand("help", "print this help, or a command's");
  help->add_option("command", command.help_for, "a command, e.g. sweep or plot");

  auto* keys = command.keys = app.add_subcommand(
      "keys", "list every config key: type, default, allowed values and meaning");
  auto* markdown = keys->add_flag(
      "--markdown", command.markdown,
      "the full reference as Markdown (docs/config-reference.md): also the families and "
      "methods that read each key and its CSV column");
  keys->add_flag("--list", command.list, "only the full key names, one per line")
      ->excludes(markdown);
}

// "istlab sweep CONFIG", for a message about the command as a whole.
std::string running(const Command& command) {
  for (const CLI::App* app : {command.sweep, command.status, command.merge, command.keys})
    if (*app)
      return "'istlab " + app->get_name() +
             (command.config_path.empty() ? "" : " " + istlab::printable(command.config_path)) +
             "'";
  return "istlab";
}

// Runs the parsed command; bad input is exit code 2, a failed run 1.
int run_command(Command& command) {
  try {
    command.options.shard = istlab::Shard::parse(command.shard);
    if (*command.sweep)
      return sweep_command(command.config_path, command.options, command.dry_run, command.use_mpi,
                           command.quick, command.overrides);
    if (*command.status) {
      const int not_done = istlab::report_status(
          istlab::load_config(command.config_path, command.quick, command.overrides),
          command.options, std::cout, command.verbose);
      return not_done == 0 ? 0 : kRunFailure;
    }
    if (*command.list_names) {
      std::cout << istlab::names_listing();
      return 0;
    }
    if (*command.clean)
      return istlab::clean_records(
          istlab::load_config(command.config_path, command.quick, command.overrides),
          command.options, command.dry_run, std::cout);
    if (*command.keys) {
      std::cout << (command.markdown ? istlab::reference_markdown()
                    : command.list   ? istlab::reference_list()
                                     : istlab::reference_listing());
      return 0;
    }
    if (*command.merge) {
      std::vector<std::filesystem::path> folders(command.shard_dirs.begin(),
                                                 command.shard_dirs.end());
      return istlab::merge_shards(folders, command.options, std::cerr).empty() ? 0 : kRunFailure;
    }
  } catch (const istlab::ConfigError& error) {
    std::cerr << "istlab: " << error.what() << '\n';
    return kBadInput;
  } catch (const istlab::DataError& error) {  // a data file that is not what its format promises
    std::cerr << "istlab: " << error.what() << '\n';
    return kBadInput;
  } catch (const std::invalid_argument& error) {
    std::cerr << "istlab: " << error.what() << '\n';
    return kBadInput;
  } catch (const std::bad_alloc&) {  // (reading datasets names its file: a DataError above)
    std::cerr << "istlab: run failed: out of memory while running " << running(command)
              << " (std::bad_alloc); free memory, or make it smaller (fewer --threads, smaller "
                 "problems; sweep --dry-run shows the memory a sweep needs)\n";
    return kRunFailure;
  } catch (const std::exception& error) {
    std::cerr << "istlab: run failed: " << error.what() << '\n';
    return kRunFailure;
  }
  return kBadInput;
}

// The commands istlab has, for messages.
std::vector<std::string> command_names(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* subcommand : app.get_subcommands({}))
    names.push_back(subcommand->get_name());
  return names;
}

// What CLI11 left over (an unknown command, option or argument), said with the name meant
// when one is close; empty when nothing was left.
std::string leftover_message(CLI::App& app, CLI::App* command) {
  const std::vector<std::string> extras = (command ? *command : app).remaining();
  if (extras.empty()) return "";
  const std::string given = extras.front().substr(0, extras.front().find('='));
  std::vector<std::string> names;
  if (command == nullptr) {
    names = command_names(app);
    return fmt::format("unknown command '{}'{}; the commands: {}; see istlab help", given,
                       istlab::did_you_mean(given, names), fmt::join(names, ", "));
  }
  const std::string name = command->get_name();
  if (!given.starts_with("-"))
    return fmt::format("{}: unexpected argument '{}'; see istlab help {}", name, given, name);
  for (const CLI::Option* option : command->get_options()) {
    for (const auto& long_name : option->get_lnames()) names.push_back("--" + long_name);
    for (const auto& short_name : option->get_snames()) names.push_back("-" + short_name);
  }
  return fmt::format("{}: unknown option '{}'{}; see istlab help {}", name, given,
                     istlab::did_you_mean(given, names), name);
}

// `istlab`, `istlab help` and `istlab help COMMAND` (the Python commands print their own).
int print_help(CLI::App& app, const std::string& command) {
  for (const auto& python : istlab_cli::kPythonCommands)
    if (command == python.name) return istlab_cli::run_python_command(command, {"--help"});
  if (command.empty()) {
    // (app.help() would print the help of the command parsed, here `help` itself)
    std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
    return 0;
  }
  for (CLI::App* subcommand : app.get_subcommands({}))
    if (subcommand->get_name() == command) {
      std::cout << subcommand->help();
      return 0;
    }
  const std::vector<std::string> names = command_names(app);
  std::cerr << fmt::format("istlab: help: no command '{}'{}; the commands: {}\n", command,
                           istlab::did_you_mean(command, names), fmt::join(names, ", "));
  return kBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "istlab: sweeps and benchmarks for Independent Subnetwork Training (Shulgin & Richtárik, "
      "ICML 2024)"};
  app.set_version_flag("--version", std::string(istlab::build_info().version) + " (" +
                                        istlab::build_info().git_commit + ")");
  app.require_subcommand(0, 1);  // bare `istlab` prints the help
  Command command;
  command.options.command_line = joined(argc, argv);
  command.options.interrupt = &interrupt_requested;
  define_commands(app, command);
  // One line per usage error (CLI11 adds a "Run with --help" line by default).
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return fmt::format("istlab: {}\n", error.what());
  });
  app.allow_extras();
  for (CLI::App* subcommand : app.get_subcommands({})) subcommand->allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : kBadInput;
  }
  CLI::App* chosen = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
  if (std::find(command.python.begin(), command.python.end(), chosen) != command.python.end())
    return istlab_cli::run_python_command(chosen->get_name(), chosen->remaining());
  if (const std::string leftover = leftover_message(app, chosen); !leftover.empty()) {
    std::cerr << "istlab: " << leftover << '\n';
    return kBadInput;
  }
  if (chosen == nullptr || chosen == command.help) return print_help(app, command.help_for);
  if (command.out_dir.empty()) {
    std::cerr
        << "istlab: --out: give a folder (an empty path would write into the current folder)\n";
    return kBadInput;
  }
  command.options.out_dir = command.out_dir;
  command.options.cells_running = &cells_running;
  if (command.quiet) command.options.progress = istlab::ProgressMode::kQuiet;

#ifdef ISTLAB_WITH_MPI
  struct MpiSession {
    bool active;
    explicit MpiSession(bool use, int* argc, char*** argv) : active(use) {
      if (active) MPI_Init(argc, argv);
    }
    ~MpiSession() {
      if (active) MPI_Finalize();
    }
  } mpi_session(command.use_mpi, &argc, &argv);
#endif

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, reported as an I/O
  // error naming the file, instead of killing the process without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  return run_command(command);
}
