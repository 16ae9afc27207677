// A deterministic mutation fuzzer for the sweep-config decoder: parse_config + expand_grid.
//
// Mutants of the seed configs (every *.yaml of --seeds DIR plus a few inline configs) are made
// by a seeded PRNG, so (--seed, mutant index) names one mutant on every run and machine. Each
// mutant runs in a forked child (a crash, a hang or a runaway allocation stays one finding and
// the run goes on), which checks the decoder's contract:
//   - a bad config throws istlab::ConfigError and nothing else (std::bad_alloc is a finding);
//   - the error names the file and a line:column >= 1, and what() starts "fuzz.yaml:L:C: ";
//   - the message echoes no raw control characters or invalid UTF-8, and is not yaml-cpp's
//     "bad file" (what it says for nesting past its depth limit);
//   - an accepted config is one YAML document, in valid UTF-8;
//   - no mutant takes longer than --limit seconds (default 2) of CPU time to decode and
//     expand (CPU time, so a loaded machine does not fail the test; a child still running
//     after 3x the limit in wall time is killed and counts too).
// Then a few rejected mutants go through the real executable (`istlab sweep FILE --dry-run`),
// which must exit 2 with "istlab: FILE:L:C: " on the first line of stderr and leave no output.
//
// Usage: istlab_config_fuzz --seeds DIR [--istlab BIN] [--work DIR] [--count N] [--seed S]
//                           [--jobs J] [--e2e N] [--limit SECONDS] [--memory-mb M]
//                           [--only INDEX] [--minimize] [--replay FILE...]
// Exit code: 0 when nothing was found, 1 on findings, 2 on bad usage.

#include <cxxabi.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "istlab/sweep/config.hpp"
#include "istlab/sweep/grid.hpp"
#include "istlab/sweep/reference.hpp"
#include "sanitizer.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kPath = "fuzz.yaml";
constexpr std::size_t kSizeLimit = 1 << 20;  // load_config refuses larger files (no line)
constexpr double kE2eSeconds = 10;           // per run of the executable

// Datasets read by least_squares and mlp mutants, shared by every mutant: the named ones are
// loaded once before the children fork (warm_datasets), and so are the preprocessed forms the
// seed configs ask for (warm_seed_datasets: Fashion-MNIST pooled 2x2 and 4x4 and scaled), so a
// mutant's time is its own decoding and expansion, not the reading and pooling of
// Fashion-MNIST again in every child. (Pooling in the children was a third of the run's CPU.)
istlab::DatasetCache& shared_datasets() {
  static istlab::DatasetCache cache;
  return cache;
}

void warm_datasets() {
  for (const auto& name : istlab::dataset_names()) {
    istlab::DatasetRequest request;
    request.name = name;
    try {
      shared_datasets().fingerprint(request);
    } catch (const istlab::DataError&) {
      // Not installed: mutants naming it are rejected, as on such a machine.
    }
  }
}

// Expands every seed config (and its quick variant) once in this process, through the shared
// cache, so the children forked afterwards (the seed check's too) find the preprocessed
// datasets the seeds name already there. A seed that fails here is reported by the seed check.
void warm_seed_datasets(const std::vector<std::string>& seeds) {
  for (const auto& text : seeds) {
    for (const bool quick : {false, true}) {
      if (quick && text.find("quick:") == std::string::npos) continue;
      try {
        istlab::expand_grid(istlab::parse_config(text, "seed.yaml", quick), &shared_datasets());
      } catch (const std::exception&) {
        // The seed check, in a child, says which seed and why.
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Seeds

const std::vector<std::string> kInlineSeeds = {
    // zip groups, problem.seed, per-entry step sizes, run groups as maps, a quick: section.
    R"(experiment: fuzz_zip
description: "zip of dims and workers; problem seeds zipped with heterogeneity"
problem:
  generator: dense
  dim: [8, 16]
  num_workers: [2, 4]
  kappa: 10
  heterogeneity: [0.0, 0.5]
  interpolation: false
  seed: [7, 8]
zip: [[problem.dim, problem.num_workers], [problem.heterogeneity, problem.seed]]
methods:
  - method: ist
    sketch: [perm, rand]
    scale: [unbiased, diag_precond]
    rand_q: 0
    local_steps: 2
    step_size: {relative: [0.5, 1.0]}
  - method: [gd, dcgd]
    sketch: perm
    outer_sketch: true
    step_size: {absolute: 0.01}
repeats: 3
run:
  max_iters: 100
  tolerance: {rel_err: 1e-8, f_gap: 0, grad_norm2: 1e-20}
  record: {every: 5, log_points: 0}
  floats_budget: 0
  max_seconds: 10
  divergence_factor: 1e6
  record_iterates: true
quick:
  repeats: 1
  problem: {dim: [4, 8], num_workers: [2, 2]}
  run: {max_iters: 10, record: {every: 1}}
)",
    // Block style throughout, a single zip group, scalar step_size, `tolerance: number`.
    R"(experiment: fuzz_block
problem:
  generator: tridiagonal
  dim:
    - 32
    - 64
  num_workers:
    - 4
    - 8
  heterogeneity: 0.1
  mu: 0.05
zip:
  - problem.dim
  - problem.num_workers
methods:
  - method: ist
    sketch: rand
    rand_q: 3
  - method: gd
step_size: 0.5
seeds:
  - 1
  - 2
run:
  max_iters: 20
  tolerance: 1e-12
  record:
    log_points: 5
quick:
  seeds: [1]
  step_size: {relative: 1.0}
)",
    // The counterexample family, a top-level relative step and an entry override.
    R"(experiment: fuzz.counter-1
description: >
  Folded text, with a colon: and a # that is not a comment.
problem: {generator: counterexample, dim: 2, num_workers: 2, interpolation: [true, false]}
methods:
  - {method: ist, sketch: identity, scale: none}
  - method: dcgd
    sketch: perm
    scale: sqrt_n
    step_size: [0.1, 0.2]
step_size: {relative: [0.25]}
repeats: 2
run: {max_iters: 5, tolerance: {rel_err: 0}, record: {every: 1}}
)",
    // The smallest valid config (one cell per seed: a number mutation of `repeats` probes the
    // grid-size cap).
    "methods:\n  - method: gd\nstep_size: 0.1\nrepeats: 1\n",
};

// Fixed probes, run as mutants 0..kProbes.size()-1 before the random ones: the weak spots the
// hardening issue names, so they are checked on every run whatever the PRNG draws.
const std::string kSmallest = "methods:\n  - method: gd\nstep_size: 0.1\n";
std::string alias_bomb_text(int depth) {
  std::string text = "[&l0 [x, x, x, x, x, x, x, x, x, x]";
  for (int level = 1; level < depth; ++level) {
    text += ", &l" + std::to_string(level) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *l" : "*l") + std::to_string(level - 1);
    text += "]";
  }
  return text + "]";
}
const std::vector<std::string> kProbes = {
    kSmallest + "repeats: 10000000\n",  // a grid of 1e7 cells
    kSmallest + "repeats: 1000000\n",   // 1e6 cells
    "methods: " + std::string(10000, '[') + "\n",
    "methods: " + std::string(3000, '[') + std::string(3000, ']') + "\nstep_size: 0.1\n",
    "methods:\n  - method: gd\n    sk\x01etch: perm\nstep_size: 0.1\n",  // control char in key
    "methods:\n  - method: gd\n    \"sk\\x1b[31metch\": perm\nstep_size: 0.1\n",  // ESC, quoted
    kSmallest + "---\nmethods: 3\n",                       // a second document
    kSmallest + "...\n]]] not yaml [[[\n",                 // text after the document end
    "description: \"a\xFF b\"\n" + kSmallest,              // not UTF-8 at all
    "description: \"a\xC0\xAF b\"\n" + kSmallest,          // overlong encoding of '/'
    "description: \"a\xED\xA0\x80 b\"\n" + kSmallest,      // a UTF-16 surrogate
    "description: \"a\xF4\x90\x80\x80 b\"\n" + kSmallest,  // past U+10FFFF
    "methods:\n  - method: gd\n    sk\xC0\xAF"
    "etch: perm\nstep_size: 0.1\n",
    "description: " + alias_bomb_text(9) + "\n" + kSmallest,
    "\xEF\xBB\xBF" + kSmallest,  // a byte-order mark
    kSmallest + "repeats: 9223372036854775807\n",
    kSmallest + "seeds: [18446744073709551615]\n",
    ",\n",  // yaml-cpp 0.7's LoadAll loops on this, allocating without end
};

// A sorted list of the *.yaml files in `dir`, read.
std::vector<std::pair<std::string, std::string>> read_seed_folder(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<std::pair<std::string, std::string>> seeds;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    seeds.emplace_back(file.filename().string(), text.str());
  }
  return seeds;
}

