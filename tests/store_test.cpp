// The cell store: finished cells on disk, one file per cell named by its key and the build.
// A record reads back exactly as saved; anything unreadable counts as missing (the cell is
// rerun), never as a result. One rule per test.

#include "istlab/sweep/store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace istlab {
namespace {

namespace fs = std::filesystem;

// A folder of its own under the system's temp dir, emptied now and removed afterwards
// (ctest may run test processes side by side, hence the pid).
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(fs::temp_directory_path() /
              ("istlab_store_test_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Cell cell_with_key(const std::string& key) {
  Cell cell;
  cell.key = key;
  return cell;
}

// A record with every field set and distinct, so a field read from the wrong place shows.
CellRecord full_record() {
  return {"converged", "tridiagonal,16,4,ist,0.5,converged\n", "0,1,2\n10,0.5,0.25\n",
          "ist,1e-05\n", "0,1.5,-2\n10,0.75,-1\n"};
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// The one record file of `cell`, which the store names <key>.<build tag>.cell.
fs::path record_file(const CellStore& store, const Cell& cell) {
  return store.directory() / (cell.key + "." + CellStore::build_tag() + ".cell");
}

void expect_same_record(const CellRecord& actual, const CellRecord& expected) {
  EXPECT_EQ(actual.status, expected.status);
  EXPECT_EQ(actual.summary_row, expected.summary_row);
  EXPECT_EQ(actual.trace_rows, expected.trace_rows);
  EXPECT_EQ(actual.timing_rows, expected.timing_rows);
  EXPECT_EQ(actual.iterate_rows, expected.iterate_rows);
}

TEST(Store, SavedRecordLoadsBackFieldByField) {
  const TempDir dir("round_trip");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("0123456789abcdef");
  store.save(cell, full_record());
  const auto loaded = store.load(cell);
  ASSERT_TRUE(loaded.has_value());
  expect_same_record(*loaded, full_record());
}

TEST(Store, RecordWithEmptySectionsLoadsBackEmpty) {
  // A run without iterates (the usual case) and a diverged run with only its first row.
  const TempDir dir("empty_sections");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  const CellRecord sparse{"diverged", "row\n", "", "", ""};
  store.save(cell, sparse);
  const auto loaded = store.load(cell);
  ASSERT_TRUE(loaded.has_value());
  expect_same_record(*loaded, sparse);
}

TEST(Store, RecordFileIsNamedByCellKeyAndBuildTag) {
  // DESIGN: a stored cell is reused only by the build that computed it.
  const TempDir dir("file_name");
  const CellStore store(dir.path());
  EXPECT_EQ(store.directory(), dir.path() / "cells");
  EXPECT_EQ(CellStore::build_tag(), CellStore::build_tag());  // a function of the build only
  const Cell cell = cell_with_key("feed");
  store.save(cell, full_record());
  EXPECT_TRUE(fs::exists(record_file(store, cell)));
}

TEST(Store, RecordOfAnotherBuildIsNotLoaded) {
  const TempDir dir("other_build");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("feed");
  store.save(cell, full_record());
  // The same bytes under another build's tag.
  const std::string text = read_text(record_file(store, cell));
  fs::remove(record_file(store, cell));
  write_text(store.directory() / "feed.0000000000000000.cell", text);
  EXPECT_FALSE(store.load(cell).has_value());
}

TEST(Store, MissingRecordIsNullopt) {
  const TempDir dir("missing");
  const CellStore store(dir.path());  // its folder does not even exist yet
  EXPECT_FALSE(store.load(cell_with_key("absent")).has_value());
  EXPECT_FALSE(store.failure(cell_with_key("absent")).has_value());
  // Another cell's record does not stand in for it.
  store.save(cell_with_key("present"), full_record());
  EXPECT_FALSE(store.load(cell_with_key("absent")).has_value());
}

TEST(Store, GarbledRecordLoadsAsMissing) {
  const TempDir dir("garbled");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save(cell, full_record());
  const fs::path file = record_file(store, cell);
  const std::string good = read_text(file);
  auto without = [&](const std::string& part) {
    std::string text = good;
    const auto at = text.find(part);
    EXPECT_NE(at, std::string::npos) << part;
    return text.erase(at, part.size());
  };
  const std::vector<std::pair<std::string, std::string>> garbled = {
      {"empty (a power loss after the rename)", ""},
      {"cut inside the trace section", good.substr(0, good.find("#trace\n") + 10)},
      {"cut before the iterates marker", good.substr(0, good.find("#iterates\n"))},
      {"no status line", without("#status converged\n")},
      {"status marker misspelt", "#state" + good.substr(7)},
      {"no trace marker", without("#trace\n")},
      {"no timing marker", without("#timing\n")},
      {"no iterates marker", without("#iterates\n")},
      {"sections out of order", without("#timing\n") + "#timing\n"},
  };
  for (const auto& [label, text] : garbled) {
    SCOPED_TRACE(label);
    write_text(file, text);
    EXPECT_FALSE(store.load(cell).has_value());
  }
  write_text(file, good);  // the check above is not vacuous: the intact file loads
  EXPECT_TRUE(store.load(cell).has_value());
}

TEST(Store, RecordCutInsideItsLastSectionLoadsAsMissing) {
  // Cut anywhere else, a marker goes missing (above). Cut inside the iterate rows, every
  // marker is still there: loading it would put a half row ("10,0.75", no newline) into
  // iterates.csv, glued to the next cell's first row. It must count as missing instead.
  const TempDir dir("cut_last_section");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save(cell, full_record());
  const fs::path file = record_file(store, cell);
  const std::string good = read_text(file);
  const auto last_field = good.rfind(",-1\n");  // the last field of full_record()'s iterates
  ASSERT_NE(last_field, std::string::npos);
  write_text(file, good.substr(0, last_field));
  EXPECT_FALSE(store.load(cell).has_value());
}

TEST(Store, HasAgreesWithLoad) {
  const TempDir dir("has");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  EXPECT_FALSE(store.has(cell));  // missing
  store.save(cell, full_record());
  EXPECT_TRUE(store.has(cell));  // saved
  write_text(record_file(store, cell), "#status converged\n");
  EXPECT_FALSE(store.has(cell));  // garbled: load gives nullopt, so has() must say no
  EXPECT_EQ(store.has(cell), store.load(cell).has_value());
}

TEST(Store, FailureMessageReadsBack) {
  const TempDir dir("failure");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save_failure(cell, "L-bar is not positive definite\nsecond line");
  EXPECT_EQ(store.failure(cell), "L-bar is not positive definite\nsecond line");
  EXPECT_FALSE(store.load(cell).has_value());  // a failure is not a result
}

TEST(Store, SaveAfterFailureRemovesTheFailure) {
  // A retried cell that now succeeds is no longer reported as failed.
  const TempDir dir("retry");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save_failure(cell, "out of memory");
  ASSERT_TRUE(store.failure(cell).has_value());
  store.save(cell, full_record());
  EXPECT_FALSE(store.failure(cell).has_value());
  EXPECT_TRUE(store.load(cell).has_value());
}

TEST(Store, ImportCopiesRecordsAndFailures) {
  // Merging a shard's folder into the main one.
  const TempDir shard_dir("import_shard");
  const TempDir main_dir("import_main");
  const CellStore shard(shard_dir.path());
  const CellStore store(main_dir.path());
  const Cell done = cell_with_key("done");
  const Cell failed = cell_with_key("failed");
  shard.save(done, full_record());
  shard.save_failure(failed, "boom");
  EXPECT_EQ(store.import_from(shard_dir.path()), 2);
  const auto loaded = store.load(done);
  ASSERT_TRUE(loaded.has_value());
  expect_same_record(*loaded, full_record());
  EXPECT_EQ(store.failure(failed), "boom");
  EXPECT_FALSE(store.load(failed).has_value());
}

TEST(Store, ImportSkipsLeftoverTemporaryFiles) {
  // A write killed before its rename leaves ".<name>.tmp.<pid>": not a record.
  const TempDir shard_dir("tmp_shard");
  const TempDir main_dir("tmp_main");
  const CellStore shard(shard_dir.path());
  const CellStore store(main_dir.path());
  shard.save(cell_with_key("done"), full_record());
  write_text(shard.directory() / (".half." + CellStore::build_tag() + ".cell.tmp.12345"),
             "#status conv");
  EXPECT_EQ(store.import_from(shard_dir.path()), 1);
  EXPECT_FALSE(store.load(cell_with_key("half")).has_value());
}

TEST(Store, ImportFromAFolderWithoutCellsCopiesNothing) {
  const TempDir empty_dir("import_empty");
  const TempDir main_dir("import_into");
  const CellStore store(main_dir.path());
  EXPECT_EQ(store.import_from(empty_dir.path()), 0);
}

}  // namespace
}  // namespace istlab
