#include "istlab/sweep/manifest.hpp"

#include <fmt/core.h>

#include <ctime>
#include <fstream>
#include <map>
#include <thread>

#include "istlab/io/build_info.hpp"
#include "istlab/io/files.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/sweep/store.hpp"
#include "istlab/sweep/sweep.hpp"

namespace istlab {
namespace {

using nlohmann::json;

json to_json(const Value& value) {
  return std::visit([](const auto& v) { return json(v); }, value);
}

json to_json(const std::vector<Value>& values) {
  json list = json::array();
  for (const auto& value : values) list.push_back(to_json(value));
  return list;
}

json steps_json(const StepSizeAxis& axis) {
  return json{{axis.relative ? "relative" : "absolute", axis.values}};
}

// `target[a][b]` for the name "a.b".
json& nested(json& target, const std::string& name) {
  const auto dot = name.find('.');
  return dot == std::string::npos ? target[name]
                                  : nested(target[name.substr(0, dot)], name.substr(dot + 1));
}

std::string host_cpu() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

json resolved_config(const SweepConfig& config) {
  json problem = json::object();
  for (const auto& parameter : problem_parameters())
    nested(problem, parameter.name) = to_json(SweepConfig::values_of(config.problem, parameter));
  problem["seed"] = config.problem_seed;
  json methods = json::array();
  for (const auto& entry : config.methods) {
    json item = json::object();
    for (const auto& parameter : method_parameters())
      item[parameter.name] = to_json(SweepConfig::values_of(entry.values, parameter));
    for (const auto& parameter : sketch_parameters())
      item[parameter.name] = to_json(SweepConfig::values_of(entry.values, parameter));
    if (entry.step_size) item["step_size"] = steps_json(*entry.step_size);
    methods.push_back(item);
  }
  json run = json::object();
  for (const auto& parameter : run_parameters())
    nested(run, parameter.name) = to_json(parameter.get(config.run));
  json network = json::object();
  for (const auto& parameter : cost_parameters())
    network[parameter.name] = to_json(SweepConfig::values_of(config.network, parameter));
  json result = {{"experiment", config.experiment},
                 {"description", config.description},
                 {"problem", problem},
                 {"methods", methods},
                 {"seeds", config.seeds},
                 {"zip", config.zip},
                 {"run", run},
                 {"network", network}};
  if (config.step_size) result["step_size"] = steps_json(*config.step_size);
  return result;
}

std::string iso_time(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void write_manifest(const SweepConfig& config, const SweepOptions& options,
                    const std::filesystem::path& directory, const json& counts) {
  const BuildInfo& build = build_info();
  json manifest = {
      {"experiment", config.experiment},
      {"config_path", config.path},
      {"config_hash", hex_hash(config.text)},
      {"config", resolved_config(config)},
      {"config_text", config.text},
      {"quick", config.quick},
      {"overrides", config.overrides},
      {"command_line", options.command_line},
      {"mode", options.mode},
      {"shard", fmt::format("{}/{}", options.shard.index, options.shard.count)},
      {"istlab_version", build.version},
      {"build_tag", CellStore::build_tag()},
      {"git_commit", build.git_commit},
      {"git_dirty", build.git_dirty},
      {"compiler", build.compiler},
      {"flags", build.flags},
      {"libraries", build.libraries},
      {"host_cpu", host_cpu()},
      {"threads", thread_count(options)},
      {"finished_at", iso_time(std::chrono::system_clock::now())},
      {"files",
       config.run.record_iterates
           ? std::vector<std::string>{"trace.csv", "cells.csv", "timing.csv", "iterates.csv"}
           : std::vector<std::string>{"trace.csv", "cells.csv", "timing.csv"}}};
  manifest.update(counts);
  // Invalid UTF-8 (say, in a command-line path) is replaced, never an error after the work.
  write_file_atomically(directory / "manifest.json",
                        manifest.dump(2, ' ', false, json::error_handler_t::replace) + "\n",
                        /*durable=*/false);
}

json read_manifest(const std::filesystem::path& path) {
  // A manifest holds a config (at most 1 MiB) and counts: anything far larger is not one,
  // and a FIFO or device in its place must not block or exhaust the reader.
  constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{64} << 20;
  FileRead file = read_regular_file(path, kMaxManifestBytes);
  if (file.problem != FileRead::Problem::kNone)
    throw ConfigError(
        path.string(), {}, "", std::nullopt,
        file.problem == FileRead::Problem::kUnreadable
            ? "cannot be read: " + file.reason
            : fmt::format("not a manifest: a manifest is a regular file of at most {} bytes",
                          kMaxManifestBytes));
  try {
    json manifest = json::parse(file.text);
    for (const char* key : {"config_hash", "config_text", "config_path", "experiment"})
      if (!manifest.contains(key) || !manifest[key].is_string())
        throw ConfigError(path.string(), {}, key, std::nullopt,
                          "missing from the manifest, or not a string");
    if (manifest.contains("overrides") &&
        !(manifest["overrides"].is_array() &&
          std::all_of(manifest["overrides"].begin(), manifest["overrides"].end(),
                      [](const json& item) { return item.is_string(); })))
      throw ConfigError(path.string(), {}, "overrides", std::nullopt,
                        "must be a list of the --set KEY=VALUE texts");
    return manifest;
  } catch (const json::exception& error) {
    throw ConfigError(path.string(), {}, "", std::nullopt,
                      fmt::format("not a manifest: {}", error.what()));
  }
}

// The datasets the cells read: where from, their size after preprocessing, and the
// fingerprint of the file(s) that is part of every cell key built on them.
nlohmann::json datasets_json(const std::vector<Cell>& cells, DatasetCache& datasets,
                             StoredDatasets* stored) {
  std::map<std::string, nlohmann::json> found;
  for (const auto& cell : cells) {
    const ProblemFamily& family = problem_family(cell.problem.generator);
    if (family.dataset == nullptr) continue;
    auto add = [&](const DatasetRequest& request) {
      if (!request.names_a_dataset() || found.count(request.key())) return;
      const StoredDataset data = dataset_facts(request, datasets, stored).facts;
      found[request.key()] = {{"source", data.source},
                              {"samples", data.samples},
                              {"features", data.features},
                              {"fingerprint", data.fingerprint}};
    };
    add(family.dataset(cell.problem));
    if (family.test_dataset != nullptr) add(family.test_dataset(cell.problem));
  }
  nlohmann::json list = nlohmann::json::array();
  for (auto& [key, entry] : found) {
    entry["request"] = key;
    list.push_back(std::move(entry));
  }
  return list;
}

StoredDatasets stored_datasets(const nlohmann::json& manifest, const std::filesystem::path& path) {
  StoredDatasets stored;
  const auto list = manifest.find("datasets");
  if (list == manifest.end()) return stored;
  auto refuse = [&](const std::string& key, const std::string& expected) -> void {
    throw ConfigError(path.string(), {}, key, std::nullopt, expected);
  };
  if (!list->is_array()) refuse("datasets", "must be a list of the datasets the cells read");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    const std::string where = fmt::format("datasets[{}]", i);
    if (!entry.is_object()) refuse(where, "must be an object");
    for (const char* key : {"request", "source", "fingerprint"})
      if (!entry.contains(key) || !entry[key].is_string())
        refuse(where + "." + key, "must be a string");
    for (const char* key : {"samples", "features"})
      if (!entry.contains(key) || !entry[key].is_number_integer() || entry[key].get<double>() < 1 ||
          entry[key].get<double>() > 2147483647.0)
        refuse(where + "." + key, "must be a whole number from 1 to 2^31 - 1");
    stored.by_request[entry["request"].get<std::string>()] = {
        entry["source"].get<std::string>(), entry["samples"].get<std::int64_t>(),
        entry["features"].get<std::int64_t>(), entry["fingerprint"].get<std::string>()};
  }
  return stored;
}

}  // namespace istlab