// ---------------------------------------------------------------------------------------
// Text checks

bool valid_utf8(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
      code = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      code = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      code = c & 0x07u;
    } else {
      return false;
    }
    if (i + length > n) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((s[i + k] & 0xC0u) != 0x80u) return false;
      code = (code << 6) | (s[i + k] & 0x3Fu);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += length;
  }
  return true;
}

// The first C0 control character (other than tab) or DEL in `text`, or -1.
int first_control(const std::string& text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7F) return u;
  }
  return -1;
}

// `text` with control characters and bytes >= 0x80 as \xHH, cut to `limit` characters.
std::string printable(const std::string& text, std::size_t limit = 160) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02X", u);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

// A message reduced to its kind: quoted parts, numbers and long runs go, so the same fault
// with other values gives the same signature.
std::string normalized(const std::string& text, std::size_t limit = 90) {
  std::string out;
  bool in_quote = false;
  for (std::size_t i = 0; i < text.size() && out.size() < limit; ++i) {
    const char c = text[i];
    if (c == '\'') {
      in_quote = !in_quote;
      if (in_quote) out += "'…'";
      continue;
    }
    if (in_quote) continue;
    if (c >= '0' && c <= '9') {
      if (out.empty() || out.back() != '9') out += '9';
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) {
      if (out.empty() || out.back() != '?') out += '?';
      continue;
    }
    out += c;
  }
  return out;
}

std::size_t line_count(const std::string& text) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) +
         static_cast<std::size_t>(std::count(text.begin(), text.end(), '\r'));
}

std::string demangled(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> result(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && result ? result.get() : name;
}

// ---------------------------------------------------------------------------------------
// One evaluation: decode, expand, check the contract. Runs in the child process.

struct Problem {
  std::string oracle;     // the broken rule, e.g. "error without line:column"
  std::string signature;  // oracle + the kind of message, for grouping
  std::string detail;     // the message, printable
};

struct Result {
  std::string status;  // accepted, rejected, escaped, crashed, timeout
  std::string phase;   // the last phase started: parse, expand, quick-parse, quick-expand
  int line = 0;
  int column = 0;
  std::string message;  // printable, cut
  std::vector<Problem> problems;
  double seconds = 0;
  std::size_t cells = 0;
  long peak_kb = 0;  // the child's peak resident memory
};

void add_problem(Result& result, const std::string& oracle, const std::string& kind,
                 const std::string& detail) {
  result.problems.push_back(
      {oracle, kind.empty() ? oracle : oracle + " | " + kind, printable(detail, 400)});
}

// Checks a ConfigError against the contract.
void check_error(const istlab::ConfigError& error, const std::string& text,
                 const std::string& phase, Result& result) {
  const std::string what = error.what();
  const std::string kind = phase + ": " + normalized(error.key) + ": " + normalized(error.rule);
  if (error.file != kPath) add_problem(result, "error names another file", kind, what);
  if (error.at.line < 1 || error.at.column < 1) {
    add_problem(result, "error without line:column", kind, what);
  } else {
    const std::string prefix =
        kPath + ":" + std::to_string(error.at.line) + ":" + std::to_string(error.at.column) + ": ";
    if (what.rfind(prefix, 0) != 0)
      add_problem(result, "message does not start with file:line:column", kind, what);
    if (static_cast<std::size_t>(error.at.line) > line_count(text))
      add_problem(result, "error line past the end of the file", kind,
                  what + " (file has " + std::to_string(line_count(text)) + " lines)");
  }
  if (const int control = first_control(what); control >= 0)
    add_problem(result, "raw control character in message", "",
                "byte " + std::to_string(control) + ": " + what);
  if (!valid_utf8(what)) add_problem(result, "invalid UTF-8 echoed in message", "", what);
  if (what.find("bad file") != std::string::npos)
    add_problem(result, "uninformative yaml-cpp message 'bad file'", "", what);
}

// Counts documents without building them.
class NullHandler : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// How many YAML documents `text` holds, counting at most 3; -1 when a document after the
// first is malformed. (Not YAML::LoadAll: yaml-cpp 0.7's LoadAll never ends on a stray ','.)
int document_count(const std::string& text) {
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    NullHandler handler;
    int documents = 0;
    while (documents < 3 && parser.HandleNextDocument(handler)) ++documents;
    return documents;
  } catch (const YAML::Exception&) {
    return -1;
  }
}

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

