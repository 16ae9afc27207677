#include "istlab/data/split.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <utility>

#include "istlab/param/parameter.hpp"

namespace istlab {
namespace {

using SamplesOfWorker = std::vector<std::vector<std::int64_t>>;

constexpr std::array<std::pair<SplitKind, std::string_view>, 4> kKindNames = {{
    {SplitKind::kIid, "iid"},
    {SplitKind::kDirichlet, "dirichlet"},
    {SplitKind::kClasses, "classes"},
    {SplitKind::kSorted, "sorted"},
}};

// Which part of a split a sub-stream serves; distinct stages never share numbers.
enum class SplitStage : std::uint64_t {
  kIidPermutation = 1,
  kDirichletClass = 2,  // (attempt, class): the class's shuffle, then its n Gamma draws
  kClassChoice = 3,     // (worker): the classes a worker holds
  kClassShuffle = 4,    // (class): the order in which a class's samples are shared out
};

RandomStream split_stream(std::uint64_t seed, SplitStage stage, std::uint64_t attempt,
                          std::uint64_t item) {
  return RandomStream(seed, StreamPurpose::kSplit,
                      (static_cast<std::uint64_t>(stage) << 32) | attempt, item);
}

// Start of part `part` when `count` items are cut into `parts` consecutive blocks as
// numpy.array_split does: the first count mod parts blocks hold one item more.
std::int64_t block_start(std::int64_t count, std::int64_t parts, std::int64_t part) {
  return part * (count / parts) + std::min(part, count % parts);
}

std::vector<std::vector<std::int64_t>> group_by_class(const std::vector<int>& class_of_sample,
                                                      int num_classes) {
  std::vector<std::vector<std::int64_t>> samples_of_class(num_classes);
  for (std::size_t i = 0; i < class_of_sample.size(); ++i) {
    const int label = class_of_sample[i];
    if (label < 0 || label >= num_classes)
      throw std::invalid_argument(
          fmt::format("sample {} has class {}, outside [0, {})", i, label, num_classes));
    samples_of_class[label].push_back(static_cast<std::int64_t>(i));
  }
  return samples_of_class;
}

void sort_each(SamplesOfWorker& samples_of_worker) {
  for (auto& samples : samples_of_worker) std::sort(samples.begin(), samples.end());
}

// `ordered` cut into num_workers consecutive blocks whose sizes differ by at most 1.
SamplesOfWorker cut_into_blocks(const std::vector<std::int64_t>& ordered, int num_workers) {
  const auto count = static_cast<std::int64_t>(ordered.size());
  SamplesOfWorker samples_of_worker(num_workers);
  for (int w = 0; w < num_workers; ++w)
    samples_of_worker[w].assign(ordered.begin() + block_start(count, num_workers, w),
                                ordered.begin() + block_start(count, num_workers, w + 1));
  sort_each(samples_of_worker);
  return samples_of_worker;
}

SamplesOfWorker split_iid(std::int64_t num_samples, int num_workers, std::uint64_t seed) {
  std::vector<std::int64_t> order(num_samples);
  std::iota(order.begin(), order.end(), std::int64_t{0});
  RandomStream stream = split_stream(seed, SplitStage::kIidPermutation, 0, 0);
  stream.shuffle(std::span<std::int64_t>(order));
  return cut_into_blocks(order, num_workers);
}

SamplesOfWorker split_sorted(const std::vector<std::vector<std::int64_t>>& samples_of_class,
                             int num_workers) {
  std::vector<std::int64_t> by_label;
  for (const auto& members : samples_of_class)
    by_label.insert(by_label.end(), members.begin(), members.end());
  return cut_into_blocks(by_label, num_workers);
}

// Cut points of a class of `class_size` shuffled samples: worker w takes [cut[w], cut[w+1]).
// Shares are exp(log_gamma − max) over the eligible workers, i.e. the Dirichlet proportions
// up to a common factor, so no eligible share underflows to a zero total.
std::vector<std::int64_t> dirichlet_cuts(const std::vector<double>& log_gamma,
                                         const std::vector<bool>& eligible,
                                         std::int64_t class_size) {
  const std::size_t num_workers = log_gamma.size();
  double max_log = -std::numeric_limits<double>::infinity();
  std::size_t last_eligible = 0;
  for (std::size_t w = 0; w < num_workers; ++w)
    if (eligible[w]) max_log = std::max(max_log, log_gamma[w]), last_eligible = w;
  std::vector<double> share(num_workers, 0.0);
  double total = 0.0;
  for (std::size_t w = 0; w < num_workers; ++w)
    if (eligible[w]) total += share[w] = std::exp(log_gamma[w] - max_log);
  std::vector<std::int64_t> cut(num_workers + 1, 0);
  double cumulative = 0.0;
  for (std::size_t w = 0; w < num_workers; ++w) {
    cumulative += share[w];
    const auto end =
        static_cast<std::int64_t>(std::floor(cumulative / total * static_cast<double>(class_size)));
    // The last eligible worker takes the rest, so rounding never hands samples to a full one.
    cut[w + 1] = w >= last_eligible ? class_size : std::clamp(end, cut[w], class_size);
  }
  return cut;
}

// One NIID-Bench attempt (see split.hpp); the per-worker lists are unsorted.
SamplesOfWorker dirichlet_attempt(const std::vector<std::vector<std::int64_t>>& samples_of_class,
                                  std::int64_t num_samples, int num_workers, double concentration,
                                  std::uint64_t seed, int attempt) {
  SamplesOfWorker samples_of_worker(num_workers);
  std::vector<double> log_gamma(num_workers);
  std::vector<bool> eligible(num_workers);
  for (std::size_t c = 0; c < samples_of_class.size(); ++c) {
    if (samples_of_class[c].empty()) continue;  // nothing to share; its stream is unused
    RandomStream stream = split_stream(seed, SplitStage::kDirichletClass, attempt, c);
    std::vector<std::int64_t> members = samples_of_class[c];
    stream.shuffle(std::span<std::int64_t>(members));
    for (auto& value : log_gamma) value = sample_log_gamma(stream, concentration);
    // Balancing: size < N/n, in integers. Some worker is always eligible, as the samples
    // placed so far number fewer than N.
    for (int w = 0; w < num_workers; ++w)
      eligible[w] =
          static_cast<std::int64_t>(samples_of_worker[w].size()) * num_workers < num_samples;
    const auto class_size = static_cast<std::int64_t>(members.size());
    const std::vector<std::int64_t> cut = dirichlet_cuts(log_gamma, eligible, class_size);
    for (int w = 0; w < num_workers; ++w)
      samples_of_worker[w].insert(samples_of_worker[w].end(), members.begin() + cut[w],
                                  members.begin() + cut[w + 1]);
  }
  return samples_of_worker;
}

SamplesOfWorker split_dirichlet(const std::vector<std::vector<std::int64_t>>& samples_of_class,
                                std::int64_t num_samples, int num_workers, const SplitSpec& spec,
                                std::uint64_t seed) {
  for (int attempt = 0; attempt < kDirichletMaxAttempts; ++attempt) {
    SamplesOfWorker samples_of_worker = dirichlet_attempt(
        samples_of_class, num_samples, num_workers, spec.concentration, seed, attempt);
    const bool enough =
        std::all_of(samples_of_worker.begin(), samples_of_worker.end(), [&](const auto& samples) {
          return static_cast<std::int64_t>(samples.size()) >= spec.min_samples;
        });
    if (enough) {
      sort_each(samples_of_worker);
      return samples_of_worker;
    }
  }
  throw std::invalid_argument(fmt::format(
      "dirichlet split: no draw gave every worker at least {} samples in {} attempts; lower "
      "min_samples or raise the concentration α (now {})",
      spec.min_samples, kDirichletMaxAttempts, spec.concentration));
}

// holders[c] = the workers holding class c, ascending: w mod C, then k−1 distinct uniform
// classes per worker, drawn by rejecting repeats as NIID-Bench does.
std::vector<std::vector<int>> draw_class_holders(int num_classes, int num_workers,
                                                 int classes_per_worker, std::uint64_t seed) {
  std::vector<std::vector<int>> holders(num_classes);
  std::vector<int> held;
  for (int w = 0; w < num_workers; ++w) {
    RandomStream stream = split_stream(seed, SplitStage::kClassChoice, 0, w);
    held.assign(1, w % num_classes);
    while (static_cast<int>(held.size()) < classes_per_worker) {
      const auto candidate = static_cast<int>(stream.below(num_classes));
      if (std::find(held.begin(), held.end(), candidate) == held.end()) held.push_back(candidate);
    }
    for (int c : held) holders[c].push_back(w);
  }
  return holders;
}

SamplesOfWorker split_classes(const std::vector<std::vector<std::int64_t>>& samples_of_class,
                              int num_workers, int classes_per_worker, std::uint64_t seed) {
  const auto num_classes = static_cast<int>(samples_of_class.size());
  const auto holders = draw_class_holders(num_classes, num_workers, classes_per_worker, seed);
  SamplesOfWorker samples_of_worker(num_workers);
  for (int c = 0; c < num_classes; ++c) {
    if (holders[c].empty()) continue;  // as in NIID-Bench, an unheld class goes to nobody
    std::vector<std::int64_t> members = samples_of_class[c];
    RandomStream stream = split_stream(seed, SplitStage::kClassShuffle, 0, c);
    stream.shuffle(std::span<std::int64_t>(members));
    const auto class_size = static_cast<std::int64_t>(members.size());
    const auto num_holders = static_cast<std::int64_t>(holders[c].size());
    for (std::int64_t h = 0; h < num_holders; ++h) {
      auto& samples = samples_of_worker[holders[c][h]];
      samples.insert(samples.end(), members.begin() + block_start(class_size, num_holders, h),
                     members.begin() + block_start(class_size, num_holders, h + 1));
    }
  }
  for (int w = 0; w < num_workers; ++w)
    if (samples_of_worker[w].empty())
      throw std::invalid_argument(fmt::format(
          "classes split: worker {} received no samples (its classes have fewer samples than "
          "workers holding them); use fewer workers, another classes_per_worker or seed",
          w));
  sort_each(samples_of_worker);
  return samples_of_worker;
}

std::string joined_names() {
  std::string text;
  for (const auto& [kind, text_of_kind] : kKindNames)
    text += (text.empty() ? "" : ", ") + std::string(text_of_kind);
  return text;
}

}  // namespace

void SplitSpec::validate(int num_workers, std::int64_t num_samples, int num_classes) const {
  const auto text = [](auto value) { return fmt::format("{}", value); };
  // Below ~1e-307 log(U)/α overflows to −∞ and the Dirichlet shares would be 0/0.
  if (!(concentration >= 1e-300 && std::isfinite(concentration)))
    throw ParameterError("concentration", text(concentration),
                         "must be positive (at least 1e-300) and finite");
  if (classes_per_worker < 1)
    throw ParameterError("classes_per_worker", text(classes_per_worker), "must be at least 1");
  if (min_samples < 0) throw ParameterError("min_samples", text(min_samples), "must be at least 0");
  if (num_classes < 1) throw ParameterError("num_classes", text(num_classes), "must be at least 1");
  if (num_workers < 1) throw ParameterError("num_workers", text(num_workers), "must be at least 1");
  if (num_workers > num_samples)
    throw ParameterError("num_workers", text(num_workers),
                         fmt::format("must not exceed the number of samples, {}", num_samples));
  if (kind == SplitKind::kDirichlet &&
      static_cast<std::int64_t>(min_samples) * num_workers > num_samples)
    throw ParameterError("min_samples", text(min_samples),
                         fmt::format("times num_workers ({}) must not exceed the number of "
                                     "samples, {}",
                                     num_workers, num_samples),
                         {"num_workers"});
  if (kind == SplitKind::kClasses && classes_per_worker > num_classes)
    throw ParameterError("classes_per_worker", text(classes_per_worker),
                         fmt::format("must not exceed the number of classes, {}", num_classes));
}

std::string_view name(SplitKind kind) {
  for (const auto& [value, text] : kKindNames)
    if (value == kind) return text;
  return "?";
}

SplitKind parse_split_kind(std::string_view text) {
  for (const auto& [value, candidate] : kKindNames)
    if (candidate == text) return value;
  throw std::invalid_argument(fmt::format("unknown split '{}'; valid: {}", text, joined_names()));
}

std::vector<std::string> split_kind_names() {
  std::vector<std::string> names;
  for (const auto& [kind, text] : kKindNames) names.emplace_back(text);
  return names;
}

std::vector<std::vector<std::int64_t>> split_samples(const std::vector<int>& class_of_sample,
                                                     int num_classes, int num_workers,
                                                     const SplitSpec& spec, std::uint64_t seed) {
  const auto num_samples = static_cast<std::int64_t>(class_of_sample.size());
  spec.validate(num_workers, num_samples, num_classes);
  const auto samples_of_class = group_by_class(class_of_sample, num_classes);
  switch (spec.kind) {
    case SplitKind::kIid:
      return split_iid(num_samples, num_workers, seed);
    case SplitKind::kDirichlet:
      return split_dirichlet(samples_of_class, num_samples, num_workers, spec, seed);
    case SplitKind::kClasses:
      return split_classes(samples_of_class, num_workers, spec.classes_per_worker, seed);
    case SplitKind::kSorted:
      return split_sorted(samples_of_class, num_workers);
  }
  throw std::invalid_argument("unknown split kind");
}

std::vector<std::int64_t> sample_counts(
    const std::vector<std::vector<std::int64_t>>& samples_of_worker) {
  std::vector<std::int64_t> counts;
  counts.reserve(samples_of_worker.size());
  for (const auto& samples : samples_of_worker)
    counts.push_back(static_cast<std::int64_t>(samples.size()));
  return counts;
}

std::vector<std::vector<std::int64_t>> label_histograms(
    const std::vector<int>& class_of_sample, int num_classes,
    const std::vector<std::vector<std::int64_t>>& samples_of_worker) {
  const auto num_samples = static_cast<std::int64_t>(class_of_sample.size());
  std::vector<std::vector<std::int64_t>> histogram(
      samples_of_worker.size(), std::vector<std::int64_t>(std::max(num_classes, 0), 0));
  for (std::size_t w = 0; w < samples_of_worker.size(); ++w) {
    for (std::int64_t sample : samples_of_worker[w]) {
      if (sample < 0 || sample >= num_samples)
        throw std::invalid_argument(
            fmt::format("worker {} holds sample {}, outside [0, {})", w, sample, num_samples));
      const int label = class_of_sample[sample];
      if (label < 0 || label >= num_classes)
        throw std::invalid_argument(
            fmt::format("sample {} has class {}, outside [0, {})", sample, label, num_classes));
      ++histogram[w][label];
    }
  }
  return histogram;
}

double sample_log_gamma(RandomStream& stream, double shape) {
  if (!(shape > 0.0 && std::isfinite(shape)))
    throw std::invalid_argument(
        fmt::format("Gamma shape = {}: must be positive and finite", shape));
  if (shape < 1.0) {
    // Marsaglia–Tsang's boost, in logs: log G(a) = log G(a+1) + log(U)/a. Two statements fix
    // the order of the draws.
    const double log_boosted = sample_log_gamma(stream, shape + 1.0);
    return log_boosted + std::log(stream.uniform()) / shape;
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    const double x = stream.normal();
    const double root = 1.0 + c * x;
    if (root <= 0.0) continue;
    const double v = root * root * root;
    const double u = stream.uniform();
    const double x_squared = x * x;
    // The cheap squeeze accepts ~98% of draws; the exact log test decides the rest.
    if (u < 1.0 - 0.0331 * x_squared * x_squared ||
        std::log(u) < 0.5 * x_squared + d * (1.0 - v + std::log(v)))
      return std::log(d) + std::log(v);
  }
}

double sample_gamma(RandomStream& stream, double shape) {
  return std::exp(sample_log_gamma(stream, shape));
}

std::vector<NameAndMeaning> split_kind_meanings() {
  return {
      {"iid", "samples shuffled and dealt out evenly (sizes differ by at most 1)"},
      {"dirichlet", "each class shared out in proportions drawn from Dir(α), α = concentration"},
      {"classes", "each worker holds classes_per_worker classes"},
      {"sorted", "samples sorted by label and cut into contiguous blocks (most skewed)"}};
}

}  // namespace istlab
