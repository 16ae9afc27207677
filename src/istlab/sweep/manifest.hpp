#pragma once
// manifest.json: the resolved config (every key, defaults included, from the parameter
// tables), the config's text and hash, the build, the host and the counts of a sweep.

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "istlab/data/catalog.hpp"
#include "istlab/sweep/config.hpp"
#include "istlab/sweep/grid.hpp"

namespace istlab {

struct SweepOptions;

// The config with every default filled in, as JSON.
nlohmann::json resolved_config(const SweepConfig& config);

// Writes OUT/<experiment>/manifest.json with `counts` (cells, statuses, this run) merged in.
void write_manifest(const SweepConfig& config, const SweepOptions& options,
                    const std::filesystem::path& directory, const nlohmann::json& counts);

// A manifest read back (by `istlab merge`); throws ConfigError naming the file when it is
// not one.
nlohmann::json read_manifest(const std::filesystem::path& path);

// The datasets the cells read: where from, their size after preprocessing, and the
// fingerprint of the file(s) that is part of every cell key built on them.
// Datasets are read through `datasets` unless `stored` stands in for them (dataset_facts).
nlohmann::json datasets_json(const std::vector<Cell>& cells, DatasetCache& datasets,
                             StoredDatasets* stored = nullptr);

// The "datasets" a manifest lists, read back; throws ConfigError naming the manifest and the
// entry's key when one is malformed.
StoredDatasets stored_datasets(const nlohmann::json& manifest, const std::filesystem::path& path);

std::string iso_time(std::chrono::system_clock::time_point time);  // UTC, ISO 8601

}  // namespace istlab