Result evaluate(const std::string& text, double cpu_limit,
                const std::function<void(const std::string&)>& on_phase) {
  Result result;
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  std::string times;  // CPU seconds per phase
  double phase_start = cpu_start;
  auto close_phase = [&] {
    const double now = cpu_seconds();
    if (!result.phase.empty())
      times += (times.empty() ? "" : ", ") + result.phase + " " + std::to_string(now - phase_start);
    phase_start = now;
  };
  auto phase = [&](const std::string& name) {
    close_phase();
    result.phase = name;
    on_phase(name);
  };
  auto escaped = [&](const std::string& type, const std::string& what) {
    result.status = result.status.empty() ? "escaped" : result.status;
    add_problem(result, "exception other than ConfigError",
                result.phase + ": " + type + ": " + normalized(what, 50), type + ": " + what);
  };
  bool accepted = false;
  try {
    phase("parse");
    const istlab::SweepConfig config = istlab::parse_config(text, kPath);
    phase("expand");
    result.cells = istlab::expand_grid(config, &shared_datasets()).size();
    accepted = true;
    result.status = "accepted";
    if (const int documents = document_count(text); documents != 1)
      add_problem(result, "text after the first YAML document silently ignored",
                  documents < 0 ? "malformed later document" : "later documents",
                  std::to_string(documents) + " documents");
    if (!valid_utf8(text))
      add_problem(result, "invalid UTF-8 input accepted", "", printable(text, 200));
    if (text.find("quick") != std::string::npos) {
      phase("quick-parse");
      const istlab::SweepConfig quick = istlab::parse_config(text, kPath, true);
      phase("quick-expand");
      istlab::expand_grid(quick, &shared_datasets());
    }
  } catch (const istlab::ConfigError& error) {
    if (!accepted) {
      result.status = "rejected";
      result.line = error.at.line;
      result.column = error.at.column;
      result.message = printable(error.what(), 2000);
    }
    check_error(error, text, result.phase, result);
  } catch (const std::exception& error) {
    escaped(demangled(typeid(error).name()), error.what());
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    escaped(type ? demangled(type->name()) : "unknown", "");
  }
  close_phase();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (const double cpu = cpu_seconds() - cpu_start; cpu > cpu_limit)
    add_problem(result, "takes longer than the time limit", "",
                std::to_string(cpu) + " s of CPU (" + times + "); " + std::to_string(result.cells) +
                    " cells");
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) result.peak_kb = usage.ru_maxrss;
  return result;
}

// ---------------------------------------------------------------------------------------
// The child protocol: records of a tag byte, a length and the bytes, written to a pipe.

void put(std::string& out, char tag, const std::string& data) {
  out += tag;
  const auto length = static_cast<std::uint32_t>(data.size());
  out.append(reinterpret_cast<const char*>(&length), sizeof length);
  out += data;
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string serialize(const Result& result) {
  std::string out;
  put(out, 'S', result.status);
  put(out, 'L', std::to_string(result.line));
  put(out, 'C', std::to_string(result.column));
  put(out, 'M', result.message);
  put(out, 'N', std::to_string(result.cells));
  put(out, 'R', std::to_string(result.peak_kb));
  for (const auto& problem : result.problems)
    put(out, 'X', problem.oracle + '\x1f' + problem.signature + '\x1f' + problem.detail);
  return out;
}

void deserialize(const std::string& in, Result& result) {
  for (std::size_t i = 0; i + 5 <= in.size();) {
    const char tag = in[i];
    std::uint32_t length = 0;
    std::memcpy(&length, in.data() + i + 1, sizeof length);
    if (i + 5 + length > in.size()) break;
    const std::string data = in.substr(i + 5, length);
    i += 5 + length;
    switch (tag) {
      case 'P':
        result.phase = data;
        break;
      case 'S':
        result.status = data;
        break;
      case 'L':
        result.line = std::stoi(data);
        break;
      case 'C':
        result.column = std::stoi(data);
        break;
      case 'M':
        result.message = data;
        break;
      case 'N':
        result.cells = std::stoul(data);
        break;
      case 'R':
        result.peak_kb = std::stol(data);
        break;
      case 'X': {
        const auto a = data.find('\x1f');
        const auto b = data.find('\x1f', a + 1);
        result.problems.push_back(
            {data.substr(0, a), data.substr(a + 1, b - a - 1), data.substr(b + 1)});
        break;
      }
      default:
        break;
    }
  }
}

struct Limits {
  double seconds = 2.0;
  std::size_t memory_mb = 1024;
};

struct Child {
  pid_t pid = -1;
  int fd = -1;
  int index = -1;
  Clock::time_point start;
  std::string buffer;
};

Child spawn(const std::string& text, int index, const Limits& limits) {
  int fds[2];
  if (::pipe(fds) != 0) {
    std::perror("pipe");
    std::exit(2);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(2);
  }
  if (pid == 0) {
    ::close(fds[0]);
    if (limits.memory_mb > 0 && !under_address_sanitizer()) {
      const rlim_t bytes = static_cast<rlim_t>(limits.memory_mb) << 20;
      const rlimit limit{bytes, bytes};
      ::setrlimit(RLIMIT_AS, &limit);
    }
    const int out = fds[1];
    const Result result = evaluate(text, limits.seconds, [out](const std::string& name) {
      std::string record;
      put(record, 'P', name);
      write_all(out, record);
    });
    write_all(out, serialize(result));
    ::_exit(0);
  }
  ::close(fds[1]);
  Child child;
  child.pid = pid;
  child.fd = fds[0];
  child.index = index;
  child.start = Clock::now();
  return child;
}

const char* signal_name(int number) {
  switch (number) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGKILL:
      return "SIGKILL";
    default:
      return "signal";
  }
}

// Runs inputs in forked children, `jobs` at a time; `done(index, result)` gets each result.
class Runner {
 public:
  Runner(Limits limits, int jobs) : limits_(limits), jobs_(std::max(1, jobs)) {}

  void run(int count, const std::function<std::string(int)>& input,
           const std::function<void(int, Result)>& done) {
    int next = 0;
    std::vector<Child> running;
    while (next < count || !running.empty()) {
      while (static_cast<int>(running.size()) < jobs_ && next < count) {
        running.push_back(spawn(input(next), next, limits_));
        ++next;
      }
      std::vector<pollfd> fds;
      for (const auto& child : running) fds.push_back({child.fd, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 20);
      for (std::size_t i = 0; i < running.size();) {
        Child& child = running[i];
        bool finished = false;
        if (fds.size() > i && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
          char chunk[65536];
          const ssize_t n = ::read(child.fd, chunk, sizeof chunk);
          if (n > 0) child.buffer.append(chunk, static_cast<std::size_t>(n));
          if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) finished = true;
        }
        const double elapsed = std::chrono::duration<double>(Clock::now() - child.start).count();
        bool timed_out = false;
        if (!finished && elapsed > 3 * limits_.seconds) {
          ::kill(child.pid, SIGKILL);
          timed_out = finished = true;
        }
        if (!finished) {
          ++i;
          continue;
        }
        int status = 0;
        while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
        }
        ::close(child.fd);
        Result result;
        deserialize(child.buffer, result);
        result.seconds = elapsed;
        if (timed_out) {
          result.status = "timeout";
          result.problems.push_back({"takes longer than the time limit",
                                     "takes longer than the time limit",
                                     "killed after " + std::to_string(3 * limits_.seconds) +
                                         " s (wall) in " + result.phase});
        } else if (WIFSIGNALED(status)) {
          const int number = WTERMSIG(status);
          result.status = "crashed";
          result.problems.push_back(
              {"crash", "crash | " + std::string(signal_name(number)) + " in " + result.phase,
               std::string(signal_name(number)) + " (signal " + std::to_string(number) + ") in " +
                   result.phase});
        } else if (result.status.empty()) {
          result.status = "crashed";
          result.problems.push_back(
              {"crash", "crash | exit without result in " + result.phase,
               "child exited with status " + std::to_string(WEXITSTATUS(status))});
        }
        const int index = child.index;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        done(index, std::move(result));
      }
    }
  }

  Result run_one(const std::string& text) {
    Result out;
    run(
        1, [&](int) { return text; }, [&](int, Result result) { out = std::move(result); });
    return out;
  }

 private:
  Limits limits_;
  int jobs_;
};

