#pragma once
// Counter-based random streams (docs/theory.md §5). A stream is keyed by (seed, purpose) and
// positioned by two counters, e.g. (round, worker): any draw can be reproduced without
// replaying the ones before it, so results do not depend on threads or cell order.

#include <cstdint>
#include <span>

namespace istlab {

// What a stream is for; part of the Philox key so purposes never share numbers.
enum class StreamPurpose : std::uint64_t {
  kProblem = 1,      // problem generation: (seed, "problem")
  kRoundShared = 2,  // draws shared by all workers in a round: (seed, round)
  kWorker = 3,       // a worker's private draws: (seed, round, worker)
  kSplit = 4,        // splits of samples among workers: (seed, stage·attempt, class or worker)
  kMinibatch = 5,    // a worker's minibatch: (seed, round, worker·2^32 + local step)
};

class RandomStream {
 public:
  RandomStream(std::uint64_t seed, StreamPurpose purpose, std::uint64_t counter_a = 0,
               std::uint64_t counter_b = 0);

  std::uint64_t next_u64();
  // Uniform in the open interval (0, 1) with 53 random bits.
  double uniform();
  // Standard normal (Box–Muller on two uniforms).
  double normal();
  // Uniform integer in [0, bound), without modulo bias (Lemire's method).
  std::uint64_t below(std::uint64_t bound);

  template <class T>
  void shuffle(std::span<T> values) {
    for (std::size_t i = values.size(); i > 1; --i) {
      const std::size_t j = below(i);
      std::swap(values[i - 1], values[j]);
    }
  }

 private:
  void refill();

  std::uint64_t key_[2];
  std::uint64_t counter_[4];
  std::uint64_t block_[4];
  int used_ = 4;
  double spare_normal_ = 0.0;
  bool has_spare_normal_ = false;
};

}  // namespace istlab
