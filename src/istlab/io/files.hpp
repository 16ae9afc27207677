#pragma once
// File helpers: atomic writes (never a half-written result), cleanup of the temporary files
// of killed writers, stable hashes, and UTF-8 checks for text read back from files.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace istlab {

// Writes `content` to a temporary file beside `path`, then renames it over `path`: a
// reader sees the old file or the new one, never a part, even if the process is killed.
// `durable` also fsyncs before the rename, so the file survives a power loss; it costs
// milliseconds per file. Throws std::runtime_error naming `path` and the reason, e.g.
// "file size limit reached (ulimit -f)" (EFBIG, once SIGXFSZ is ignored; by default that
// signal kills the process) or "no space left on device"; it removes its temporary file
// whenever it throws.
void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           bool durable = true);

// A whole file read only once it is known to be a regular file of at most `max_bytes` (by
// fstat on the open descriptor, so nothing can be swapped in between): a FIFO would block, a
// link to /dev/zero never end, and a huge file be read whole before being refused.
struct FileRead {
  enum class Problem { kNone, kUnreadable, kFolder, kNotRegular, kTooLarge, kGrew };
  Problem problem = Problem::kNone;
  std::string text;        // the file's bytes, when problem is kNone
  std::uint64_t size = 0;  // its size, for kTooLarge
  std::string reason;      // why it could not be opened or read, for kUnreadable
};
FileRead read_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// The temporary file write_file_atomically uses for `path` in process `pid`:
// ".<file name>.tmp.<machine>.<pid>" beside `path`. <machine> is 16 hex digits naming this
// host and pid namespace, so a folder shared by several machines (MPI ranks, a cluster's
// shared disk) never mistakes another machine's pid for one of ours.
std::filesystem::path temporary_path(const std::filesystem::path& path, int pid);

// Removes the temporary files in `folder` (not its subfolders) that processes of this
// machine left when they died mid-write (SIGKILL, power loss). Only names of exactly the
// temporary_path() form with this machine's tag are considered, and only when no process
// with that pid exists: a live writer's file, another machine's, and every other file are
// left alone. Returns how many were removed; a missing folder removes none. Never throws.
int remove_stale_temporaries(const std::filesystem::path& folder);

// 64-bit FNV-1a: stable across platforms and builds, for cell keys and config hashes.
std::uint64_t stable_hash(std::string_view text);
std::string hex_hash(std::string_view text);

// The offset of the first byte of `text` that is not part of well-formed UTF-8 (Unicode
// Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8_offset(std::string_view text);
// `text` with each byte that is not well-formed UTF-8 written as the four characters
// "\xNN" (lower-case hex): the result is valid UTF-8 (JSON writers reject anything else)
// and still shows which bytes were there.
std::string escape_invalid_utf8(std::string_view text);
// `text` safe to print on one line of a terminal: bytes that are not UTF-8 as above, and
// control characters as "\xNN" too, so a hostile file name, key or token can
// neither move the cursor nor break a log line.
std::string printable(std::string_view text);

}  // namespace istlab
