#include "istlab/sketch/sketch.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <utility>

#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

constexpr std::array<std::pair<SketchType, std::string_view>, 3> kTypeNames = {{
    {SketchType::kIdentity, "identity"},
    {SketchType::kPerm, "perm"},
    {SketchType::kRand, "rand"},
}};
constexpr std::array<std::pair<SketchScale, std::string_view>, 4> kScaleNames = {{
    {SketchScale::kUnbiased, "unbiased"},
    {SketchScale::kNone, "none"},
    {SketchScale::kSqrtN, "sqrt_n"},
    {SketchScale::kDiagPrecond, "diag_precond"},
}};

template <class Table>
std::vector<std::string> names_of(const Table& table) {
  std::vector<std::string> names;
  for (const auto& [value, text] : table) names.emplace_back(text);
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// q distinct coordinates of [0, dim), sorted, uniform over q-subsets. Drawing with
// replacement and topping up is exchangeable in the labels, hence uniform; for q > d/2 the
// complement is drawn instead so the expected number of top-ups stays small.
void draw_distinct_sorted(RandomStream& stream, int dim, int count, std::vector<int>& out,
                          std::vector<int>& scratch) {
  const bool complement = 2 * count > dim;
  const int draws = complement ? dim - count : count;
  std::vector<int>& chosen = complement ? scratch : out;
  chosen.clear();
  if (static_cast<std::int64_t>(draws) * 256 >= dim) {
    // Many draws: mark them in a bitmap (in `scratch`'s storage) and read it back in order.
    // The draws consumed and the set kept are those of the top-up loop below (each top-up
    // draws exactly the missing number, so it stops at the first draw that completes the
    // set), without re-sorting the whole set after every top-up.
    const std::size_t words = (static_cast<std::size_t>(dim) + 31) / 32;
    scratch.assign(words, 0);
    auto* bits = reinterpret_cast<std::uint32_t*>(scratch.data());
    for (int distinct = 0; distinct < draws;) {
      const auto j = static_cast<std::uint32_t>(stream.below(dim));
      const std::uint32_t mask = 1u << (j % 32);
      if ((bits[j / 32] & mask) == 0) bits[j / 32] |= mask, ++distinct;
    }
    out.clear();
    for (std::size_t word = 0; word < words; ++word) {
      // Kept coordinates are the set bits, or the clear ones when drawing the complement.
      std::uint32_t kept = complement ? ~bits[word] : bits[word];
      if (word + 1 == words && dim % 32 != 0) kept &= (1u << (dim % 32)) - 1;
      for (; kept != 0; kept &= kept - 1)
        out.push_back(static_cast<int>(32 * word) + std::countr_zero(kept));
    }
    return;
  }
  while (static_cast<int>(chosen.size()) < draws) {
    const int missing = draws - static_cast<int>(chosen.size());
    for (int t = 0; t < missing; ++t) chosen.push_back(static_cast<int>(stream.below(dim)));
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  }
  if (!complement) return;
  out.clear();
  auto excluded = chosen.begin();
  for (int j = 0; j < dim; ++j) {
    if (excluded != chosen.end() && *excluded == j) {
      ++excluded;
    } else {
      out.push_back(j);
    }
  }
}

}  // namespace

std::string_view name(SketchType type) {
  for (const auto& [value, text] : kTypeNames)
    if (value == type) return text;
  return "?";
}

std::string_view name(SketchScale scale) {
  for (const auto& [value, text] : kScaleNames)
    if (value == scale) return text;
  return "?";
}

std::vector<std::string> sketch_type_names() { return names_of(kTypeNames); }

std::vector<NameAndMeaning> sketch_type_meanings() {
  return {{"identity", "every worker keeps every coordinate (no sketch)"},
          {"perm", "Perm: the coordinates split into n disjoint blocks, one per worker"},
          {"rand", "Rand-q: each worker keeps q coordinates of its own drawing (rand_q)"}};
}

std::vector<NameAndMeaning> sketch_scale_meanings() {
  return {{"unbiased", "c = n/m_j for perm, d/q for rand: the unbiased scale"},
          {"none", "c = 1: kept coordinates unscaled"},
          {"sqrt_n", "c = √(unbiased scale): the paper's variant for homogeneous problems"},
          {"diag_precond", "c = √(unbiased scale)·(L_i)_jj^(−1/2): the paper's preconditioner"}};
}
std::vector<std::string> sketch_scale_names() { return names_of(kScaleNames); }

SketchType parse_sketch_type(std::string_view text) {
  for (const auto& [value, candidate] : kTypeNames)
    if (candidate == text) return value;
  throw std::invalid_argument(
      fmt::format("unknown sketch '{}'; valid: {}", text, joined(sketch_type_names())));
}

SketchScale parse_sketch_scale(std::string_view text) {
  for (const auto& [value, candidate] : kScaleNames)
    if (candidate == text) return value;
  throw std::invalid_argument(
      fmt::format("unknown scale '{}'; valid: {}", text, joined(sketch_scale_names())));
}

