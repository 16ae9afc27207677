// File helpers: atomic writes that fail with a clear message and leave nothing behind, the
// cleanup of dead writers' temporary files (and of nothing else), stable hashes, UTF-8
// checks. One rule per test.

#include "istlab/io/files.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace istlab {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The pid of a process that has ended: a child that exits at once, reaped. Pids are handed
// out in turn, so it is not reused within a test.
int dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return static_cast<int>(child);
}

// A child that sleeps until this object ends it.
class SleepingChild {
 public:
  SleepingChild() : pid_(::fork()) {
    if (pid_ == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~SleepingChild() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  int pid() const { return static_cast<int>(pid_); }

 private:
  pid_t pid_;
};

TEST(Files, WriteReplacesTheFileAndLeavesNoTemporary) {
  const TempDir dir("write");
  write_file_atomically(dir.path() / "cells.csv", "old\n");
  write_file_atomically(dir.path() / "cells.csv", "new\n", /*durable=*/false);
  EXPECT_EQ(read_text(dir.path() / "cells.csv"), "new\n");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"cells.csv"});
}

// A link planted at the writer's (predictable) temporary name in a shared results folder is
// removed, not followed: the file it points at keeps its bytes.
TEST(Files, WriteNeverFollowsALinkPlantedAtItsTemporaryName) {
  const TempDir dir("planted_link");
  const fs::path victim = dir.path() / "victim.txt";
  std::ofstream(victim) << "precious\n";
  const fs::path target = dir.path() / "results" / "cells.csv";
  fs::create_directories(target.parent_path());
  fs::create_symlink(victim, temporary_path(target, static_cast<int>(::getpid())));
  write_file_atomically(target, "new\n", /*durable=*/false);
  EXPECT_EQ(read_text(victim), "precious\n");
  EXPECT_EQ(read_text(target), "new\n");
  EXPECT_FALSE(fs::is_symlink(target));
  EXPECT_EQ(names_in(target.parent_path()), std::vector<std::string>{"cells.csv"});
}

TEST(Files, TemporaryIsHiddenBesideItsTargetAndNamesItsWriter) {
  const fs::path target = fs::path("out") / "exp" / "cells.csv";
  const fs::path temporary = temporary_path(target, 4242);
  EXPECT_EQ(temporary.parent_path(), target.parent_path());
  const std::string name = temporary.filename().string();
  // ".cells.csv.tmp." + 16 hex digits for the machine + "." + the pid
  ASSERT_EQ(name.size(), std::string(".cells.csv.tmp.").size() + 16 + std::string(".4242").size());
  EXPECT_TRUE(name.starts_with(".cells.csv.tmp.")) << name;
  EXPECT_TRUE(name.ends_with(".4242")) << name;
  const std::string machine = name.substr(15, 16);
  EXPECT_EQ(machine.find_first_not_of("0123456789abcdef"), std::string::npos) << name;
  EXPECT_EQ(temporary_path(target, 7).filename().string(), ".cells.csv.tmp." + machine + ".7");
}

TEST(Files, TemporaryOfADeadProcessIsRemoved) {
  // What a SIGKILL inside write_file_atomically leaves behind.
  const TempDir dir("stale");
  const int dead = dead_pid();
  ASSERT_GT(dead, 0);
  write_text(temporary_path(dir.path() / "trace.csv", dead), "half a trace");
  write_text(temporary_path(dir.path() / "k.t.cell", dead), "#status conv");
  write_text(dir.path() / "trace.csv", "kept\n");
  EXPECT_EQ(remove_stale_temporaries(dir.path()), 2);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"trace.csv"});
  EXPECT_EQ(remove_stale_temporaries(dir.path()), 0);  // nothing left to remove
}

TEST(Files, TemporaryOfALiveProcessIsKept) {
  // Another process (or this one) may be writing it right now: removing it would make its
  // rename fail.
  const TempDir dir("live");
  const SleepingChild sleeper;
  ASSERT_GT(sleeper.pid(), 0);
  write_text(temporary_path(dir.path() / "trace.csv", sleeper.pid()), "being written");
  write_text(temporary_path(dir.path() / "cells.csv", static_cast<int>(::getpid())), "mine");
  EXPECT_EQ(remove_stale_temporaries(dir.path()), 0);
  EXPECT_EQ(names_in(dir.path()).size(), 2u);
}

