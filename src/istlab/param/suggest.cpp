#include "istlab/param/suggest.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <utility>

namespace istlab {
namespace {

// Names other tools and papers use for istlab's keys and values.
constexpr std::pair<std::string_view, std::string_view> kSynonyms[] = {
    {"alpha", "concentration"},
    {"dirichlet_alpha", "concentration"},
    {"beta", "concentration"},
    {"workers", "num_workers"},
    {"n", "num_workers"},
    {"n_workers", "num_workers"},
    {"nodes", "num_workers"},
    {"clients", "num_workers"},
    {"d", "dim"},
    {"dimension", "dim"},
    {"lr", "step_size"},
    {"learning_rate", "step_size"},
    {"gamma", "step_size"},
    {"stepsize", "step_size"},
    {"tau", "local_steps"},
    {"seed", "seeds"},
    {"iters", "max_iters"},
    {"iterations", "max_iters"},
    {"rounds", "max_iters"},
    {"max_iter", "max_iters"},
    {"lambda", "regularization"},
    {"l2", "regularization"},
    {"weight_decay", "regularization"},
    {"regularisation", "regularization"},
    {"standardization", "standardize"},
    {"standardisation", "standardize"},
    {"normalize", "unit"},
    {"hidden_units", "hidden"},
    {"width", "hidden"},
    {"batch", "batch_size"},
    {"compressor", "sketch"},
    {"sparsifier", "sketch"},
    {"randk", "rand"},
    {"rand_k", "rand"},
    {"permk", "perm"},
    {"perm_k", "perm"},
    {"sgd", "gd"},
    {"local_gd", "local_sgd"},
    {"fedavg", "local_sgd"},
    {"lan", "ethernet"},
    {"internet", "wan"},
    {"infiniband", "datacenter"},
};

// Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::string closest_name(std::string_view given, const std::vector<std::string>& candidates) {
  constexpr std::size_t kLongestName = 64;  // (a hostile value is not compared letter by letter)
  if (given.empty() || given.size() > kLongestName) return {};
  const std::string name = lower(given);
  for (const auto& [synonym, meant] : kSynonyms)
    if (name == synonym &&
        std::find(candidates.begin(), candidates.end(), meant) != candidates.end())
      return std::string(meant);
  // A typo: at most one edit in a short name, two in a longer one.
  const std::size_t allowed = name.size() <= 4 ? 1 : 2;
  std::string best;
  std::size_t best_distance = allowed + 1;
  for (const auto& candidate : candidates) {
    if (candidate.size() > kLongestName) continue;
    const std::size_t distance = edit_distance(name, lower(candidate));
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view given, const std::vector<std::string>& candidates) {
  const std::string meant = closest_name(given, candidates);
  return meant.empty() ? "" : fmt::format(" (did you mean '{}'?)", meant);
}

}  // namespace istlab