// ---------------------------------------------------------------------------------------
// Mutations

const std::vector<std::string> kTokens = {"[",
                                          "]",
                                          "{",
                                          "}",
                                          ":",
                                          "-",
                                          "&a",
                                          "*a",
                                          "!!str",
                                          "~",
                                          "null",
                                          "\t",
                                          "\n  ",
                                          "---",
                                          "...",
                                          "#",
                                          "'",
                                          "\"",
                                          "%YAML",
                                          ",",
                                          "? ",
                                          ": ",
                                          "- ",
                                          "\n- ",
                                          "\n",
                                          " ",
                                          "  ",
                                          "!!map",
                                          "!!seq",
                                          "!!int",
                                          "!!float",
                                          "!",
                                          "|",
                                          ">",
                                          "&b ",
                                          "*b",
                                          "<<: ",
                                          "\\",
                                          "\r",
                                          "\r\n",
                                          "%TAG ! tag:x,2000:\n",
                                          "\xEF\xBB\xBF"};

const std::vector<std::string> kNumbers = {"0",
                                           "-1",
                                           "1e308",
                                           "-1e308",
                                           "nan",
                                           ".nan",
                                           ".inf",
                                           "-.inf",
                                           "2147483648",
                                           "-2147483649",
                                           "9223372036854775807",
                                           "9223372036854775808",
                                           "-9223372036854775809",
                                           "18446744073709551616",
                                           "1e-320",
                                           "4.9e-324",
                                           "0x10",
                                           "0o17",
                                           "0b101",
                                           "1_000",
                                           "-0",
                                           "+1",
                                           "00012",
                                           "1.5",
                                           "1e7",
                                           "10000000",
                                           "10000001",
                                           "9999999",
                                           "1000000",
                                           "100000",
                                           "65536",
                                           "1025",
                                           "3",
                                           "2"};

// Keys: every part of every key of the key reference (`istlab keys --list`, built from the
// parameter tables: "problem.dataset.path" gives problem, dataset and path), in its order,
// then names the decoder must refuse.
const std::vector<std::string>& key_parts() {
  static const std::vector<std::string> parts = [] {
    std::vector<std::string> names;
    auto add = [&](const std::string& name) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    };
    for (const auto& key : istlab::key_reference()) {
      std::string name = key.key;
      for (std::size_t at; (at = name.find("[]")) != std::string::npos;) name.erase(at, 2);
      for (std::size_t start = 0; start <= name.size();) {
        const std::size_t dot = std::min(name.find('.', start), name.size());
        add(name.substr(start, dot - start));
        start = dot + 1;
      }
    }
    for (const char* odd :
         {"bogus", "Problem", "", "\"dim\"", "'seeds'", "? [a, b]", "{x: 1}", "[dim]", "<<"})
      names.emplace_back(odd);
    return names;
  }();
  return parts;
}

// Full key names as values (what `zip:` lists): the key reference's.
const std::vector<std::string>& key_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> keys;
    for (const auto& key : istlab::key_reference()) keys.push_back(key.key);
    return keys;
  }();
  return names;
}

const std::vector<std::string> kValues = {"gd",
                                          "dcgd",
                                          "ist",
                                          "local_sgd",
                                          "mlp",
                                          "wan",
                                          "custom",
                                          "allreduce",
                                          "fashion_mnist_test",
                                          "adam",
                                          "perm",
                                          "rand",
                                          "identity",
                                          "unbiased",
                                          "none",
                                          "sqrt_n",
                                          "diag_precond",
                                          "dense",
                                          "tridiagonal",
                                          "counterexample",
                                          "least_squares",
                                          "heart_scale",
                                          "libsvm",
                                          "dirichlet",
                                          "classes",
                                          "0-4",
                                          "/dev/zero",
                                          "/nonexistent/file",
                                          "true",
                                          "false",
                                          "yes",
                                          "no",
                                          "True",
                                          "{relative: [0.5, 1.0]}",
                                          "{absolute: 0.1}",
                                          "{relative: 1, absolute: 2}",
                                          "{every: 2}",
                                          "{rel_err: 1e-8}",
                                          "[problem.dim, problem.num_workers]",
                                          "[[problem.dim, problem.num_workers], [seeds]]",
                                          "[1, 2, 3]",
                                          "[]",
                                          "{}",
                                          "~",
                                          "''",
                                          "\"\"",
                                          ".",
                                          "..",
                                          "a/b",
                                          "-"};

const std::vector<std::string> kBadBytes = {"\xFF",         "\xC3",
                                            "\xFE\xFF",     "\xC0\xAF",
                                            "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                            "\x80",         "\xC3\x28",
                                            "\xE2\x82",     "\xF8\x88\x80\x80\x80"};

class Mutator {
 public:
  explicit Mutator(std::vector<std::string> seeds) : seeds_(std::move(seeds)) {}

  std::size_t seed_count() const { return seeds_.size(); }

  std::string make(std::uint64_t run_seed, int index) const {
    if (index >= 0 && static_cast<std::size_t>(index) < kProbes.size())
      return kProbes[static_cast<std::size_t>(index)];
    // Each mutant has its own PRNG, so a mutant does not depend on the ones before it.
    std::uint64_t mixed = run_seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(index + 1);
    mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9ull;
    mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBull;
    std::mt19937_64 rng(mixed ^ (mixed >> 31));
    std::string text = seeds_[below(rng, seeds_.size())];
    int operations = 1;
    while (operations < 6 && below(rng, 100) < 45) ++operations;
    for (int i = 0; i < operations; ++i) {
      // Mutants stay under 2 MiB (load_config's limit is 1 MiB; parse_config has none).
      std::string before = text;
      mutate(rng, text);
      if (text.size() > (std::size_t{2} << 20)) text = std::move(before);
    }
    return text;
  }