TEST(Files, OnlyExactTemporaryNamesOfThisMachineAreRemoved) {
  const TempDir dir("unrelated");
  const int dead = dead_pid();
  ASSERT_GT(dead, 0);
  const std::string pid = std::to_string(dead);
  const std::string stale = temporary_path(dir.path() / "cells.csv", dead).filename().string();
  const std::string machine = stale.substr(15, 16);
  const std::vector<std::string> unrelated = {
      "cells.csv",
      stale.substr(1),                                     // not hidden
      ".cells.csv.tmp." + pid,                             // no machine (older istlab)
      ".cells.csv.tmp.0123456789abcdef." + pid,            // another machine's
      ".cells.csv.tmp." + machine + ".0" + pid,            // leading zero
      ".cells.csv.tmp." + machine + "." + pid + "x",       // trailing junk
      ".cells.csv.tmp." + machine + "." + pid + ".bak",    // a copy of one
      ".cells.csv.tmp." + machine + ".0",                  // pid 0: kill() would mean "my group"
      ".cells.csv.tmp." + machine + ".-1",                 // pid -1: "every process"
      ".cells.csv.tmp." + machine + ".99999999999999999",  // not a pid
      "..tmp." + machine + "." + pid,                      // no file name
  };
  for (const auto& name : unrelated) write_text(dir.path() / name, "x");
  // Named like a stale temporary, but a folder, a symlink, or one level down.
  fs::create_directory(temporary_path(dir.path() / "folder", dead));
  fs::create_symlink(dir.path() / "cells.csv", temporary_path(dir.path() / "link", dead));
  fs::create_directory(dir.path() / "cells");
  write_text(temporary_path(dir.path() / "cells" / "k.cell", dead), "x");
  const auto before = names_in(dir.path());
  EXPECT_EQ(remove_stale_temporaries(dir.path()), 0);
  EXPECT_EQ(names_in(dir.path()), before);
  EXPECT_EQ(names_in(dir.path() / "cells").size(), 1u);
}

TEST(Files, MissingFolderHasNoTemporaries) {
  EXPECT_EQ(remove_stale_temporaries(fs::temp_directory_path() / "istlab_files_test_absent"), 0);
}

// In a child with SIGXFSZ ignored and a 4 KiB file size limit, writes 64 KiB to `target`;
// saves the error message beside it. Exit code: 0 threw std::runtime_error, 1 did not
// throw, 2 threw something else, 3 could not set the limit.
int write_beyond_file_size_limit(const fs::path& target) {
  ::signal(SIGXFSZ, SIG_IGN);  // as main() does; by default the signal kills the process
  const rlimit limit{4096, 4096};
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 3;
  try {
    write_file_atomically(target, std::string(65536, 'x'));
  } catch (const std::runtime_error& error) {
    write_text(target.parent_path() / "message.txt", error.what());
    return 0;
  } catch (...) {
    return 2;
  }
  return 1;
}

TEST(Files, FileSizeLimitGivesAClearErrorAndLeavesNoTemporary) {
  const TempDir dir("efbig");
  const fs::path target = dir.path() / "trace.csv";
  write_file_atomically(target, "old\n");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(write_beyond_file_size_limit(target));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  ASSERT_EQ(WEXITSTATUS(status), 0) << "0 threw runtime_error, 1 no error, 2 other, 3 setup";
  const std::string message = read_text(dir.path() / "message.txt");
  EXPECT_NE(message.find(target.string()), std::string::npos) << message;
  EXPECT_NE(message.find("file size limit reached (ulimit -f)"), std::string::npos) << message;
  EXPECT_EQ(read_text(target), "old\n");  // the previous file is intact
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"message.txt", "trace.csv"}));
}

TEST(Files, UnwritableFolderGivesAnErrorNamingTheFile) {
  const TempDir dir("no_folder");
  const fs::path target = dir.path() / "absent" / "cells.csv";
  try {
    write_file_atomically(target, "x");
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(target.string()), std::string::npos) << error.what();
  }
}

TEST(Files, StableHashIsFnv1a) {
  // Cell keys, config hashes and record checksums depend on these exact values.
  EXPECT_EQ(stable_hash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(hex_hash("a"), "af63dc4c8601ec8c");
}

TEST(Files, WellFormedUtf8IsLeftAsItIs) {
  const std::string text = "plain, x^\u221e, \u03bb_min \u2264 0, \U0001f600, \x7f";
  EXPECT_EQ(invalid_utf8_offset(text), std::string::npos);
  EXPECT_EQ(escape_invalid_utf8(text), text);
  EXPECT_EQ(escape_invalid_utf8(""), "");
}

TEST(Files, IllFormedUtf8BytesAreEscapedAsHex) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\xff", "a\\xff"},                           // never in UTF-8
      {"\xc0\xaf", "\\xc0\\xaf"},                    // overlong '/'
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},           // a surrogate
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},  // above U+10FFFF
      {"x\xe2\x82", "x\\xe2\\x82"},                  // cut short
      {"\x80 lone continuation", "\\x80 lone continuation"},
  };
  for (const auto& [text, escaped] : cases) {
    SCOPED_TRACE(escaped);
    EXPECT_NE(invalid_utf8_offset(text), std::string::npos);
    EXPECT_EQ(escape_invalid_utf8(text), escaped);
  }
  EXPECT_EQ(invalid_utf8_offset("ok \xff"), 3u);
  std::string every_byte;
  for (int byte = 0; byte < 256; ++byte) every_byte += static_cast<char>(byte);
  EXPECT_EQ(invalid_utf8_offset(escape_invalid_utf8(every_byte)), std::string::npos);
}

}  // namespace
}  // namespace istlab
