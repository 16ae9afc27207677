// The cell store: finished cells on disk, one file per cell named by its key and the build.
// A record reads back exactly as saved; a file that fails its checksum or cannot be read is
// corrupt: never a result (the cell is rerun), and reported by its file name. One rule per
// test.

#include "istlab/sweep/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "istlab/io/files.hpp"
#include "istlab/sweep/config.hpp"
#include "istlab/sweep/lock.hpp"
#include "temp_dir.hpp"

namespace istlab {
namespace {

namespace fs = std::filesystem;

Cell cell_with_key(const std::string& key) {
  Cell cell;
  cell.key = key;
  cell.length = {120, 2.5};  // full_record's
  return cell;
}

// A record of the cell `key` with every field set and distinct, so a field read from the wrong
// place shows. (A record's cells.csv row starts with its cell's key.)
CellRecord full_record(const std::string& key = "k") {
  return {"converged",
          key + ",tridiagonal,16,4,ist,0.5,converged\n",
          "0,1,2\n10,0.5,0.25\n",
          "ist,1e-05\n",
          "0,1.5,-2\n10,0.75,-1\n",
          "p1,0,600,0:600,0.5\n",
          {120, 2.5}};
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
  EXPECT_EQ(actual.problem_rows, expected.problem_rows);
  EXPECT_EQ(actual.length, expected.length);
}

TEST(Store, SavedRecordLoadsBackFieldByField) {
  const TempDir dir("round_trip");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("0123456789abcdef");
  store.save(cell, full_record(cell.key));
  const auto loaded = store.load(cell);
  ASSERT_TRUE(loaded.has_value());
  expect_same_record(*loaded, full_record(cell.key));
}

TEST(Store, RecordWithEmptySectionsLoadsBackEmpty) {
  // A run without iterates (the usual case) and a diverged run with only its first row.
  const TempDir dir("empty_sections");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  const CellRecord sparse{"diverged", "k,row\n", "", "", "", "", {120, 2.5}};
  store.save(cell, sparse);
  const auto loaded = store.load(cell);
  ASSERT_TRUE(loaded.has_value());
  expect_same_record(*loaded, sparse);
}

// The key leaves out the run's length: a record of another max_iters or max_seconds is the
// cell's, not done, and says the length it was run to.
TEST(Store, RecordOfAnotherLengthIsNotDoneAndSaysItsLength) {
  const TempDir dir("other_length");
  const CellStore store(dir.path());
  Cell cell = cell_with_key("k");
  store.save(cell, full_record());
  cell.length.max_iters = 500;
  const RecordLookup found = store.lookup(cell);
  EXPECT_EQ(found.state, RecordState::kOtherLength);
  EXPECT_FALSE(found.record.has_value());
  EXPECT_EQ(found.stored_length, (RunLength{120, 2.5}));
  EXPECT_FALSE(store.has(cell));
  cell.length = {120, 2.5};
  EXPECT_TRUE(store.has(cell));
}

// A checkpoint keeps every double of the run bit for bit, a network's float parameters in
// floats; a damaged one, or another cell's, is refused with the reason.
TEST(Store, CheckpointReadsBackBitForBitAndRefusesDamage) {
  const TempDir dir("checkpoint");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  RunResult run;
  run.status = RunStatus::kMaxIters;
  run.iterations = 10;
  run.num_workers = 3;
  for (const std::int64_t iter : {0, 5, 10}) {
    TraceRow row;
    row.iter = iter;
    row.rel_err = 1.0 / (3.0 + static_cast<double>(iter));
    row.wall_s = 0.1 * static_cast<double>(iter);
    run.trace.push_back(row);
  }
  run.round_counts.resize(10, RoundCounts{1.0, 2.0, 3.5, 4.0, 5.0, 6.25});
  run.final_point = Vector::LinSpaced(7, -1.0, 1.0 / 3.0);
  store.save(cell, full_record(), &run);
  auto loaded = store.checkpoint(cell);
  ASSERT_TRUE(loaded.has_value());
  ASSERT_EQ(loaded->trace.size(), 3u);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(loaded->trace[1].rel_err),
            std::bit_cast<std::uint64_t>(run.trace[1].rel_err));
  EXPECT_TRUE(std::isnan(loaded->trace[2].train_loss));
  EXPECT_EQ(loaded->final_point, run.final_point);  // doubles stay doubles
  EXPECT_EQ(loaded->round_counts.size(), 10u);
  EXPECT_EQ(loaded->round_counts[9].max_flops, 6.25);
  EXPECT_EQ(loaded->num_workers, 3);