 private:
  static std::size_t below(std::mt19937_64& rng, std::size_t n) {
    return n == 0 ? 0 : static_cast<std::size_t>(rng() % n);
  }
  template <class T>
  static const T& pick(std::mt19937_64& rng, const std::vector<T>& items) {
    return items[below(rng, items.size())];
  }

  static std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t begin = 0;
    while (begin < text.size()) {
      const std::size_t end = text.find('\n', begin);
      if (end == std::string::npos) {
        lines.push_back(text.substr(begin));
        break;
      }
      lines.push_back(text.substr(begin, end + 1 - begin));
      begin = end + 1;
    }
    return lines;
  }
  static std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line;
    return text;
  }
  static std::string with_newline(std::string line) {
    if (line.empty() || line.back() != '\n') line += '\n';
    return line;
  }

  // Positions where a value starts: after ": " or "- " (or at "[", "{", ",").
  static std::vector<std::pair<std::size_t, std::size_t>> values_of(const std::string& text) {
    // stop[i]: the first newline or '#' at or after i (linear, for megabyte-long lines).
    std::vector<std::size_t> stop(text.size() + 1, text.size());
    for (std::size_t i = text.size(); i-- > 0;)
      stop[i] = text[i] == '\n' || text[i] == '#' ? i : stop[i + 1];
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
      if ((text[i] == ':' || text[i] == '-') && text[i + 1] == ' ') {
        std::size_t begin = i + 2;
        while (begin < stop[i + 1] && text[begin] == ' ') ++begin;
        std::size_t end = stop[begin];
        while (end > begin && text[end - 1] == ' ') --end;
        if (end > begin) spans.emplace_back(begin, end);
      }
    }
    return spans;
  }
  // Keys: a run of [A-Za-z_] followed by ':'.
  static std::vector<std::pair<std::size_t, std::size_t>> keys_of(const std::string& text) {
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != ':') continue;
      std::size_t begin = i;
      while (begin > 0 &&
             (std::isalnum(static_cast<unsigned char>(text[begin - 1])) || text[begin - 1] == '_'))
        --begin;
      if (begin < i) spans.emplace_back(begin, i);
    }
    return spans;
  }
  // Numbers: a digit run (with . e E + -) not inside a word.
  static std::vector<std::pair<std::size_t, std::size_t>> numbers_of(const std::string& text) {
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) continue;
      if (i > 0 && (std::isalpha(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_'))
        continue;
      std::size_t begin = i > 0 && text[i - 1] == '-' ? i - 1 : i;
      std::size_t end = i;
      while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) ||
                                   text[end] == '.' || text[end] == 'e' || text[end] == 'E' ||
                                   ((text[end] == '-' || text[end] == '+') &&
                                    (text[end - 1] == 'e' || text[end - 1] == 'E'))))
        ++end;
      spans.emplace_back(begin, end);
      i = end;
    }
    return spans;
  }

  static std::string alias_bomb(std::mt19937_64& rng) {
    // Each level lists the previous one ten times: 10^depth scalars once expanded.
    return alias_bomb_text(2 + static_cast<int>(below(rng, 8)));
  }

  std::string structural(std::mt19937_64& rng, const std::string& value) const {
    std::string inner = value;
    if (!inner.empty() && (inner.front() == '[' || inner.front() == '{')) {
      inner = inner.substr(1, inner.find_first_of(",]}") - 1);
      while (!inner.empty() && inner.front() == ' ') inner.erase(0, 1);
    }
    switch (below(rng, 16)) {
      case 0:
        return "[" + value + ", " + value + "]";
      case 1:
        return "{" + value + ": " + value + "}";
      case 2:
        return "[]";
      case 3:
        return "{}";
      case 4:
        return inner;  // a list or map becomes its first scalar
      case 5:
        return "[[" + value + "]]";
      case 6:
        return "\n    - " + value + "\n    - " + value;
      case 7:
        return "\n    " + inner + ": " + value;
      case 8:
        return alias_bomb(rng);
      case 9:
        return "&a " + value;
      case 10:
        return "*a";
      case 11:
        return "'" + value + "'";
      case 12:
        return "\"" + value + "\"";
      case 13:
        return "!!str " + value;
      case 14:
        return "~";
      default:
        return "{" + pick(rng, key_parts()) + ": " + value + "}";
    }
  }

  void mutate(std::mt19937_64& rng, std::string& text) const {
    const std::size_t at = below(rng, text.size() + 1);
    switch (below(rng, 24)) {
      case 0:  // flip a bit
        if (!text.empty()) {
          const std::size_t i = below(rng, text.size());
          text[i] = static_cast<char>(static_cast<unsigned char>(text[i]) ^ (1u << below(rng, 8)));
        }
        break;
      case 1: {  // insert random bytes
        std::string bytes;
        for (std::size_t n = 1 + below(rng, 8); n > 0; --n)
          bytes += static_cast<char>(below(rng, 256));
        text.insert(at, bytes);
        break;
      }
      case 2:  // delete a range
        if (!text.empty()) text.erase(below(rng, text.size()), 1 + below(rng, 16));
        break;
      case 3:
      case 4:  // a YAML-significant token
        text.insert(at, pick(rng, kTokens));
        break;
      case 5:
      case 6: {  // a number becomes an extreme
        const auto spans = numbers_of(text);
        if (spans.empty()) break;
        const auto [begin, end] = pick(rng, spans);
        text.replace(begin, end - begin, pick(rng, kNumbers));
        break;
      }
      case 7: {  // swap two lines
        auto lines = lines_of(text);
        if (lines.size() < 2) break;
        std::swap(lines[below(rng, lines.size())], lines[below(rng, lines.size())]);
        text = joined(lines);
        break;
      }
      case 8: {  // duplicate or delete a line
        auto lines = lines_of(text);
        if (lines.empty()) break;
        const std::size_t i = below(rng, lines.size());
        if (below(rng, 2))
          lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(below(rng, lines.size() + 1)),
                       with_newline(lines[i]));
        else
          lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
        text = joined(lines);
        break;
      }
      case 9: {  // deep nesting
        static const std::size_t kDepths[] = {10, 100, 1999, 2000, 2001, 10000, 100000};
        const std::size_t depth = kDepths[below(rng, 7)];
        switch (below(rng, 4)) {
          case 0:
            text.insert(at, std::string(depth, '['));
            break;
          case 1:
            text.insert(at, std::string(depth, '{'));
            break;
          case 2: {  // a balanced flow sequence as a value
            const auto spans = values_of(text);
            const std::string nest = std::string(depth, '[') + "1" + std::string(depth, ']');
            if (spans.empty()) {
              text.insert(at, nest);
            } else {
              const auto [begin, end] = pick(rng, spans);
              text.replace(begin, end - begin, nest);
            }
            break;
          }
          default: {  // block nesting by indentation
            std::string nest = "\n";
            for (std::size_t level = 0; level < std::min<std::size_t>(depth, 3000); ++level)
              nest += std::string(level % 200, ' ') + "- ";
            text.insert(at, nest + "1\n");
          }
        }
        break;
      }
      case 10: {  // a very long key or value
        static const std::size_t kLengths[] = {300, 5000, 100000, 1000000};
        const std::string big(kLengths[below(rng, 4)], below(rng, 2) ? 'x' : '9');
        const auto spans = below(rng, 2) ? keys_of(text) : values_of(text);
        if (spans.empty()) {
          text.insert(at, big);
        } else {
          const auto [begin, end] = pick(rng, spans);
          text.replace(begin, end - begin, big);
        }
        break;
      }
      case 11: {  // bytes that are not UTF-8, often inside a key or value
        const auto spans = below(rng, 2) ? keys_of(text) : values_of(text);
        const std::size_t where = spans.empty() ? at : pick(rng, spans).first + below(rng, 2);
        text.insert(std::min(where, text.size()), pick(rng, kBadBytes));
        break;
      }
      case 12: {  // control characters, often inside a key or value
        std::string control(1, static_cast<char>(below(rng, 32)));
        if (below(rng, 8) == 0) control = "\x7F";
        const auto spans = below(rng, 2) ? keys_of(text) : values_of(text);
        const std::size_t where = spans.empty() ? at : pick(rng, spans).first + below(rng, 3);
        text.insert(std::min(where, text.size()), control);
        break;
      }
      case 13:
      case 14:
      case 15: {  // a scalar becomes a list or a map, a list a scalar, ...
        const auto spans = values_of(text);
        if (spans.empty()) break;
        const auto [begin, end] = pick(rng, spans);
        text.replace(begin, end - begin, structural(rng, text.substr(begin, end - begin)));
        break;
      }
      case 16:
      case 17: {  // another key
        const auto spans = keys_of(text);
        if (spans.empty()) break;
        const auto [begin, end] = pick(rng, spans);
        text.replace(begin, end - begin, pick(rng, key_parts()));
        break;
      }
      case 18:
      case 19: {  // another value
        const auto spans = values_of(text);
        if (spans.empty()) break;
        const auto [begin, end] = pick(rng, spans);
        // One value in 6 a full key name, one of the others otherwise.
        text.replace(begin, end - begin,
                     below(rng, 6) == 0 ? pick(rng, key_names()) : pick(rng, kValues));
        break;
      }
      case 20: {  // splice: the head of this text, the tail of another seed
        const auto mine = lines_of(text);
        const auto other = lines_of(pick(rng, seeds_));
        std::vector<std::string> lines(
            mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(below(rng, mine.size() + 1)));
        if (!lines.empty()) lines.back() = with_newline(lines.back());
        lines.insert(lines.end(),
                     other.begin() + static_cast<std::ptrdiff_t>(below(rng, other.size() + 1)),
                     other.end());
        text = joined(lines);
        break;
      }
      case 21: {  // indentation: a line moves left or right, or loses/gains its "- "
        auto lines = lines_of(text);
        if (lines.empty()) break;
        std::string& line = lines[below(rng, lines.size())];
        switch (below(rng, 4)) {
          case 0:
            line.insert(0, std::string(1 + below(rng, 4), ' '));
            break;
          case 1:
            while (!line.empty() && line.front() == ' ') line.erase(0, 1);
            break;
          case 2:
            if (const auto dash = line.find("- "); dash != std::string::npos) line.erase(dash, 2);
            break;
          default:
            line.insert(
                line.find_first_not_of(' ') == std::string::npos ? 0 : line.find_first_not_of(' '),
                "- ");
        }
        text = joined(lines);
        break;
      }
      case 22: {  // more documents, or a document end and more text
        static const std::vector<std::string> kEnds = {"---\n", "...\n", "---\n...\n", "...\n---\n",
                                                       "--- |\n  text\n"};
        text = with_newline(text) + pick(rng, kEnds) + (below(rng, 2) ? pick(rng, seeds_) : "");
        break;
      }
      default: {  // grow a sweep: a long list where a scalar stood
        const auto spans = values_of(text);
        if (spans.empty()) break;
        const auto [begin, end] = pick(rng, spans);
        const std::string value = end - begin <= 64 ? text.substr(begin, end - begin) : "1";
        std::string list = "[";
        for (std::size_t k = 0, n = 2 + below(rng, 400); k < n; ++k)
          list += (k ? ", " : "") + (below(rng, 2) ? value : std::to_string(k + 1));
        text.replace(begin, end - begin, list + "]");
      }
    }
  }

  std::vector<std::string> seeds_;
};