namespace {

// An enum field, written in configs and CSV by its name.
template <class Enum>
Parameter<SketchSpec> named_field(std::string name, Enum SketchSpec::*member, std::string_view what,
                                  std::vector<std::string> (*names)(),
                                  Enum (*parse)(std::string_view)) {
  Parameter<SketchSpec> parameter;
  parameter.name = parameter.column = parameter.label = std::move(name);
  parameter.type = ValueType::kText;
  parameter.rule = one_of(what, names);
  parameter.get = [member](const SketchSpec& spec) -> Value {
    return std::string(istlab::name(spec.*member));
  };
  parameter.set = [member, parse](SketchSpec& spec, const Value& value) {
    spec.*member = parse(text_of(value));
  };
  return parameter;
}

}  // namespace

const std::vector<Parameter<SketchSpec>>& sketch_parameters() {
  static const std::vector<Parameter<SketchSpec>> table = {
      named_field("sketch", &SketchSpec::type, "a sketch", sketch_type_names, parse_sketch_type)
          .means("C_i, drawn per round and worker: identity (every coordinate), perm (worker i "
                 "keeps its block of a random permutation) or rand (q random coordinates)"),
      named_field("scale", &SketchSpec::scale, "a scale", sketch_scale_names, parse_sketch_scale)
          .means("c_ij of a kept coordinate: unbiased (n for perm, d/q for rand), none (1), "
                 "sqrt_n (√unbiased) or diag_precond (√unbiased·(L_i)_jj^(−1/2), quadratics only)"),
      field("rand_q", &SketchSpec::rand_q, at_least(0, " (0 means ⌈d/n⌉)"), "rand_q", "q")
          .means("rand: q, the coordinates each worker keeps, at most d (0: ⌈d/n⌉, a perm "
                 "block's size)"),
  };
  return table;
}

std::string SketchSpec::key() const {
  std::string text;
  for (const auto& parameter : sketch_parameters())
    text += fmt::format("|{}={}", parameter.label, format_value(parameter.get(*this)));
  return text;
}

void SketchSpec::validate(int dim) const {
  check_all(sketch_parameters(), *this);
  if (rand_q > dim)
    throw ParameterError("rand_q", std::to_string(rand_q),
                         fmt::format("must be in [1, dim = {}] (or 0 for ⌈d/n⌉)", dim), {"dim"});
}

void SketchSpec::resolve(int dim, int num_workers) {
  // docs/theory.md §2 defines scales for perm and rand; the identity keeps every coordinate at 1.
  if (type == SketchType::kIdentity) scale = SketchSpec{}.scale;
  rand_q = type == SketchType::kRand ? resolved_rand_q(dim, num_workers) : 0;
}

int SketchSpec::resolved_rand_q(int dim, int num_workers) const {
  return rand_q > 0
             ? rand_q
             : static_cast<int>((static_cast<long long>(dim) + num_workers - 1) / num_workers);
}

double RoundSketch::mean_support() const {
  std::size_t total = 0;
  for (const auto& worker : workers) total += worker.indices.size();
  return static_cast<double>(total) / static_cast<double>(workers.size());
}

Sketcher::Sketcher(const SketchSpec& spec, const Quadratic& problem)
    : spec_(spec),
      problem_(&problem),
      dim_(problem.dim()),
      num_workers_(problem.num_workers()),
      rand_q_(spec.resolved_rand_q(problem.dim(), problem.num_workers())) {
  spec_.validate(dim_);
}

Sketcher::Sketcher(const SketchSpec& spec, int dim, int num_workers, int layer)
    : spec_(spec),
      problem_(nullptr),
      dim_(dim),
      num_workers_(num_workers),
      rand_q_(spec.resolved_rand_q(dim, num_workers)),
      layer_(layer) {
  spec_.validate(dim_);
  if (spec_.scale == SketchScale::kDiagPrecond)
    throw ParameterError("scale", "diag_precond",
                         "needs a quadratic's diagonal; use unbiased, none or sqrt_n here");
}

double scale_value(SketchScale scale, double unbiased, double diagonal) {
  switch (scale) {
    case SketchScale::kUnbiased:
      return unbiased;
    case SketchScale::kNone:
      return 1.0;
    case SketchScale::kSqrtN:
      return std::sqrt(unbiased);
    case SketchScale::kDiagPrecond:
      return std::sqrt(unbiased / diagonal);
  }
  return unbiased;
}

int Sketcher::max_support() const {
  switch (spec_.type) {
    case SketchType::kIdentity:
      return dim_;
    case SketchType::kPerm:
      return dim_ >= num_workers_
                 ? static_cast<int>((static_cast<long long>(dim_) + num_workers_ - 1) /
                                    num_workers_)
                 : 1;
    case SketchType::kRand:
      return rand_q_;
  }
  return dim_;
}

