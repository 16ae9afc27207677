#pragma once
// The record schema: the columns of trace.csv, cells.csv, timing.csv and iterates.csv, and
// a finished cell's rows in them. A cell's parameter columns come from the parameter
// tables (problem, then the seeds, then method and sketch, then the step).

#include <string>
#include <string_view>
#include <vector>

#include "istlab/run/run.hpp"
#include "istlab/run/workload.hpp"
#include "istlab/sweep/grid.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {

// A finished cell's rows, already formatted (each ending in a newline), and its status.
struct CellRecord {
  std::string status;  // name(RunStatus)
  std::string summary_row;
  std::string trace_rows;
  std::string timing_rows;
  std::string iterate_rows;  // iterates.csv rows, when the run records iterates
  std::string problem_rows;  // problems.csv rows of the cell's problem
  RunLength length;          // the run's max_iters and max_seconds
};

const std::vector<std::string>& parameter_columns();
const std::vector<std::string>& trace_columns();    // parameters, then one recorded round
const std::vector<std::string>& summary_columns();  // parameters, then the outcome and theory
const std::vector<std::string>& timing_columns();
const std::vector<std::string>& iterate_columns();
const std::vector<std::string>& problem_columns();  // problems.csv: one row per worker

// The cells.csv row of a cell without a result: its parameters, `status` ("failed",
// "missing", "corrupt"), its problem_id and `error` (one line); the outcome fields empty.
std::string unfinished_row(const Cell& cell, std::string_view status, std::string_view error);

// The rows a finished cell contributes. Iterate rows carry x* and x^∞ (`fixed_point`, empty
// when the cell has none) so plots can measure against both.
CellRecord make_record(const Cell& cell, double step_size, const RunResult& run,
                       const Theory* theory, const Vector& solution, const Vector* fixed_point,
                       const ProblemFacts& facts);

}  // namespace istlab
