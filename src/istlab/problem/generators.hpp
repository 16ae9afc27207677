#pragma once
// Problem families: the generators of SPEC §1.1, each fully determined by its parameters
// and seed. A family is one make function plus one registry entry that says which
// parameters it reads, its rules across them, its storage, its memory and whether the
// theory of SPEC §4 applies.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "istlab/param/parameter.hpp"
#include "istlab/problem/quadratic.hpp"

namespace istlab {

struct ProblemSpec {
  std::string generator = "tridiagonal";
  int dim = 100;
  int num_workers = 10;
  // `s` for tridiagonal (≥ 0), `h` for dense (in [0, 1]); ignored by counterexample.
  double heterogeneity = 0.0;
  bool interpolation = false;  // all b_i = 0
  double mu = 1e-6;            // tridiagonal: λ_min(L̄) after the shift
  double kappa = 100.0;        // dense: eigenvalues log-uniform in [1, kappa]
  std::uint64_t seed = 0;

  // Throws ParameterError for a value its family does not accept.
  void validate() const;
  // Canonical text of every field the generator reads: equal keys, equal problems.
  std::string key() const;
  // Sets the fields the generator does not read to "not applicable" (see reset_unread).
  void reset_unread();
};

// Every `problem:` key but `seed` (which sweeps set from `problem.seed` or `seeds`).
const std::vector<Parameter<ProblemSpec>>& problem_parameters();

// Runs body(i) for i in [0, count), possibly in parallel; problem/ stays free of threads and
// the caller (a sweep) supplies the pool. Each i writes only its own slot.
using ParallelFor = std::function<void(int count, const std::function<void(int)>& body)>;
void serial_for(int count, const std::function<void(int)>& body);

// Builds the problem; per-worker matrices are generated through `parallel_for`, which
// cannot change the result (every worker draws from its own stream).
Quadratic make_problem(const ProblemSpec& spec, const ParallelFor& parallel_for = serial_for);

enum class Storage { kDense, kSparse };

struct ProblemFamily {
  std::string_view name;
  // Parameters read besides generator, dim, num_workers and seed, with their labels in
  // the cache key.
  std::vector<std::pair<std::string_view, std::string_view>> parameters;
  Quadratic (*make)(const ProblemSpec&, const ParallelFor&);
  void (*check)(const ProblemSpec&);  // rules across parameters; throws ParameterError
  Storage storage;
  bool theory_applies;                          // a quadratic: SPEC §4's theory describes it
  double (*problem_bytes)(const ProblemSpec&);  // the built problem
  double (*theory_bytes)(const ProblemSpec&);   // its theory at the peak of computing it

  bool reads(std::string_view parameter) const;
};

// The family called `name`; throws ParameterError listing the valid names.
const ProblemFamily& problem_family(std::string_view name);
std::vector<std::string> family_names();

}  // namespace istlab