  std::string why;
  EXPECT_FALSE(store.checkpoint(cell_with_key("other"), &why).has_value());
  EXPECT_NE(why.find("no checkpoint"), std::string::npos) << why;
  // Every byte flipped, one at a time, is refused with a reason (never a throw).
  const fs::path path = dir.path() / "cells" / ("k." + CellStore::build_tag() + ".state");
  const std::string bytes = read_text(path);
  for (std::size_t at = 0; at < bytes.size(); at += 7) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
    EXPECT_FALSE(store.checkpoint(cell, &why).has_value()) << "byte " << at;
    EXPECT_FALSE(why.empty());
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  EXPECT_FALSE(store.checkpoint(cell, &why).has_value());
  // A record saved without a run removes the older checkpoint: it would not be its run's.
  store.save(cell, full_record());
  EXPECT_FALSE(fs::exists(path));
}

TEST(Store, RecordFileIsNamedByCellKeyAndBuildTag) {
  // DESIGN: a stored cell is reused only by the build that computed it.
  const TempDir dir("file_name");
  const CellStore store(dir.path());
  EXPECT_EQ(store.directory(), dir.path() / "cells");
  EXPECT_EQ(CellStore::build_tag(), CellStore::build_tag());  // a function of the build only
  const Cell cell = cell_with_key("feed");
  store.save(cell, full_record(cell.key));
  EXPECT_TRUE(fs::exists(record_file(store, cell)));
  EXPECT_EQ(store.record_path(cell), record_file(store, cell));
}

TEST(Store, RecordOfAnotherBuildIsNotLoaded) {
  const TempDir dir("other_build");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("feed");
  store.save(cell, full_record(cell.key));
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
  store.save(cell_with_key("present"), full_record("present"));
  EXPECT_FALSE(store.load(cell_with_key("absent")).has_value());
}

TEST(Store, GarbledRecordIsCorruptAndNotLoaded) {
  const TempDir dir("garbled");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save(cell, full_record(cell.key));
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
    EXPECT_EQ(store.lookup(cell).state, RecordState::kCorrupt);
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
  store.save(cell, full_record(cell.key));
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
  store.save(cell, full_record(cell.key));
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
  store.save(cell, full_record(cell.key));
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
  shard.save(done, full_record(done.key));
  shard.save_failure(failed, "boom");
  EXPECT_EQ(store.import_from(shard_dir.path()), 2);
  const auto loaded = store.load(done);
  ASSERT_TRUE(loaded.has_value());
  expect_same_record(*loaded, full_record("done"));
  EXPECT_EQ(store.failure(failed), "boom");
  EXPECT_FALSE(store.load(failed).has_value());
}

TEST(Store, ImportSkipsLeftoverTemporaryFiles) {
  // A write killed before its rename leaves ".<name>.tmp.<machine>.<pid>": not a record.
  const TempDir shard_dir("tmp_shard");
  const TempDir main_dir("tmp_main");
  const CellStore shard(shard_dir.path());
  const CellStore store(main_dir.path());
  shard.save(cell_with_key("done"), full_record("done"));
  write_text(temporary_path(shard.record_path(cell_with_key("half")), 12345), "#status conv");
  EXPECT_EQ(store.import_from(shard_dir.path()), 1);
  EXPECT_FALSE(store.load(cell_with_key("half")).has_value());
}

// The record of full_record() as store.hpp describes it, before its "#end" line.
std::string full_record_body() {
  return "#status converged\n"
         "#length 120 2.5\n"
         "k,tridiagonal,16,4,ist,0.5,converged\n"
         "#trace\n0,1,2\n10,0.5,0.25\n"
         "#timing\nist,1e-05\n"
         "#iterates\n0,1.5,-2\n10,0.75,-1\n"
         "#problem\np1,0,600,0:600,0.5\n";
}

// `cell`'s record must be rejected as corrupt, with a reason that can go into JSON.
void expect_corrupt(const CellStore& store, const Cell& cell) {
  EXPECT_FALSE(store.load(cell).has_value());
  EXPECT_FALSE(store.has(cell));
  const RecordLookup found = store.lookup(cell);
  EXPECT_EQ(found.state, RecordState::kCorrupt);
  EXPECT_FALSE(found.record.has_value());
  EXPECT_FALSE(found.corruption.empty());
  EXPECT_EQ(invalid_utf8_offset(found.corruption), std::string::npos) << found.corruption;
}

TEST(Store, RecordFileEndsWithTheChecksumOfItsContent) {
  // The format of store.hpp, byte for byte; a valid record loads back byte for byte.
  const TempDir dir("format");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save(cell, full_record(cell.key));
  const std::string body = full_record_body();
  const std::string text = read_text(store.record_path(cell));
  EXPECT_EQ(text, body + "#end " + hex_hash(body) + "\n");
  const RecordLookup found = store.lookup(cell);
  EXPECT_EQ(found.state, RecordState::kStored);
  EXPECT_EQ(found.corruption, "");
  ASSERT_TRUE(found.record.has_value());
  expect_same_record(*found.record, full_record());
  store.save(cell, *found.record);  // saving what was loaded writes the same bytes
  EXPECT_EQ(read_text(store.record_path(cell)), text);
  EXPECT_FALSE(store.corrupt(cell));
}

TEST(Store, EditedStatusIsReportedAsCorruptWithItsFileName) {
  // An edited status used to go into cells.csv silently.
  const TempDir dir("edited_status");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save(cell, full_record(cell.key));
  const fs::path file = store.record_path(cell);
  std::string text = read_text(file);
  text.replace(text.find("converged"), 9, "diverged");
  write_text(file, text);
  expect_corrupt(store, cell);
  std::string reason;
  EXPECT_TRUE(store.corrupt(cell, &reason));
  EXPECT_NE(reason.find("checksum mismatch"), std::string::npos) << reason;
  EXPECT_EQ(file, record_file(store, cell));  // the file a report names
}

TEST(Store, ByteFFAnywhereIsDetected) {
  // One 0xFF byte used to reach manifest.json and break every later run.
  const TempDir dir("byte_ff");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save(cell, full_record(cell.key));
  const fs::path file = store.record_path(cell);
  const std::string good = read_text(file);
  for (std::size_t at = 0; at <= good.size(); ++at) {
    SCOPED_TRACE(at);
    write_text(file, good.substr(0, at) + '\xff' + good.substr(at));  // inserted
    expect_corrupt(store, cell);
    if (at == good.size()) continue;
    std::string replaced = good;
    replaced[at] = '\xff';
    write_text(file, replaced);
    expect_corrupt(store, cell);
  }
}

TEST(Store, SectionMissingARowIsDetected) {
  // Every marker and the end line are still there; only the checksum can tell that rows
  // went missing (the timing rows used to vanish from timing.csv silently).
  const TempDir dir("missing_row");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save(cell, full_record(cell.key));
  const fs::path file = store.record_path(cell);
  const std::string good = read_text(file);
  for (const std::string row : {"ist,1e-05\n", "10,0.5,0.25\n", "0,1.5,-2\n", "10,0.75,-1\n",
                                "k,tridiagonal,16,4,ist,0.5,converged\n"}) {
    SCOPED_TRACE(row);
    std::string text = good;
    text.erase(text.find(row), row.size());
    write_text(file, text);
    expect_corrupt(store, cell);
  }
}

TEST(Store, RecordCutAtAnyLengthIsCorrupt) {
  const TempDir dir("cut_anywhere");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save(cell, full_record(cell.key));
  const fs::path file = store.record_path(cell);
  const std::string good = read_text(file);
  for (std::size_t length = 0; length < good.size(); ++length) {
    SCOPED_TRACE(length);
    write_text(file, good.substr(0, length));
    expect_corrupt(store, cell);
  }
}

TEST(Store, RecordWithoutChecksumIsCorrupt) {
  // The format before checksums ended with a bare "#end": such a record is rerun, not trusted.
  const TempDir dir("old_format");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  fs::create_directories(store.directory());
  write_text(store.record_path(cell), full_record_body() + "#end\n");
  expect_corrupt(store, cell);
  EXPECT_NE(store.lookup(cell).corruption.find("#end <checksum>"), std::string::npos);
}

TEST(Store, MissingRecordIsNotCorrupt) {
  const TempDir dir("not_corrupt");
  const CellStore store(dir.path());  // no cells/ folder yet
  const Cell cell = cell_with_key("absent");
  const RecordLookup found = store.lookup(cell);
  EXPECT_EQ(found.state, RecordState::kMissing);
  EXPECT_EQ(found.corruption, "");
  std::string reason = "unchanged?";
  EXPECT_FALSE(store.corrupt(cell, &reason));
  EXPECT_EQ(reason, "");
}

TEST(Store, UnreadableRecordIsCorruptWithoutThrowing) {
  const TempDir dir("unreadable");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  fs::create_directories(store.record_path(cell));  // a folder where the file should be
  expect_corrupt(store, cell);
}

TEST(Store, FailureWithInvalidUtf8ReadsBackEscaped) {
  // A message with bytes that are not UTF-8 (an error naming a file with such a name) goes
  // to terminals and JSON: those bytes come back as "\xNN".
  const TempDir dir("failure_bytes");
  const CellStore store(dir.path());
  const Cell cell = cell_with_key("k");
  store.save_failure(cell, "cannot read /data/\xff\xfe.csv\n\xce\xbb too \xc3");
  EXPECT_EQ(store.failure(cell), "cannot read /data/\\xff\\xfe.csv\n\xce\xbb too \\xc3");
  std::string every_byte;
  for (int byte = 255; byte >= 0; --byte) every_byte += static_cast<char>(byte);
  store.save_failure(cell, every_byte);
  const auto message = store.failure(cell);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(invalid_utf8_offset(*message), std::string::npos);
  EXPECT_FALSE(store.load(cell).has_value());
}

TEST(Store, ImportSkipsCorruptRecordsAndNamesThem) {
  // A damaged copy in a shard must not replace a good record of the same cell.
  const TempDir shard_dir("corrupt_shard");
  const TempDir main_dir("corrupt_main");
  const CellStore shard(shard_dir.path());
  const CellStore store(main_dir.path());
  const Cell done = cell_with_key("done");
  const Cell damaged = cell_with_key("damaged");
  shard.save(done, full_record(done.key));
  shard.save(damaged, full_record(damaged.key));
  store.save(damaged, full_record(damaged.key));
  const std::string text = read_text(shard.record_path(damaged));
  const auto at = text.find("#timing");
  write_text(shard.record_path(damaged), text.substr(0, at) + '\xff' + text.substr(at));
  std::vector<std::string> rejected;
  EXPECT_EQ(store.import_from(shard_dir.path(), &rejected), 1);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_TRUE(rejected[0].starts_with(shard.record_path(damaged).string() + ": checksum mismatch"))
      << rejected[0];
  EXPECT_TRUE(store.has(done));
  EXPECT_TRUE(store.has(damaged));                    // still the good record
  EXPECT_EQ(store.import_from(shard_dir.path()), 1);  // the list is optional
}

// merge reads only regular files: a FIFO named .cell once blocked it forever and a link to
// /dev/zero read until bad_alloc. Both are named and skipped; the good record is copied.
TEST(Store, ImportRefusesFilesThatAreNotRegularWithoutReadingThem) {
  const TempDir shard_dir("special_shard");
  const TempDir main_dir("special_main");
  const CellStore shard(shard_dir.path());
  const CellStore store(main_dir.path());
  shard.save(cell_with_key("done"), full_record("done"));
  const auto cells = shard_dir.path() / "cells";
  ASSERT_EQ(::mkfifo((cells / "fifo.cell").c_str(), 0644), 0);
  std::filesystem::create_symlink("/dev/zero", cells / "zero.cell");
  std::vector<std::string> rejected;
  EXPECT_EQ(store.import_from(shard_dir.path(), &rejected), 1);
  ASSERT_EQ(rejected.size(), 2u);
  for (const auto& line : rejected)
    EXPECT_NE(line.find(": not a regular file"), std::string::npos) << line;
}

// A record file above the cap (here a sparse 2 GiB + 1 byte) is refused by its size, unread.
TEST(Store, ImportRefusesAHugeRecordUnread) {
  const TempDir shard_dir("huge_shard");
  const TempDir main_dir("huge_main");
  const CellStore shard(shard_dir.path());
  shard.save(cell_with_key("done"), full_record("done"));
  const auto huge = shard_dir.path() / "cells" / "huge.cell";
  std::ofstream(huge).put('x');
  std::filesystem::resize_file(huge, (std::uintmax_t{2} << 30) + 1);
  std::vector<std::string> rejected;
  EXPECT_EQ(CellStore(main_dir.path()).import_from(shard_dir.path(), &rejected), 1);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find("bytes; a record is at most"), std::string::npos) << rejected[0];
}

