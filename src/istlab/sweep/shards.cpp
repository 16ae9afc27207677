#include "istlab/sweep/shards.hpp"

#include <fmt/core.h>

#include <optional>

#include "istlab/io/build_info.hpp"
#include "istlab/io/files.hpp"
#include "istlab/sweep/lock.hpp"
#include "istlab/sweep/manifest.hpp"
#include "istlab/sweep/store.hpp"
#include "istlab/sweep/sweep.hpp"

namespace istlab {

bool Shard::contains(const Cell& cell) const {
  return count == 1 ||
         static_cast<int>(stable_hash(cell.key) % static_cast<std::uint64_t>(count)) == index - 1;
}

Shard Shard::parse(const std::string& text) {
  Shard shard;
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    std::size_t used = 0;
    shard.index = std::stoi(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("junk");
    const std::string count = text.substr(slash + 1);
    shard.count = std::stoi(count, &used);
    if (used != count.size()) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("--shard {}: expected K/N, e.g. 1/4", text));
  }
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count)
    throw std::invalid_argument(fmt::format("--shard {}: need 1 <= K <= N", text));
  return shard;
}

namespace {

// The shards' common config, and their experiment folders; refuses shards of another
// config or another build.
struct ShardSet {
  std::optional<SweepConfig> config;
  std::string config_hash;
  std::vector<std::filesystem::path> experiment_dirs;
  // What the shards' manifests say of their datasets: merge works from them, never from the
  // files (which may have moved since the shards ran, or live on other machines).
  std::shared_ptr<StoredDatasets> datasets = std::make_shared<StoredDatasets>();

  void add(const std::filesystem::path& manifest_path) {
    const nlohmann::json manifest = read_manifest(manifest_path);
    const std::string hash = manifest["config_hash"].get<std::string>();
    const std::string tag = manifest.value("build_tag", "");
    if (tag != CellStore::build_tag())
      throw ConfigError(
          manifest_path.string(), {}, "build_tag", tag,
          fmt::format("({}) is not this build's {} ({}); merge with the build that ran the shards, "
                      "or rerun them with this one",
                      manifest.value("git_commit", "?"), CellStore::build_tag(),
                      build_info().git_commit));
    if (!config) {
      config = parse_config(
          manifest["config_text"].get<std::string>(), manifest["config_path"].get<std::string>(),
          manifest.value("quick", false), manifest.value("overrides", std::vector<std::string>{}));
      config_hash = hash;
    } else if (hash != config_hash || manifest["experiment"] != config->experiment ||
               manifest.value("overrides", std::vector<std::string>{}) != config->overrides) {
      throw ConfigError(
          manifest_path.string(), {}, "config_hash", hash,
          fmt::format("(experiment {}) differs from the first shard's {} ({})",
                      manifest["experiment"].dump(), config_hash, config->experiment));
    }
    for (auto& [request, facts] : stored_datasets(manifest, manifest_path).by_request) {
      const auto [known, added] = datasets->by_request.emplace(request, facts);
      if (!added && known->second.fingerprint != facts.fingerprint)
        throw ConfigError(
            manifest_path.string(), {}, "datasets", std::nullopt,
            fmt::format("the shards read different data from {} (fingerprints {} and {}): the "
                        "file changed between them; rerun the shards on one version of it",
                        facts.source, known->second.fingerprint, facts.fingerprint));
    }
    experiment_dirs.push_back(manifest_path.parent_path());
  }
};

}  // namespace

std::vector<std::string> merge_shards(const std::vector<std::filesystem::path>& shard_dirs,
                                      const SweepOptions& options, std::ostream& log) {
  ShardSet shards;
  for (const auto& shard_dir : shard_dirs) {
    // A glob such as results/shards/* also takes in files beside the folders (a job's
    // log): they hold no shard. A path that does not exist is still a mistake.
    if (std::filesystem::is_regular_file(shard_dir)) {
      log << fmt::format("merge: skipping {}: not a folder\n", shard_dir.string());
      continue;
    }
    if (!std::filesystem::is_directory(shard_dir))
      throw ConfigError(shard_dir.string(), {}, "", std::nullopt, "not a folder of shard results");
    for (const auto& entry : std::filesystem::directory_iterator(shard_dir))
      if (std::filesystem::exists(entry.path() / "manifest.json"))
        shards.add(entry.path() / "manifest.json");
  }
  if (!shards.config)
    throw ConfigError("merge", {}, "", std::nullopt,
                      "no shard folder holds an experiment with a manifest.json");
  const SweepConfig& config = *shards.config;
  const FolderLock lock(options.out_dir / config.experiment, ".lock");  // as a sweep of it would
  const CellStore store(options.out_dir / config.experiment);
  remove_stale_temporaries(options.out_dir / config.experiment);
  remove_stale_temporaries(options.out_dir / config.experiment / "cells");
  int copied = 0;
  std::vector<std::string> rejected;
  for (const auto& dir : shards.experiment_dirs) {
    if (std::filesystem::equivalent(dir, options.out_dir / config.experiment)) continue;
    copied += store.import_from(dir, &rejected);
  }
  for (const auto& line : rejected) log << "corrupt record " << line << "; not copied\n";
  SweepOptions merged = options;
  merged.shard = Shard{};
  shards.datasets->instead_of_files = true;
  merged.stored_datasets = shards.datasets;
  merged.mode = fmt::format("merge of {} shard folders", shards.experiment_dirs.size());
  const auto missing = assemble_outputs(config, merged, SweepSummary{});
  log << fmt::format("merged {} cell records from {} folders into {}; {} cells missing\n", copied,
                     shards.experiment_dirs.size(), (options.out_dir / config.experiment).string(),
                     missing.size());
  for (const auto& key : missing) log << "missing " << key << '\n';
  return missing;
}

}  // namespace istlab
