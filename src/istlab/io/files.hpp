#pragma once
// File helpers: atomic writes (never a half-written result) and stable hashes.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace istlab {

// Writes `content` to a temporary file beside `path`, then renames it over `path`: a
// reader sees the old file or the new one, never a part, even if the process is killed.
// `durable` also fsyncs before the rename, so the file survives a power loss; it costs
// milliseconds per file. Throws std::runtime_error.
void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           bool durable = true);

// 64-bit FNV-1a: stable across platforms and builds, for cell keys and config hashes.
std::uint64_t stable_hash(std::string_view text);
std::string hex_hash(std::string_view text);

}  // namespace istlab
