// A deterministic mutation fuzzer for the dataset readers (read_idx, read_libsvm, read_csv,
// read_npy), after config_fuzz.cpp: mutants of small valid seed files are a pure function of
// (--seed, target, index), and each runs in a forked child with an address-space and a CPU
// limit, so a crash, a hang or a runaway allocation is one finding and the run goes on.
// The contract checked in the child:
//   - a malformed file throws istlab::DataError and nothing else (std::bad_alloc is a finding);
//   - the error names the mutant or its partner file, `where` is "", "offset N..." or
//     "line L, column C", and what() is one line starting with the file;
//   - an accepted file gives N >= 1 samples of d >= 1 finite features and N finite labels;
//   - the text readers' first pass (sizing) and second (reading) agree on every mutant;
//   - no mutant takes more than --limit seconds of CPU (default 2; 3x in wall time is killed).
//
// Usage: istlab_readers_fuzz [--work DIR] [--count N per target] [--seed S] [--limit SECONDS]
//                            [--memory-mb M] [--only TARGET:INDEX]
// Exit code: 0 when nothing was found, 1 on findings, 2 on bad usage.

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <new>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../data_files.hpp"
#include "istlab/data/readers.hpp"
#include "sanitizer.hpp"

namespace {

namespace fs = std::filesystem;
using istlab::idx;
using istlab::npy;

// ---------------------------------------------------------------------------------------
// Seeds: small valid files of every shape each reader accepts.

std::string gzip(const std::string& bytes) {
  uLongf size = compressBound(static_cast<uLong>(bytes.size())) + 32;
  std::string out(size, '\0');
  z_stream stream{};
  deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(size);
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// One reader under test: seeds, and how to read a mutant (`partner` is a valid second file).
struct Target {
  std::string name;
  std::vector<std::string> seeds;
  bool gzip_mutant = false;  // compress after mutating: the reader's logic behind zlib
  std::string partner;
  std::function<istlab::Dataset(const std::string& mutant, const std::string& partner, int index)>
      read;
};

std::vector<Target> targets() {
  const std::string pixels("\x00\x01\x7f\x80\xff\x10\x20\x30\x40\x50\x60\x70", 12);
  const std::string images = idx('\x08', {3, 2, 2}, pixels);
  const std::string labels = idx('\x08', {3}, std::string("\x07\x00\x09", 3));
  const std::string floats = idx('\x0D', {3, 1},
                                 istlab::big_endian32(0x3F800000) +
                                     istlab::big_endian32(0xC0000000) + istlab::big_endian32(0));
  const std::string shorts = idx('\x0B', {3, 2}, std::string(12, '\x01'));
  const std::string f4 =
      npy("<f4", "(3, 2)", std::string("\0\0\xc0\x3f\0\0\0\xc0", 8) + std::string(16, '\0'), 1);
  const std::string u1 = npy("|u1", "(3, 1)", "\x01\x02\xff", 2);
  const std::string f8 = npy("<f8", "(3, 1)", std::string(24, '\0'), 3);
  const std::string i8 = npy("<i8", "(3,)", std::string(24, '\0'), 1);
  using istlab::read_csv, istlab::read_idx, istlab::read_libsvm, istlab::read_npy;
  return {
      {"idx-images",
       {images, floats, shorts},
       true,
       gzip(labels),
       [](auto& m, auto& p, int) { return read_idx(m, p); }},
      {"idx-gzip-bytes",  // (the third: two gzip members, which must read as one file)
       {gzip(images), gzip(floats), gzip(images.substr(0, 9)) + gzip(images.substr(9))},
       false,
       labels,
       [](auto& m, auto& p, int) { return read_idx(m, p); }},
      {"idx-labels",
       {labels,
        idx('\x0C', {3},
            istlab::big_endian32(1) + istlab::big_endian32(0xFFFFFFFF) + istlab::big_endian32(5))},
       false,
       images,
       [](auto& m, auto& p, int) { return read_idx(p, m); }},
      {"libsvm",
       {"+1 1:0.5 3:-2\n-1 2:1e-3 4:7 # c\n\n2 1:1\n", "# h\n0\r\n3 10:1.5e2\t11:-0\n",
        // what the first pass (sizing) must count as the second (reading) does
        "\xEF\xBB\xBF"
        "1 1:2 #x 9:1\r\n\r\n \t\n-1\t3:4\r"},
       false,
       "",
       [](auto& m, auto&, int i) { return read_libsvm(m, i % 3 == 0 ? 12 : 0); }},
      {"csv",
       {"1.5,-2,0\n3,4e-3,1\n", "a,b,y\n 1 , 2 ,+1\r\n\n3,4,-1\n",
        "\xEF\xBB\xBF"
        "1,2\r\n \t\r\n3,4\r"},
       false,
       "",
       [](auto& m, auto&, int i) { return read_csv(m, i % 3 - 1, i % 2 == 1); }},
      {"npy-features",
       {f4, u1, f8},
       false,
       i8,
       [](auto& m, auto& p, int) { return read_npy(m, p); }},
      {"npy-labels",
       {i8, u1, f8, npy("<i4", "(3,)", std::string(12, '\x05'), 1),
        npy("<f4", "(3,)", std::string(12, '\x3f'), 2)},
       false,
       f4,
       [](auto& m, auto& p, int) { return read_npy(p, m); }},
  };
}

// ---------------------------------------------------------------------------------------
// Mutations: 1 to 4 edits, chosen by an mt19937_64 (its output is the same everywhere).

const std::vector<std::string> kTokens = {"nan",
                                          "inf",
                                          "-1",
                                          "0",
                                          "1e39",
                                          "1e999",
                                          ":",
                                          "::",
                                          "#",
                                          "\n",
                                          "\r",
                                          ",",
                                          ",,",
                                          "+",
                                          " ",
                                          "\t",
                                          "\xEF\xBB\xBF",
                                          std::string(1, '\0'),
                                          "99999999999999999999",
                                          "2147483648",
                                          "True",
                                          "'x'",
                                          "(",
                                          ")",
                                          "'shape'",
                                          "'descr'",
                                          "}",
                                          "{",
                                          "4294967296",
                                          "(0,)",
                                          "\x1b[2J"};
const std::vector<std::string> kFields = {"nan",  "inf",   "-inf",    "-1",    "0", "",
                                          "1e39", "1e999", "-1e-999", "1e-45", "+", "x"};
const std::vector<std::uint32_t> kWords = {
    0, 1, 2, 3, 255, 65536, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x7FC00000, 0x7F800000, 0x00000803};

// NaN, +inf, -inf or a value beyond float range, as a little-endian float or double.
std::string special_value(std::size_t size, std::size_t which) {
  const std::uint64_t doubles[] = {0x7FF8000000000000ull, 0x7FF0000000000000ull,
                                   0xFFF0000000000000ull, 0x7E37E43C8800759Cull};  // 1e300
  const std::uint64_t floats[] = {0x7FC00000, 0x7F800000, 0xFF800000, 0x7F7FFFFF};
  const std::uint64_t bits = size == 8 ? doubles[which] : floats[which];
  std::string out;
  for (std::size_t k = 0; k < size; ++k) out += static_cast<char>(bits >> (8 * k));
  return out;
}

std::string mutate(std::string bytes, std::uint64_t seed, std::size_t target, int index) {
  std::mt19937_64 rng(seed ^ (target * 0x9E3779B97F4A7C15ull) ^
                      (static_cast<std::uint64_t>(index) << 20));
  auto below = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  // Mostly one edit: a mutant with several is usually refused at the first.
  const std::size_t edits = 1 + std::min<std::size_t>(std::countr_one(rng()), 3);
  for (std::size_t e = 0; e < edits; ++e) {
    const std::size_t at = below(bytes.size() + 1);
    switch (below(9)) {
      case 0:
        if (at < bytes.size()) bytes[at] = static_cast<char>(bytes[at] ^ (1 << below(8)));
        break;
      case 1:
        if (at < bytes.size()) bytes[at] = static_cast<char>(rng());
        break;
      case 2:  // a 32-bit size or float, big- or little-endian
        if (at + 4 <= bytes.size()) {
          std::string word = istlab::big_endian32(kWords[below(kWords.size())]);
          if (rng() % 2) word = std::string(word.rbegin(), word.rend());
          bytes.replace(at, 4, word);
        }
        break;
      case 3:
        bytes.resize(at);
        break;
      case 4:
        bytes.insert(at, kTokens[below(kTokens.size())]);
        break;
      case 5:
        bytes.erase(at, below(8) + 1);
        break;
      case 6:  // repeat a piece: longer lines, more rows, trailing data
        bytes.insert(at, bytes.substr(below(bytes.size()), below(64) + 1));
        break;
      case 7:  // a text field (between separators) becomes a token: "1:nan", "inf,2"
        if (at < bytes.size()) {
          const char* separators = " \t\r\n,:#";
          const std::size_t begin = bytes.find_last_of(separators, at) + 1;
          const std::size_t end = std::min(bytes.find_first_of(separators, at), bytes.size());
          bytes.replace(begin, end >= begin ? end - begin : 0, kFields[below(kFields.size())]);
        }
        break;
      default:  // a special float or double, aligned from the end of the file
        if (const std::size_t size = rng() % 2 ? 4 : 8; bytes.size() >= size) {
          std::string value = special_value(size, below(4));
          if (rng() % 2) value = std::string(value.rbegin(), value.rend());
          const std::size_t slots = std::min(bytes.size(), std::size_t{32}) / size;  // the data
          bytes.replace(bytes.size() - size * (1 + below(slots)), size, value);
        }
        break;
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------
// One mutant, in the child: exit 0 accepted, 1 rejected cleanly, 3 a finding (on stdout).

[[noreturn]] void finish(int code, const std::string& text = "") {
  if (!text.empty()) std::cout << text << std::endl;
  std::cout.flush();
  ::_exit(code);
}

std::string check_error(const istlab::DataError& error, const std::string& mutant,
                        const std::string& partner) {
  const std::string what = error.what();
  if (error.file != mutant && error.file != partner) return "names another file";
  if (what.rfind(error.file + ": ", 0) != 0) return "what() does not start with the file";
  if (what.find('\n') != std::string::npos) return "what() spans lines";
  const std::string& where = error.where;
  if (!where.empty() && where.rfind("offset ", 0) != 0 && where.rfind("line ", 0) != 0)
    return "where is neither an offset nor a line";
  if (error.expected.empty()) return "no expected";
  // No mutant changes while it is read: the text readers' two passes must agree on its size.
  if (error.expected.find("changed while it was read") != std::string::npos)
    return "the first pass over the text counted other samples or features than the second";
  return "";
}

// A read that returned must have given a sound dataset.
std::string check_dataset(const istlab::Dataset& data) {
  if (data.num_samples() < 1 || data.num_features() < 1) return "accepted an empty dataset";
  if (static_cast<std::int64_t>(data.labels.size()) != data.num_samples())
    return "accepted a dataset with a label count unlike its sample count";
  if (!data.features.allFinite()) return "accepted a non-finite feature";
  for (const double label : data.labels)
    if (!std::isfinite(label)) return "accepted a non-finite label";
  return "";
}

void run_child(const Target& target, const std::string& mutant, int index) {
  std::string problem;
  try {
    problem = check_dataset(target.read(mutant, target.partner, index));
    if (problem.empty()) finish(0);
  } catch (const istlab::DataError& error) {
    problem = check_error(error, mutant, target.partner);
    if (problem.empty()) finish(1, error.expected);
    problem += ": " + std::string(error.what());
  } catch (const std::bad_alloc&) {
    problem = "std::bad_alloc escaped";
  } catch (const std::exception& error) {
    problem = std::string("exception other than DataError: ") + error.what();
  } catch (...) {
    problem = "unknown exception";
  }
  finish(3, problem);
}

// ---------------------------------------------------------------------------------------

struct Options {
  fs::path work = "readers_fuzz_work";
  int count = 600;
  std::uint64_t seed = 20240611;
  int limit = 2;
  std::size_t memory_mb = 1024;
  std::string only;
};

// A rejection's kind: its message up to the first quote or digit ("an index greater than").
std::string kind_of(const std::string& expected) {
  return expected.substr(0, expected.find_first_of("'0123456789\n"));
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Runs one mutant file in a forked child; "" when the contract held, else the finding.
// `output` is the child's report: the finding, or a rejection's `expected`.
std::string run_one(const Target& target, const std::string& path, int index,
                    const Options& options, bool& accepted, std::string& output) {
  std::fflush(stdout);
  std::cout.flush();
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], STDOUT_FILENO);
    const rlim_t bytes = static_cast<rlim_t>(options.memory_mb) << 20;
    const rlimit memory{bytes, bytes};
    if (!under_address_sanitizer()) ::setrlimit(RLIMIT_AS, &memory);
    const rlimit cpu{static_cast<rlim_t>(options.limit), static_cast<rlim_t>(options.limit) + 1};
    ::setrlimit(RLIMIT_CPU, &cpu);
    ::alarm(static_cast<unsigned>(3 * options.limit));  // a child blocked in a read
    run_child(target, path, index);
  }
  ::close(fds[1]);
  output.clear();
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) != 0;)
    if (n > 0)
      output.append(buffer, static_cast<std::size_t>(n));
    else if (errno != EINTR)
      break;
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  accepted = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (WIFSIGNALED(status)) {
    const int number = WTERMSIG(status);
    return number == SIGXCPU || number == SIGALRM ? "takes longer than the time limit"
                                                  : "crash: signal " + std::to_string(number);
  }
  if (WEXITSTATUS(status) == 3) return output.empty() ? "finding" : output;
  if (WEXITSTATUS(status) > 1)
    return "child exited with status " + std::to_string(WEXITSTATUS(status));
  return "";
}

int fuzz(const Options& options) {
  fs::remove_all(options.work / "findings");
  fs::create_directories(options.work / "findings");
  std::vector<Target> all = targets();
  const auto start = std::chrono::steady_clock::now();
  int findings = 0, total = 0;
  for (std::size_t t = 0; t < all.size(); ++t) {
    Target& target = all[t];
    const std::string prefix = target.name + ":";
    if (!options.only.empty() && options.only.rfind(prefix, 0) != 0) continue;
    if (!target.partner.empty()) {
      const fs::path partner = options.work / (target.name + ".partner");
      write_file(partner, target.partner);
      target.partner = partner.string();
    }
    const std::string path = (options.work / (target.name + ".mutant")).string();
    int first = 0, count = options.count, accepted = 0;
    if (!options.only.empty()) {
      first = std::stoi(options.only.substr(prefix.size()));
      count = 1;
    }
    std::set<std::string> kinds, rejections;
    for (int i = first; i < first + count; ++i) {
      const std::string& seed = target.seeds[static_cast<std::size_t>(i) % target.seeds.size()];
      // The first mutants are the seeds themselves: each must be accepted.
      std::string bytes =
          i < static_cast<int>(target.seeds.size()) ? seed : mutate(seed, options.seed, t, i);
      if (target.gzip_mutant) bytes = gzip(bytes);
      write_file(path, bytes);
      bool ok = false;
      std::string output;
      std::string finding = run_one(target, path, i, options, ok, output);
      if (finding.empty() && !ok) rejections.insert(kind_of(output));
      if (i < static_cast<int>(target.seeds.size()) && !ok && finding.empty())
        finding = "a seed file is rejected";
      accepted += ok;
      ++total;
      if (finding.empty()) continue;
      ++findings;
      const fs::path saved = options.work / "findings" / (target.name + "-" + std::to_string(i));
      fs::copy_file(path, saved, fs::copy_options::overwrite_existing);
      if (kinds.insert(finding.substr(0, 60)).second)
        std::cout << "FINDING " << target.name << ":" << i << " (" << saved.string()
                  << "): " << finding << std::endl;
    }
    std::cout << target.name << ": " << count << " mutants, " << accepted << " accepted, "
              << count - accepted << " rejected or findings; " << rejections.size()
              << " kinds of rejection" << std::endl;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << total << " mutants in " << seconds << " s (seed " << options.seed << "): "
            << (findings ? std::to_string(findings) +
                               " findings; reproduce one with --only "
                               "TARGET:INDEX"
                         : "PASS, no findings")
            << std::endl;
  return findings ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      const std::string value = argv[++i];
      if (arg == "--work")
        options.work = value;
      else if (arg == "--count")
        options.count = std::stoi(value);
      else if (arg == "--seed")
        options.seed = std::stoull(value, nullptr, 0);
      else if (arg == "--limit")
        options.limit = std::stoi(value);
      else if (arg == "--memory-mb")
        options.memory_mb = std::stoul(value);
      else if (arg == "--only")
        options.only = value;
      else
        throw std::invalid_argument("unknown argument " + arg);
    }
  } catch (const std::exception& error) {
    std::cerr << "istlab_readers_fuzz: " << error.what()
              << "\nusage: istlab_readers_fuzz [--work DIR] [--count N] [--seed S] [--limit "
                 "SECONDS] [--memory-mb M] [--only TARGET:INDEX]\n";
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  return fuzz(options);
}