// Issue 21, item 7: a record copied onto another cell's file name passes its checksum, and
// once stood for that cell (cells.csv got two rows for one cell and none for the other).
TEST(Store, RecordUnderAnotherCellsNameIsCorruptAndNotImported) {
  const TempDir dir("swapped");
  const TempDir main_dir("swapped_main");
  const CellStore store(dir.path());
  const Cell first = cell_with_key("aaaa");
  const Cell second = cell_with_key("bbbb");
  store.save(first, full_record(first.key));
  fs::copy_file(store.record_path(first), store.record_path(second));
  const RecordLookup found = store.lookup(second);
  EXPECT_EQ(found.state, RecordState::kCorrupt);
  EXPECT_EQ(found.corruption,
            "it is the record of cell aaaa, not of cell bbbb its file name says (copied or "
            "renamed onto another cell's name)");
  EXPECT_TRUE(store.has(first));
  std::vector<std::string> rejected;
  EXPECT_EQ(CellStore(main_dir.path()).import_from(dir.path(), &rejected), 1);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find("not of cell bbbb"), std::string::npos) << rejected[0];
}

TEST(Store, ImportFromAFolderWithoutCellsCopiesNothing) {
  const TempDir empty_dir("import_empty");
  const TempDir main_dir("import_into");
  const CellStore store(main_dir.path());
  EXPECT_EQ(store.import_from(empty_dir.path()), 0);
}