RoundSketch Sketcher::make_round() const {
  RoundSketch round;
  round.workers.resize(num_workers_);
  const int capacity = max_support();
  for (auto& worker : round.workers) {
    worker.indices.reserve(capacity);
    worker.scales.reserve(capacity);
    if (spec_.type == SketchType::kRand) worker.scratch.reserve(dim_);
  }
  if (spec_.type == SketchType::kPerm) {
    round.coordinate_order.resize(dim_);
    round.worker_order.resize(num_workers_);
    round.owner.resize(dim_);
    round.coordinate_scales.resize(dim_);
  }
  if (spec_.type == SketchType::kIdentity) {
    // The identity never changes: fill it once here.
    for (int worker = 0; worker < num_workers_; ++worker) {
      auto& sketch = round.workers[worker];
      sketch.indices.resize(dim_);
      std::iota(sketch.indices.begin(), sketch.indices.end(), 0);
      sketch.scales.resize(dim_);
      for (int j = 0; j < dim_; ++j) sketch.scales[j] = scale_of(worker, j, 1.0);
    }
  }
  return round;
}

void Sketcher::draw(std::uint64_t seed, std::int64_t round_index, RoundSketch& round) const {
  switch (spec_.type) {
    case SketchType::kIdentity:
      return;
    case SketchType::kPerm:
      return draw_perm(seed, round_index, round);
    case SketchType::kRand:
      return draw_rand(seed, round_index, round);
  }
}

void Sketcher::draw_perm(std::uint64_t seed, std::int64_t round_index, RoundSketch& round) const {
  RandomStream stream(seed, StreamPurpose::kRoundShared, static_cast<std::uint64_t>(round_index),
                      static_cast<std::uint64_t>(layer_));
  std::iota(round.coordinate_order.begin(), round.coordinate_order.end(), 0);
  stream.shuffle(std::span<int>(round.coordinate_order));
  std::iota(round.worker_order.begin(), round.worker_order.end(), 0);
  stream.shuffle(std::span<int>(round.worker_order));

  if (dim_ >= num_workers_) {
    // Disjoint blocks of the permutation; the first d mod n workers of the shuffled
    // worker order get the larger blocks, so P(j ∈ S_i) = 1/n for every i.
    // Mark each coordinate's worker, then read the marks in coordinate order: every S_i
    // comes out sorted in O(d), with no sort of the blocks.
    const int base = dim_ / num_workers_;
    const int larger = dim_ % num_workers_;
    int start = 0;
    for (int rank = 0; rank < num_workers_; ++rank) {
      const int worker = round.worker_order[rank];
      const int size = base + (rank < larger ? 1 : 0);
      for (int k = start; k < start + size; ++k) round.owner[round.coordinate_order[k]] = worker;
      round.workers[worker].indices.clear();
      start += size;
    }
    for (int worker = 0; worker < num_workers_; ++worker) round.workers[worker].scales.clear();
    for (int j = 0; j < dim_; ++j) {
      const int worker = round.owner[j];
      const double scale = scale_of(worker, j, static_cast<double>(num_workers_));
      round.workers[worker].indices.push_back(j);
      round.workers[worker].scales.push_back(scale);
      round.coordinate_scales[j] = scale;
    }
    round.partition = true;
    return;
  }
  round.partition = false;
  // d < n: worker at rank t keeps coordinate coordinate_order[t mod d]; the first n mod d
  // coordinates of that order are held by one worker more. Scale n / m_j.
  const int base = num_workers_ / dim_;
  const int larger = num_workers_ % dim_;
  for (int rank = 0; rank < num_workers_; ++rank) {
    const int slot = rank % dim_;
    const int coordinate = round.coordinate_order[slot];
    const int holders = base + (slot < larger ? 1 : 0);
    const int worker = round.worker_order[rank];
    auto& sketch = round.workers[worker];
    sketch.indices.assign(1, coordinate);
    sketch.scales.assign(1,
                         scale_of(worker, coordinate, static_cast<double>(num_workers_) / holders));
  }
}

void Sketcher::draw_rand(std::uint64_t seed, std::int64_t round_index, RoundSketch& round) const {
  const double unbiased = static_cast<double>(dim_) / rand_q_;
  for (int worker = 0; worker < num_workers_; ++worker) {
    RandomStream stream(
        seed, StreamPurpose::kWorker, static_cast<std::uint64_t>(round_index),
        static_cast<std::uint64_t>(worker) | (static_cast<std::uint64_t>(layer_) << 32));
    auto& sketch = round.workers[worker];
    draw_distinct_sorted(stream, dim_, rand_q_, sketch.indices, sketch.scratch);
    sketch.scales.resize(rand_q_);
    for (int t = 0; t < rand_q_; ++t)
      sketch.scales[t] = scale_of(worker, sketch.indices[t], unbiased);
  }
}

}  // namespace istlab
