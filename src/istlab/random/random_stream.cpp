#include "istlab/random/random_stream.hpp"

#include <Random123/philox.h>

#include <cmath>
#include <numbers>

namespace istlab {
namespace {
__extension__ typedef unsigned __int128 uint128;
}  // namespace

RandomStream::RandomStream(std::uint64_t seed, StreamPurpose purpose, std::uint64_t counter_a,
                           std::uint64_t counter_b)
    : key_{seed, static_cast<std::uint64_t>(purpose)},
      counter_{counter_a, counter_b, 0, 0},
      block_{0, 0, 0, 0} {}

void RandomStream::refill() {
  r123::Philox4x64 philox;
  const r123::Philox4x64::ctr_type counter = {{counter_[0], counter_[1], counter_[2], counter_[3]}};
  const r123::Philox4x64::key_type key = {{key_[0], key_[1]}};
  const auto out = philox(counter, key);
  for (int i = 0; i < 4; ++i) block_[i] = out[i];
  ++counter_[2];
  used_ = 0;
}

std::uint64_t RandomStream::next_u64() {
  if (used_ == 4) refill();
  return block_[used_++];
}

double RandomStream::uniform() { return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53; }

double RandomStream::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  const double radius = std::sqrt(-2.0 * std::log(uniform()));
  const double angle = 2.0 * std::numbers::pi * uniform();
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return radius * std::cos(angle);
}

std::uint64_t RandomStream::below(std::uint64_t bound) {
  // Lemire, "Fast random integer generation in an interval" (2019).
  uint128 product = static_cast<uint128>(next_u64()) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<uint128>(next_u64()) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

}  // namespace istlab