// One writer per folder: a second lock on it is refused while the first is held.
TEST(FolderLock, SecondWriterIsRefusedWhileTheFirstHoldsIt) {
  const TempDir dir("lock_two");
  {
    const FolderLock first(dir.path(), ".lock");
    EXPECT_THROW(FolderLock(dir.path(), ".lock"), ConfigError);
  }
  EXPECT_NO_THROW(FolderLock(dir.path(), ".lock"));  // released with the first
}

// A .lock planted as a link to another file is refused, and that file keeps its bytes (the
// lock used to follow it, truncate it and write its pid into it).
TEST(FolderLock, LinkedLockIsRefusedAndItsTargetKeepsItsBytes) {
  const TempDir dir("lock_link");
  const std::filesystem::path victim = dir.path() / "victim.txt";
  std::ofstream(victim) << "precious\n";
  std::filesystem::create_directories(dir.path() / "exp");
  std::filesystem::create_symlink(victim, dir.path() / "exp" / ".lock");
  try {
    const FolderLock lock(dir.path() / "exp", ".lock");
    ADD_FAILURE() << "a linked lock was taken";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("symbolic link"), std::string::npos) << error.what();
  }
  std::ifstream in(victim);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "precious\n");
}

// A FIFO (or any special file) in the lock's place is refused at once, not waited on.
TEST(FolderLock, LockThatIsNotARegularFileIsRefused) {
  const TempDir dir("lock_fifo");
  ASSERT_EQ(::mkfifo((dir.path() / ".lock").c_str(), 0644), 0);
  EXPECT_THROW(FolderLock(dir.path(), ".lock"), ConfigError);
  std::filesystem::create_directory(dir.path() / ".lock.1-of-2");
  EXPECT_ANY_THROW(FolderLock(dir.path(), ".lock.1-of-2"));
}

}  // namespace
}  // namespace istlab
