#pragma once
// Problem generators of SPEC §1.1, each fully determined by its parameters and seed.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

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

  // Throws std::invalid_argument naming the field and value that are out of range.
  void validate() const;
  // Canonical text of every field the generator reads: equal keys, equal problems.
  std::string key() const;
};

// Runs body(i) for i in [0, count), possibly in parallel; problem/ stays free of threads and
// the caller (a sweep) supplies the pool. Each i writes only its own slot.
using ParallelFor = std::function<void(int count, const std::function<void(int)>& body)>;
void serial_for(int count, const std::function<void(int)>& body);

// Builds the problem; per-worker matrices are generated through `parallel_for`, which
// cannot change the result (every worker draws from its own stream).
Quadratic make_problem(const ProblemSpec& spec, const ParallelFor& parallel_for = serial_for);

// The registry's names, in table order, for error messages.
std::string generator_names();
bool is_generator(std::string_view name);

}  // namespace istlab
