// The key reference (`istlab keys`, docs/config-reference.md): every key has a meaning and a
// rule, and every key the config decoder accepts is in it.

#include "istlab/sweep/reference.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "istlab/data/catalog.hpp"
#include "istlab/data/split.hpp"
#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/run/cost_model.hpp"
#include "istlab/run/run.hpp"
#include "istlab/run/workload.hpp"
#include "istlab/sketch/sketch.hpp"
#include "istlab/sweep/config.hpp"

namespace istlab {
namespace {

template <class Spec>
void expect_described(const std::vector<Parameter<Spec>>& table, const std::string& section) {
  for (const auto& parameter : table) {
    EXPECT_FALSE(parameter.doc.empty())
        << section << "." << parameter.name
        << " has no meaning: give its table line .means(\"...\") (one line, what the key does)";
    EXPECT_FALSE(parameter.rule.allowed().empty())
        << section << "." << parameter.name << "'s rule does not say what it allows";
    EXPECT_EQ(parameter.doc.find('\n'), std::string::npos) << parameter.name;
  }
}

TEST(ConfigReference, EveryParameterHasAMeaningAndARule) {
  expect_described(problem_parameters(), "problem");
  expect_described(method_parameters(), "methods[]");
  expect_described(sketch_parameters(), "methods[]");
  expect_described(cost_parameters(), "network");
  expect_described(run_parameters(), "run");
}

TEST(ConfigReference, EveryKeyIsDescribedOnce) {
  std::set<std::string> seen;
  for (const auto& key : key_reference()) {
    EXPECT_TRUE(seen.insert(key.key).second) << key.key << " appears twice";
    EXPECT_FALSE(key.doc.empty()) << key.key << " has no meaning";
    EXPECT_FALSE(key.type.empty()) << key.key << " has no type";
    EXPECT_FALSE(key.rule.empty()) << key.key << " has no rule";
  }
  for (const auto& key : config_keys()) EXPECT_TRUE(seen.count(key.key)) << key.key;
}

// The names the decoder allows in one section, from its message for an unknown key.
std::vector<std::string> allowed_in(const std::string& config) {
  try {
    parse_config(config, "keys.yaml");
  } catch (const ConfigError& error) {
    const std::string marker = "allowed here: ";
    const auto at = error.rule.find(marker);
    if (at == std::string::npos) ADD_FAILURE() << error.what();
    std::vector<std::string> names;
    std::string list = error.rule.substr(at + marker.size());
    for (std::size_t start = 0; start <= list.size();) {
      const auto comma = std::min(list.find(", ", start), list.size());
      names.push_back(list.substr(start, comma - start));
      start = comma + 2;
    }
    return names;
  }
  ADD_FAILURE() << "accepted: " << config;
  return {};
}

// Every key the decoder accepts in a section is the start of a key of the reference.
TEST(ConfigReference, CoversEveryKeyTheDecoderAccepts) {
  std::set<std::string> keys;
  for (const auto& key : key_reference()) keys.insert(key.key);
  auto documented = [&](const std::string& prefix) {
    for (const auto& key : keys)
      if (key == prefix || key.rfind(prefix + ".", 0) == 0) return true;
    return false;
  };
  const std::string tail = "methods: [{method: gd}]\nstep_size: 1\n";
  const std::vector<std::pair<std::string, std::string>> sections = {
      {"", "bogus: 1\n" + tail},
      {"problem.", "problem: {bogus: 1}\n" + tail},
      {"problem.dataset.", "problem: {dataset: {bogus: 1}}\n" + tail},
      {"methods[].", "methods: [{method: gd, bogus: 1}]\nstep_size: 1\n"},
      {"step_size.", "methods: [{method: gd}]\nstep_size: {bogus: 1}\n"},
      {"network.", "network: {bogus: 1}\n" + tail},
      {"run.", "run: {bogus: 1}\n" + tail},
      {"run.tolerance.", "run: {tolerance: {bogus: 1}}\n" + tail},
  };
  for (const auto& [prefix, config] : sections) {
    const std::vector<std::string> allowed = allowed_in(config);
    EXPECT_FALSE(allowed.empty()) << config;
    for (const auto& name : allowed)
      EXPECT_TRUE(documented(prefix + name)) << prefix + name << " is not in the key reference";
  }
}

TEST(ConfigReference, MethodReadsFollowsTheRegistry) {
  // gd and local_sgd ignore the sketch; outer_sketch is ist's on quadratics only;
  // batch_size is read on networks only.
  const auto& quadratic = quadratic_kind().unread_method_options;
  const auto& network = network_kind().unread_method_options;
  EXPECT_FALSE(method_reads("gd", "sketch", quadratic));
  EXPECT_TRUE(method_reads("ist", "rand_q", network));
  EXPECT_TRUE(method_reads("ist", "outer_sketch", quadratic));
  EXPECT_FALSE(method_reads("ist", "outer_sketch", network));
  EXPECT_FALSE(method_reads("dcgd", "local_steps", quadratic));
  EXPECT_TRUE(method_reads("local_sgd", "local_steps", quadratic));
  EXPECT_FALSE(method_reads("gd", "batch_size", quadratic));
  EXPECT_TRUE(method_reads("gd", "batch_size", network));
  EXPECT_THROW(method_reads("sgd", "method", quadratic), ParameterError);
  // As reset_unread decides: an option it keeps is read, one it resets is not.
  for (const auto& method : method_names())
    for (const WorkloadKind* kind : workload_kinds()) {
      const auto& unread = kind->unread_method_options;
      MethodSpec spec;
      spec.name = method;
      spec.outer_sketch = false;
      spec.local_steps = 3;
      spec.batch_size = 5;
      SketchSpec sketch;
      sketch.type = SketchType::kPerm;
      reset_unread(spec, sketch, unread);
      EXPECT_EQ(method_reads(method, "outer_sketch", unread), !spec.outer_sketch) << method;
      EXPECT_EQ(method_reads(method, "local_steps", unread), spec.local_steps == 3) << method;
      EXPECT_EQ(method_reads(method, "batch_size", unread), spec.batch_size == 5) << method;
      EXPECT_EQ(method_reads(method, "sketch", unread), sketch.type == SketchType::kPerm) << method;
    }
}

TEST(ConfigReference, OutputsListEveryKey) {
  const std::string list = reference_list();
  const std::string listing = reference_listing();
  const std::string markdown = reference_markdown();
  std::string expected_list;
  for (const auto& key : key_reference()) {
    expected_list += key.key + "\n";
    EXPECT_NE(listing.find(key.key + " "), std::string::npos) << key.key;
    EXPECT_NE(markdown.find("| `" + key.key + "` |"), std::string::npos) << key.key;
  }
  EXPECT_EQ(list, expected_list);
  EXPECT_NE(list.find("problem.dataset.path\n"), std::string::npos);
  EXPECT_NE(list.find("run.record.every\n"), std::string::npos);
  EXPECT_NE(list.find("methods[].local_steps\n"), std::string::npos);
  EXPECT_NE(list.find("network.bandwidth_bits_per_s\n"), std::string::npos);
  EXPECT_EQ(markdown.rfind("<!-- Generated by `istlab keys --markdown`", 0), 0u);
}

TEST(ConfigReference, ReadersOfAKey) {
  auto find = [](const std::string& name) {
    for (const auto& key : key_reference())
      if (key.key == name) return key;
    ADD_FAILURE() << name;
    return KeyReference{};
  };
  EXPECT_EQ(find("problem.dim").families, "all");
  EXPECT_EQ(find("problem.kappa").families, "dense");
  EXPECT_EQ(find("problem.eval_samples").families, "mlp");
  EXPECT_EQ(find("methods[].local_steps").methods, "ist, local_sgd");
  EXPECT_EQ(find("methods[].sketch").methods, "dcgd, ist");
  EXPECT_EQ(find("methods[].batch_size").families, "mlp");
  EXPECT_EQ(find("methods[].batch_size").methods, "all");
  EXPECT_EQ(find("network.latency_s").default_value, "the preset's");
  EXPECT_EQ(find("methods[].method").default_value, "required");
  EXPECT_EQ(find("problem.mu").rule, "> 0");
  EXPECT_EQ(find("problem.dim").rule, "≥ 1");
  EXPECT_EQ(find("problem.dim").column, "dim");
}

}  // namespace
}  // namespace istlab

namespace istlab {
namespace {

// `istlab list` shows every name of every registry a config may use, each with its meaning.
TEST(NamesListing, EveryRegistryNameHasALine) {
  const std::string listing = names_listing();
  std::vector<std::string> names = method_names();
  for (const auto& list :
       {family_names(), sketch_type_names(), sketch_scale_names(), dataset_names(),
        split_kind_names(), feature_scale_names(), network_names()})
    names.insert(names.end(), list.begin(), list.end());
  for (const auto& name : names)
    EXPECT_NE(listing.find("\n  " + name + " "), std::string::npos) << name;
  for (const auto& entry : method_meanings()) EXPECT_FALSE(entry.meaning.empty()) << entry.name;
  for (const auto& entry : family_meanings()) EXPECT_FALSE(entry.meaning.empty()) << entry.name;
}

}  // namespace
}  // namespace istlab
