// "Did you mean": synonyms first, then typos; nothing when no name is close.

#include "istlab/param/suggest.hpp"

#include <gtest/gtest.h>

#include "istlab/sweep/config.hpp"

namespace istlab {
namespace {

const std::vector<std::string> kKeys = {"generator", "num_workers",    "concentration",
                                        "dim",       "regularization", "min_samples"};

TEST(Suggest, SynonymsTypoAndNothing) {
  EXPECT_EQ(closest_name("alpha", kKeys), "concentration");
  EXPECT_EQ(closest_name("Alpha", kKeys), "concentration");
  EXPECT_EQ(closest_name("regularisation", kKeys), "regularization");
  EXPECT_EQ(closest_name("num_worker", kKeys), "num_workers");
  EXPECT_EQ(closest_name("genrator", kKeys), "generator");
  EXPECT_EQ(closest_name("dmi", kKeys), "dim");  // two letters swapped
  EXPECT_EQ(closest_name("heterogeneity", kKeys), "");
  EXPECT_EQ(closest_name("", kKeys), "");
  EXPECT_EQ(closest_name("lr", kKeys), "");  // its synonym, step_size, is not a candidate here
  EXPECT_EQ(closest_name(std::string(100000, 'a'), kKeys), "");
  EXPECT_EQ(did_you_mean("--thread", {"--threads", "--out", "-o"}), " (did you mean '--threads'?)");
  EXPECT_EQ(did_you_mean("--bogus", {"--threads", "--out"}), "");
}

// In the config: an unknown key, and a value outside a list of names.
TEST(Suggest, ConfigKeysAndValuesSayWhatWasMeant) {
  auto message = [](const std::string& text) {
    try {
      parse_config(text, "c.yaml");
    } catch (const ConfigError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_NE(message("problem: {generator: least_squares, alpha: 0.1}\nmethods: [{method: gd}]\n"
                    "step_size: 0.1\n")
                .find("unknown key 'alpha' (did you mean 'concentration'?); allowed here: "),
            std::string::npos);
  EXPECT_NE(message("methods: [{method: ist, sketch: randk}]\nstep_size: 0.1\n")
                .find("did you mean 'rand'?"),
            std::string::npos);
  EXPECT_NE(message("methods: [{method: isst}]\nstep_size: 0.1\n").find("did you mean 'ist'?"),
            std::string::npos);
}

}  // namespace
}  // namespace istlab