// ---------------------------------------------------------------------------------------
// Findings

struct Finding {
  std::string oracle;
  std::string signature;
  std::string detail;
  std::vector<int> mutants;  // indices, in order
  std::vector<fs::path> saved;
};

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string slug(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-')
      out += '-';
    if (out.size() > 40) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// Greedy delta debugging: drops chunks of lines, then of bytes, while `keeps` holds.
std::string minimize(std::string text, const std::function<bool(const std::string&)>& keeps,
                     int budget) {
  auto shrink = [&](auto split, auto join) {
    auto parts = split(text);
    for (std::size_t chunk = std::max<std::size_t>(1, parts.size() / 2); chunk >= 1 && budget > 0;
         chunk /= 2) {
      for (std::size_t i = 0; i < parts.size() && budget > 0;) {
        auto candidate = parts;
        candidate.erase(
            candidate.begin() + static_cast<std::ptrdiff_t>(i),
            candidate.begin() + static_cast<std::ptrdiff_t>(std::min(parts.size(), i + chunk)));
        --budget;
        if (keeps(join(candidate))) {
          parts = std::move(candidate);
        } else {
          i += chunk;
        }
      }
      if (chunk == 1) break;
    }
    text = join(parts);
  };
  auto lines = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string line; std::getline(in, line);) out.push_back(line + "\n");
    return out;
  };
  auto bytes = [](const std::string& s) {
    std::vector<std::string> out;
    for (const char c : s) out.emplace_back(1, c);
    return out;
  };
  auto join = [](const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& part : parts) s += part;
    return s;
  };
  shrink(lines, join);
  if (text.size() <= 4096) shrink(bytes, join);
  return text;
}

// ---------------------------------------------------------------------------------------
// End to end: rejected mutants through `istlab sweep FILE --dry-run --out DIR`.

struct Exit {
  int code = -1;  // exit code, or -signal, or -1000 on timeout
  std::string stderr_text;
};

Exit run_istlab(const std::string& binary, const fs::path& config, const fs::path& out,
                const fs::path& stderr_path, double seconds) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(null, 1);
    ::dup2(err, 2);
    const std::string config_text = config.string();
    const std::string out_text = out.string();
    const char* argv[] = {binary.c_str(),   "sweep", config_text.c_str(), "--dry-run", "--out",
                          out_text.c_str(), nullptr};
    ::execv(binary.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  Exit result;
  const auto start = Clock::now();
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::duration<double>(Clock::now() - start).count() > seconds) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.code = -1000;
      result.stderr_text = read_file(stderr_path);
      return result;
    }
    ::usleep(2000);
  }
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  result.stderr_text = read_file(stderr_path);
  return result;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Checks one rejected config through the executable; returns what is wrong, or "".
