// `istlab plot` and `istlab report` are written in Python (python/istlab/, Debian's numpy,
// pandas, matplotlib and plotly): the executable finds the package and runs
// /usr/bin/python3 -m istlab COMMAND ARGS on it.
#pragma once

#include <string>
#include <vector>

namespace istlab_cli {

// The commands run by the Python package, with their one-line help.
struct PythonCommand {
  const char* name;
  const char* summary;
};
inline constexpr PythonCommand kPythonCommands[] = {
    {.name = "plot",
     .summary = "draw a sweep: a metric against rounds, floats or time, by any keys (PNG, PDF, "
                "SVG)"},
    {.name = "report",
     .summary = "write a sweep's self-contained HTML report: what ran, what failed, "
                "interactive traces"},
};

// Replaces this process by the Python interpreter running `-m istlab command args...`; returns
// only on failure, with exit code 2 and a message on stderr naming what is missing.
int run_python_command(const std::string& command, const std::vector<std::string>& args);

}  // namespace istlab_cli
