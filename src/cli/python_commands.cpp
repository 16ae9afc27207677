#include "python_commands.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

namespace istlab_cli {
namespace {

namespace fs = std::filesystem;
constexpr int kBadInput = 2;
// Debian's interpreter: the python3 first on PATH may be another one without matplotlib.
constexpr const char* kDefaultPython = "/usr/bin/python3";

fs::path own_executable() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path{} : self;
}

// The folder holding the package (istlab/__main__.py), in this order: $ISTLAB_PYTHONPATH;
// <prefix>/share/istlab/python beside an installed bin/istlab; the source tree this
// executable was built from. The first that has the package wins.
std::optional<fs::path> package_folder(std::vector<fs::path>& tried) {
  std::vector<fs::path> candidates;
  if (const char* given = std::getenv("ISTLAB_PYTHONPATH"); given != nullptr && *given != '\0')
    candidates.emplace_back(given);
  if (const fs::path self = own_executable(); !self.empty())
    candidates.push_back(self.parent_path().parent_path() / "share" / "istlab" / "python");
  candidates.push_back(fs::path(ISTLAB_SOURCE_DIR) / "python");
  for (const fs::path& candidate : candidates) {
    tried.push_back(candidate);
    std::error_code error;
    if (fs::is_regular_file(candidate / "istlab" / "__main__.py", error)) return candidate;
  }
  return std::nullopt;
}

}  // namespace

int run_python_command(const std::string& command, const std::vector<std::string>& args) {
  const char* given_python = std::getenv("ISTLAB_PYTHON");
  const std::string python =
      given_python != nullptr && *given_python != '\0' ? given_python : kDefaultPython;
  if (::access(python.c_str(), X_OK) != 0) {
    std::cerr << "istlab " << command << ": " << python << " not found; istlab " << command
              << " runs Debian's python3 with python3-matplotlib, python3-pandas and "
                 "python3-plotly (scripts/setup.sh installs them; ISTLAB_PYTHON names "
                 "another interpreter)\n";
    return kBadInput;
  }
  std::vector<fs::path> tried;
  const std::optional<fs::path> folder = package_folder(tried);
  if (!folder) {
    std::cerr << "istlab " << command << ": the Python package istlab is not in any of";
    for (const fs::path& place : tried) std::cerr << ' ' << place.string();
    std::cerr << "; set ISTLAB_PYTHONPATH to the folder holding istlab/ (python/ in the "
                 "repository)\n";
    return kBadInput;
  }
  // The package first on the path, ahead of any other copy; sweeps it starts use this build.
  std::string path = folder->string();
  if (const char* old_path = std::getenv("PYTHONPATH"); old_path != nullptr && *old_path != '\0')
    path.append(":").append(old_path);
  ::setenv("PYTHONPATH", path.c_str(), 1);
  if (const fs::path self = own_executable(); !self.empty())
    ::setenv("ISTLAB_BINARY", self.c_str(), 1);
  std::vector<std::string> words = {python, "-m", "istlab", command};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  ::execv(python.c_str(), argv.data());
  std::cerr << "istlab " << command << ": cannot run " << python << ": " << std::strerror(errno)
            << '\n';
  return kBadInput;
}

}  // namespace istlab_cli