std::string check_end_to_end(const std::string& binary, const fs::path& file, const fs::path& out,
                             const std::string& expected_prefix, double seconds) {
  fs::remove_all(out);
  const Exit exit = run_istlab(binary, file, out, file.string() + ".stderr", seconds);
  std::string wrong;
  if (exit.code == -1000)
    wrong = "no exit within " + std::to_string(seconds) + " s";
  else if (exit.code != 2)
    wrong = "exit code " + std::to_string(exit.code) + ", expected 2";
  else if (first_line(exit.stderr_text).rfind(expected_prefix, 0) != 0)
    wrong = "stderr does not start with '" + printable(expected_prefix) + "'";
  else if (fs::exists(out))
    wrong = "a rejected config left " + out.string() + " behind";
  if (!wrong.empty()) wrong += "; stderr: " + printable(first_line(exit.stderr_text), 300);
  return wrong;
}

// ---------------------------------------------------------------------------------------

struct Options {
  fs::path seeds_dir;
  fs::path work = "config_fuzz_work";
  std::string istlab;
  std::uint64_t seed = 20240611;
  int count = 3000;
  int e2e = 50;
  int jobs = 2;
  Limits limits;
  std::optional<int> only;
  bool minimize = false;
  std::vector<fs::path> replay;
};

int usage(const std::string& problem) {
  std::cerr << "istlab_config_fuzz: " << problem
            << "\nusage: istlab_config_fuzz --seeds DIR [--istlab BIN] [--work DIR] [--count N]"
               " [--seed S] [--jobs J] [--e2e N] [--limit SECONDS] [--memory-mb M] [--only INDEX]"
               " [--minimize] [--replay FILE...]\n";
  return 2;
}

std::optional<Options> parse_options(int argc, char** argv, std::string& problem) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--seeds")
        options.seeds_dir = value();
      else if (arg == "--work")
        options.work = value();
      else if (arg == "--istlab")
        options.istlab = value();
      else if (arg == "--count")
        options.count = std::stoi(value());
      else if (arg == "--seed")
        options.seed = std::stoull(value(), nullptr, 0);
      else if (arg == "--jobs")
        options.jobs = std::stoi(value());
      else if (arg == "--e2e")
        options.e2e = std::stoi(value());
      else if (arg == "--limit")
        options.limits.seconds = std::stod(value());
      else if (arg == "--memory-mb")
        options.limits.memory_mb = std::stoul(value());
      else if (arg == "--only")
        options.only = std::stoi(value());
      else if (arg == "--minimize")
        options.minimize = true;
      else if (arg == "--replay")
        while (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
          options.replay.emplace_back(argv[++i]);
      else
        throw std::invalid_argument("unknown argument " + arg);
    } catch (const std::exception& error) {
      problem = error.what();
      return std::nullopt;
    }
  }
  if (options.replay.empty() && options.seeds_dir.empty()) {
    problem = "--seeds DIR is required";
    return std::nullopt;
  }
  return options;
}

void print_result(const std::string& name, const Result& result) {
  std::cout << name << ": " << result.status << " (" << result.phase << ", "
            << static_cast<int>(result.seconds * 1000) << " ms";
  if (result.status == "accepted") std::cout << ", " << result.cells << " cells";
  if (result.peak_kb > 0) std::cout << ", peak " << result.peak_kb / 1024 << " MiB";
  std::cout << ")\n";
  if (!result.message.empty()) std::cout << "  message: " << result.message << "\n";
  for (const auto& problem : result.problems)
    std::cout << "  FINDING " << problem.oracle << ": " << problem.detail << "\n";
}

int replay(const Options& options) {
  warm_datasets();
  Runner runner(options.limits, 1);
  bool any = false;
  for (const auto& file : options.replay) {
    const Result result = runner.run_one(read_file(file));
    print_result(file.string(), result);
    any = any || !result.problems.empty();
  }
  return any ? 1 : 0;
}

