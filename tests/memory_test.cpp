// The memory istlab treats as available: MemAvailable, capped by ISTLAB_MEMORY_LIMIT_BYTES.

#include "istlab/io/memory.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "memory_limit.hpp"

namespace istlab {
namespace {

TEST(AvailableMemory, IsCappedByTheEnvironmentVariable) {
  const ScopedMemoryLimit limit(std::uint64_t{12345});
  EXPECT_EQ(available_memory_bytes(), 12345u);
  EXPECT_TRUE(memory_limit_set());
  EXPECT_EQ(available_text(12345), "0.0 MiB available (capped by ISTLAB_MEMORY_LIMIT_BYTES)");
}

TEST(AvailableMemory, WithoutTheVariableIsTheSystemsAndSaysNothingOfACap) {
  const ScopedMemoryLimit limit("");  // set but empty: not a cap
  EXPECT_GT(available_memory_bytes(), 0u);
  EXPECT_FALSE(memory_limit_set());
  EXPECT_EQ(available_text(3u << 30), "3.00 GiB available");
}

TEST(AvailableMemory, AValueThatIsNotAWholeNumberOfBytesIsRefused) {
  for (const char* bad : {"1G", "-5", "0", "12 ", "x"}) {
    const ScopedMemoryLimit limit(bad);
    try {
      available_memory_bytes();
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_EQ(std::string(error.what())
                    .rfind("ISTLAB_MEMORY_LIMIT_BYTES: expected a whole number "
                           "of bytes of at least 1, found '",
                           0),
                0u)
          << error.what();
    }
  }
}

}  // namespace
}  // namespace istlab
