// Malformed YAML is explained by its cause where the cause is recognisable (issue 21: 205 of
// the fuzzed configs got yaml-cpp's bare "end of map not found"), and valid YAML never is.

#include "istlab/sweep/yaml_hints.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "istlab/sweep/config.hpp"

namespace istlab {
namespace {

std::string message_of(const std::string& text) {
  try {
    parse_config(text, "bad.yaml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(YamlHints, EachRecognisableCauseIsNamedWhereItIs) {
  const std::pair<std::string, std::string> cases[] = {
      {"methods: [{method: gd}\nstep_size: 0.1\n",
       "bad.yaml:1:10: malformed YAML: the '[' opened here is never closed (the parser: end of "
       "sequence flow not found at line 2, column 1)"},
      {"methods: [{method: gd}]\nrun: {max_iters: 3\nstep_size: 0.1\n",
       "bad.yaml:2:6: malformed YAML: the '{' opened here is never closed"},
      {"methods: [{method: gd]\nstep_size: 0.1\n",
       "bad.yaml:1:11: malformed YAML: the '{' opened here is closed by a ']' at line 1, column "
       "22"},
      {"methods: [{method: gd}]]\nstep_size: 0.1\n",
       "bad.yaml:1:24: malformed YAML: this ']' closes nothing"},
      {"methods: [{method: gd}]\nrun:\n\tmax_iters: 3\nstep_size: 0.1\n",
       "bad.yaml:3:1: malformed YAML: a tab in the indentation; YAML indents with spaces only"},
      {"methods: [{method: gd}]\nstep_size: 0.1: 2\n",
       "bad.yaml:2:15: malformed YAML: a second ':' in one entry; put a value that holds ': ' in "
       "quotes"},
      {"methods: [{method: gd}]\nstep_size: 0.1\nrun: {max_iters: 3: 4}\n",
       "bad.yaml:3:19: malformed YAML: a second ':' in one entry"},
      // yaml-cpp itself takes this quote as closed at the end of the file.
      {"methods: [{method: gd}]\nstep_size: \"0.1\n",
       "bad.yaml:2:12: malformed YAML: the double quote opened here is never closed"},
      {"methods:\n  - method: gd\n   sketch: perm\nstep_size: 0.1\n",
       "bad.yaml:3:4: malformed YAML: end of sequence not found: line 3 is indented by 3 spaces"},
      {"methods: [{method: gd}]\nseeds [1, 2]\nstep_size: 0.1\n",
       "bad.yaml:3:10: malformed YAML: illegal map value: line 2, 'seeds [1, 2]', has no ':'"},
      {"methods:\n  - method:[gd, ist]\n    sketch: perm\nstep_size: 0.1\n",
       "bad.yaml:3:11: malformed YAML: illegal map value: line 2: a ':' needs a space after it "
       "('method: "
       "[gd, ist]')"},
      {"problem:\n generator: dense\n  dim: 20\nmethods: [{method: gd}]\nstep_size: 0.1\n",
       "bad.yaml:3:6: malformed YAML: illegal map value: line 3 is indented under line 2, whose "
       "key 'generator' already has a value"},
      {"methods: [{method: gd}]\n step_size: 0.1\n",
       "bad.yaml:2:2: malformed YAML: end of map not found: line 2 is indented by 1 space,"},
  };
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(message_of(text).starts_with(expected)) << message_of(text);
  }
}

TEST(YamlHints, QuotesCommentsAndFlowsThatAreValidGiveNoHint) {
  const char* valid[] = {
      "description: it's the paper's \"figure\" with 'quotes', a:colon\n",
      "description: 'it''s quoted: with a colon, [a bracket and {a brace'\n",
      "description: \"an escaped \\\" quote: and # no comment\"\n",
      "methods: [{method: gd}]  # a [ comment { with ' quotes\n",
      "description: \"a quoted value\n  over two lines\"\n",
      "url: http://example.org/a:b\nproblem: {dataset: {path: 'C:\\data', format: csv}}\n",
      "items:\n  - a: 1\n    b: [1, 2, {c: 3}]\n  - 'x'\n",
  };
  for (const char* text : valid) {
    const auto hint = find_yaml_fault(text);
    EXPECT_FALSE(hint.has_value()) << text << hint->what;
  }
}

// Every config the repository ships is valid YAML: none may get a hint.
TEST(YamlHints, NoShippedConfigGetsAHint) {
  int read = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(ISTLAB_SOURCE_DIR "/experiments")) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const auto hint = find_yaml_fault(text);
    EXPECT_FALSE(hint.has_value()) << entry.path() << ": " << (hint ? hint->what : "");
    ++read;
  }
  EXPECT_GT(read, 10);
}

}  // namespace
}  // namespace istlab