int fuzz(const Options& options) {
  warm_datasets();
  key_parts();  // built once, before the children fork
  key_names();
  std::vector<std::string> seeds;
  const auto folder = read_seed_folder(options.seeds_dir);
  for (const auto& [name, text] : folder) seeds.push_back(text);
  seeds.insert(seeds.end(), kInlineSeeds.begin(), kInlineSeeds.end());
  if (folder.empty()) return usage("no *.yaml seeds in " + options.seeds_dir.string());
  const Mutator mutator(seeds);
  fs::create_directories(options.work);

  std::cout << "config fuzz: seed " << options.seed << ", " << options.count << " mutants of "
            << folder.size() << " configs from " << options.seeds_dir.string() << " + "
            << kInlineSeeds.size() << " inline, " << options.jobs << " jobs, limit "
            << options.limits.seconds << " s CPU, memory " << options.limits.memory_mb
            << " MiB; work dir " << options.work.string() << "; mutants 0.." << kProbes.size() - 1
            << " are fixed probes" << std::endl;

  warm_seed_datasets(seeds);
  // Every seed must itself decode: otherwise the fuzzer mutates broken input.
  Runner single(options.limits, 1);
  for (std::size_t s = 0; s < seeds.size(); ++s) {
    const Result result = single.run_one(seeds[s]);
    if (result.status != "accepted" || !result.problems.empty()) {
      print_result(s < folder.size() ? folder[s].first : "inline seed " + std::to_string(s),
                   result);
      std::cout << "FAIL: a seed config does not decode cleanly\n";
      return 1;
    }
  }

  if (options.only) {
    const fs::path path = options.work / ("mutant" + std::to_string(*options.only) + ".yaml");
    write_file(path, mutator.make(options.seed, *options.only));
    std::cout << "mutant " << *options.only << " saved to " << path.string() << std::endl;
  }
  const auto start = Clock::now();
  const int first = options.only.value_or(0);
  const int count = options.only ? 1 : options.count;
  std::vector<Result> results(static_cast<std::size_t>(count));
  Runner runner(options.limits, options.jobs);
  runner.run(
      count, [&](int i) { return mutator.make(options.seed, first + i); },
      [&](int i, Result result) { results[static_cast<std::size_t>(i)] = std::move(result); });
  const double fuzz_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Findings, in mutant order (the run's output does not depend on scheduling).
  std::map<std::string, int> by_status;
  std::map<std::string, Finding> findings;
  std::vector<std::string> order;
  double slowest = 0;
  int slowest_index = 0;
  for (int i = 0; i < count; ++i) {
    const Result& result = results[static_cast<std::size_t>(i)];
    ++by_status[result.status];
    if (result.seconds > slowest) {
      slowest = result.seconds;
      slowest_index = first + i;
    }
    for (const auto& problem : result.problems) {
      auto [it, fresh] = findings.try_emplace(problem.signature);
      Finding& finding = it->second;
      if (fresh) {
        finding.oracle = problem.oracle;
        finding.signature = problem.signature;
        finding.detail = problem.detail;
        order.push_back(problem.signature);
      }
      if (finding.mutants.empty() || finding.mutants.back() != first + i)
        finding.mutants.push_back(first + i);
    }
  }
  std::cout << "decoded " << count << " mutants in " << fuzz_seconds << " s:";
  for (const auto& [status, n] : by_status) std::cout << " " << n << " " << status;
  std::cout << "; slowest mutant #" << slowest_index << " took " << slowest << " s" << std::endl;

  int failures = 0;
  int end_to_end_failures = 0;
  const fs::path findings_dir = options.work / "findings";
  fs::remove_all(findings_dir);
  for (std::size_t k = 0; k < order.size(); ++k) {
    Finding& finding = findings[order[k]];
    ++failures;
    std::cout << "\nFINDING " << k + 1 << ": " << finding.oracle
              << "\n  kind: " << printable(finding.signature, 200)
              << "\n  mutants: " << finding.mutants.size() << " (first: seed " << options.seed
              << ", index " << finding.mutants.front() << ")\n  detail: " << finding.detail << "\n";
    for (std::size_t m = 0; m < std::min<std::size_t>(2, finding.mutants.size()); ++m) {
      const int index = finding.mutants[m];
      const fs::path path = findings_dir / (std::to_string(k + 1) + "-" + slug(finding.oracle) +
                                            "-mutant" + std::to_string(index) + ".yaml");
      write_file(path, mutator.make(options.seed, index));
      std::cout << "  saved: " << path.string() << "\n";
    }
    if (options.minimize) {
      const int budget = finding.oracle == "takes longer than the time limit" ? 15 : 1500;
      const std::string minimal = minimize(
          mutator.make(options.seed, finding.mutants.front()),
          [&](const std::string& candidate) {
            const Result result = single.run_one(candidate);
            return std::any_of(result.problems.begin(), result.problems.end(),
                               [&](const Problem& p) { return p.signature == finding.signature; });
          },
          budget);
      const fs::path path = findings_dir / (std::to_string(k + 1) + "-minimal.yaml");
      write_file(path, minimal);
      std::cout << "  minimal (" << minimal.size() << " bytes, " << path.string()
                << "): " << printable(minimal, 300) << "\n";
    }
  }

  // End to end: spread over the rejected mutants.
  if (!options.istlab.empty() && options.e2e > 0) {
    const auto e2e_start = Clock::now();
    const fs::path dir = options.work / "e2e";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::vector<int> rejected;
    for (int i = 0; i < count; ++i)
      if (results[static_cast<std::size_t>(i)].status == "rejected") rejected.push_back(i);
    const std::size_t step = std::max<std::size_t>(
        1, rejected.size() / static_cast<std::size_t>(std::max(1, options.e2e)));
    int checked = 0;
    int e2e_failures = 0;
    std::map<std::string, int> e2e_kinds;
    for (std::size_t r = 0; r < rejected.size() && checked < options.e2e; r += step, ++checked) {
      const int i = rejected[r];
      const Result& result = results[static_cast<std::size_t>(i)];
      const fs::path file = dir / ("mutant" + std::to_string(first + i) + ".yaml");
      const std::string text = mutator.make(options.seed, first + i);
      write_file(file, text);
      // A location the decoder could not give is already a finding above; here the binary
      // must at least say "istlab: FILE" and the same line:column. A file over the size
      // limit (1 MiB) load_config refuses before decoding: no line then.
      std::string prefix = "istlab: " + file.string();
      if (result.line > 0 && text.size() <= kSizeLimit)
        prefix += ":" + std::to_string(result.line) + ":" + std::to_string(result.column) + ": ";
      const std::string wrong =
          check_end_to_end(options.istlab, file, dir / "out", prefix, kE2eSeconds);
      if (!wrong.empty()) {
        ++e2e_failures;
        const std::string kind = normalized(wrong.substr(0, wrong.find(';')), 60);
        if (++e2e_kinds[kind] <= 3)
          std::cout << "\nFINDING (end to end): mutant index " << first + i << " (" << file.string()
                    << "): " << wrong << "\n";
      }
    }
    // Errors that legitimately have no line: the file cannot be read (missing, a folder, not a
    // regular file, too large). They must still exit 2, promptly, naming the file.
    struct Special {
      std::string name;
      fs::path file;
      std::string prefix;
    };
    const fs::path missing = dir / "missing.yaml";
    const fs::path folder_path = dir / "a_folder.yaml";
    const fs::path fifo = dir / "a_fifo.yaml";
    const fs::path huge = dir / "huge.yaml";
    fs::create_directories(folder_path);
    ::mkfifo(fifo.c_str(), 0600);
    std::string huge_text;
    while (huge_text.size() < 2 * kSizeLimit) huge_text += "# a comment line of some length\n";
    write_file(huge, huge_text + "methods: [\n");
    const std::vector<Special> specials = {
        {"missing file", missing, "istlab: " + missing.string() + ": "},
        {"a folder", folder_path, "istlab: " + folder_path.string() + ":"},
        {"a FIFO (would block a reader)", fifo, "istlab: " + fifo.string() + ": "},
        {"a 2 MiB file", huge, "istlab: " + huge.string() + ":"}};
    for (const auto& special : specials) {
      ++checked;
      const std::string wrong =
          check_end_to_end(options.istlab, special.file, dir / "out", special.prefix, kE2eSeconds);
      if (!wrong.empty()) {
        ++e2e_failures;
        std::cout << "\nFINDING (end to end): " << special.name << ": " << wrong << "\n";
      }
    }
    std::cout << "\nend to end: " << checked << " rejected configs through " << options.istlab
              << " in " << std::chrono::duration<double>(Clock::now() - e2e_start).count() << " s, "
              << e2e_failures << " wrong" << std::endl;
    failures += e2e_failures;
    end_to_end_failures = e2e_failures;
  }

  if (failures > 0) {
    std::cout << "\nFAIL: " << order.size() << " distinct decoder findings, " << end_to_end_failures
              << " end-to-end failures"
              << "; reproduce one with: istlab_config_fuzz --replay FILE, or --seeds DIR --seed "
              << options.seed << " --only INDEX" << std::endl;
    return 1;
  }
  std::cout << "\nPASS: no findings" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string problem;
  const auto options = parse_options(argc, argv, problem);
  if (!options) return usage(problem);
  ::signal(SIGPIPE, SIG_IGN);
  return options->replay.empty() ? fuzz(*options) : replay(*options);
}
