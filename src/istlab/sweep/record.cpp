#include "istlab/sweep/record.hpp"

#include <limits>

#include "istlab/io/csv.hpp"
#include "istlab/io/files.hpp"

namespace istlab {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string flag(bool value) { return value ? "true" : "false"; }

// A value in a CSV field: numbers as format_number writes them (NaN, "not applicable", empty).
std::string field_text(const Value& value) {
  if (const auto* real = std::get_if<double>(&value)) return format_number(*real);
  return format_value(value);
}

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// The problem's parameters that are columns (the file-reading details of a dataset are not),
// empty where the problem's family does not read them.
void add_problem_fields(const ProblemSpec& problem, CsvFields& fields) {
  const ProblemFamily& family = problem_family(problem.generator);
  for (const auto& parameter : problem_parameters())
    if (!parameter.column.empty())
      fields.emplace_back(parameter.column, family.reads(problem, parameter.name)
                                                ? field_text(parameter.get(problem))
                                                : std::string());
}

CsvFields parameter_fields(const Cell& cell, double step_size) {
  CsvFields fields = {{"cell_key", cell.key}};
  add_problem_fields(cell.problem, fields);
  fields.emplace_back("seed", std::to_string(cell.seed));
  fields.emplace_back("problem_seed", std::to_string(cell.problem.seed));
  for (const auto& parameter : method_parameters())
    fields.emplace_back(parameter.column, field_text(parameter.get(cell.method)));
  for (const auto& parameter : sketch_parameters())
    fields.emplace_back(parameter.column, field_text(parameter.get(cell.sketch)));
  fields.emplace_back("step_size", format_number(step_size));
  fields.emplace_back("relative_step", cell.relative_step ? format_number(cell.step_value) : "");
  // The network model: its name (the table's first key), then (when there is one) the values
  // it uses, a preset's latency and bandwidth filled in.
  CostModel used = cell.network;
  used.latency_s = used.latency();
  used.bandwidth_bits_per_s = used.bandwidth();
  for (const auto& parameter : cost_parameters())
    fields.emplace_back(parameter.column, &parameter == &cost_parameters().front() || used.enabled()
                                              ? field_text(parameter.get(used))
                                              : std::string());
  return fields;
}

CsvFields problem_row_fields(const Cell& cell, int worker, const WorkerFacts& facts) {
  CsvFields fields = {{"problem_id", hex_hash(cell.problem_key())}};
  add_problem_fields(cell.problem, fields);
  fields.emplace_back("problem_seed", std::to_string(cell.problem.seed));
  fields.emplace_back("worker", std::to_string(worker));
  fields.emplace_back("samples", facts.samples < 0 ? "" : std::to_string(facts.samples));
  fields.emplace_back("label_counts", facts.label_counts);
  fields.emplace_back("grad_norm2_at_optimum", format_number(facts.grad_norm2_at_optimum));
  return fields;
}

CsvFields outcome_fields(const Cell& cell, const RunResult& run, const Theory* theory,
                         const ProblemFacts& facts) {
  const TraceRow& last = run.trace.back();
  auto theory_value = [&](double Theory::*field) {
    return format_number(theory ? theory->*field : kNaN);
  };
  return {{"status", std::string(name(run.status))},
          {"converged_on", std::string(run.converged_on)},
          {"iterations", std::to_string(run.iterations)},
          {"rel_err", format_number(last.rel_err)},
          {"f_gap", format_number(last.f_gap)},
          {"grad_norm2", format_number(last.grad_norm2)},
          {"dist_fixed", format_number(last.dist_fixed)},
          {"floats_up", format_number(last.floats_up)},
          {"floats_down", format_number(last.floats_down)},
          {"train_loss", format_number(last.train_loss)},
          {"test_loss", format_number(last.test_loss)},
          {"test_accuracy", format_number(last.test_accuracy)},
          {"train_loss_pooled", format_number(last.train_loss_pooled)},
          {"grad_norm2_pooled", format_number(last.grad_norm2_pooled)},
          {"flops", format_number(last.flops)},
          {"model_time_s", format_number(last.model_time_s)},
          {"lambda_min", theory_value(&Theory::lambda_min)},
          {"lambda_max", theory_value(&Theory::lambda_max)},
          {"gd_step", theory_value(&Theory::gd_step)},
          {"ist_step", theory_value(&Theory::ist_step)},
          {"ist_stability_limit", theory_value(&Theory::ist_stability_limit)},
          {"ist_bias", theory_value(&Theory::bias)},
          {"ist_relative_bias", theory_value(&Theory::relative_bias)},
          {"w_bar_psd", theory ? flag(theory->w_bar_psd) : ""},
          {"w_bar_min_eigenvalue", theory_value(&Theory::w_bar_min_eigenvalue)},
          {"w_bar_max_eigenvalue", theory_value(&Theory::w_bar_max_eigenvalue)},
          {"zeta2", format_number(facts.zeta2)},
          {"regularization_used", format_number(facts.regularization)},
          {"problem_id", hex_hash(cell.problem_key())},
          {"error", ""}};
}

CsvFields round_fields(const TraceRow& row) {
  return {{"iter", std::to_string(row.iter)},
          {"rel_err", format_number(row.rel_err)},
          {"f_gap", format_number(row.f_gap)},
          {"grad_norm2", format_number(row.grad_norm2)},
          {"dist_fixed", format_number(row.dist_fixed)},
          {"floats_up", format_number(row.floats_up)},
          {"floats_down", format_number(row.floats_down)},
          {"train_loss", format_number(row.train_loss)},
          {"test_loss", format_number(row.test_loss)},
          {"test_accuracy", format_number(row.test_accuracy)},
          {"train_loss_pooled", format_number(row.train_loss_pooled)},
          {"grad_norm2_pooled", format_number(row.grad_norm2_pooled)},
          {"flops", format_number(row.flops)},
          {"model_time_s", format_number(row.model_time_s)}};
}

std::vector<std::string> names_of(const CsvFields& fields) {
  std::vector<std::string> names;
  for (const auto& [name, value] : fields) names.push_back(name);
  return names;
}

// An error for one CSV field: its first line, without control characters.
std::string one_line(std::string_view text) {
  std::string line(text.substr(0, text.find('\n')));
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return line;
}

}  // namespace

std::string unfinished_row(const Cell& cell, std::string_view status, std::string_view error) {
  // The step as written when it is absolute; a relative one needs the theory the run resolves.
  CsvFields fields = parameter_fields(
      cell, cell.relative_step ? std::numeric_limits<double>::quiet_NaN() : cell.step_value);
  const std::vector<std::string>& columns = summary_columns();
  for (std::size_t i = fields.size(); i < columns.size(); ++i)
    fields.emplace_back(columns[i], columns[i] == "status"       ? std::string(status)
                                    : columns[i] == "problem_id" ? hex_hash(cell.problem_key())
                                    : columns[i] == "error"      ? one_line(error)
                                                                 : std::string());
  return csv_row(summary_columns(), fields);
}

// The column lists are the names of the fields a record is built from.
const std::vector<std::string>& parameter_columns() {
  static const std::vector<std::string> columns = names_of(parameter_fields(Cell{}, 0.0));
  return columns;
}

const std::vector<std::string>& trace_columns() {
  static const std::vector<std::string> columns =
      with(parameter_columns(), names_of(round_fields(TraceRow{})));
  return columns;
}

const std::vector<std::string>& summary_columns() {
  static const std::vector<std::string> columns = [] {
    RunResult run;
    run.trace.emplace_back();
    return with(parameter_columns(), names_of(outcome_fields(Cell{}, run, nullptr, {})));
  }();
  return columns;
}

const std::vector<std::string>& timing_columns() {
  static const std::vector<std::string> columns = {"cell_key", "iter", "wall_s"};
  return columns;
}

const std::vector<std::string>& problem_columns() {
  static const std::vector<std::string> columns = names_of(problem_row_fields(Cell{}, 0, {}));
  return columns;
}

const std::vector<std::string>& iterate_columns() {
  static const std::vector<std::string> columns = {"cell_key", "iter",   "coordinate",
                                                   "value",    "x_star", "x_fixed"};
  return columns;
}

CellRecord make_record(const Cell& cell, double step_size, const RunResult& run,
                       const Theory* theory, const Vector& solution, const Vector* fixed_point,
                       const ProblemFacts& facts) {
  const CsvFields parameters = parameter_fields(cell, step_size);
  // Every trace row starts with the same parameter fields: format them once per cell.
  std::string parameter_prefix = csv_row(parameter_columns(), parameters);
  parameter_prefix.back() = ',';
  const std::vector<std::string> round_columns(
      trace_columns().begin() + static_cast<std::ptrdiff_t>(parameters.size()),
      trace_columns().end());
  CellRecord record;
  record.status = name(run.status);
  record.length = cell.length;
  for (const auto& row : run.trace) {
    record.trace_rows += parameter_prefix;
    record.trace_rows += csv_row(round_columns, round_fields(row));
    record.timing_rows += csv_row(timing_columns(), {{"cell_key", cell.key},
                                                     {"iter", std::to_string(row.iter)},
                                                     {"wall_s", format_number(row.wall_s)}});
  }
  for (std::size_t r = 0; r < run.iterates.size(); ++r)
    for (Eigen::Index j = 0; j < run.iterates[r].size(); ++j)
      record.iterate_rows += csv_row(
          iterate_columns(), {{"cell_key", cell.key},
                              {"iter", std::to_string(run.trace[r].iter)},
                              {"coordinate", std::to_string(j)},
                              {"value", format_number(run.iterates[r][j])},
                              {"x_star", format_number(solution[j])},
                              {"x_fixed", fixed_point ? format_number((*fixed_point)[j]) : ""}});
  CsvFields summary = parameters;
  for (auto& field : outcome_fields(cell, run, theory, facts)) summary.push_back(std::move(field));
  for (std::size_t worker = 0; worker < facts.workers.size(); ++worker)
    record.problem_rows +=
        csv_row(problem_columns(),
                problem_row_fields(cell, static_cast<int>(worker), facts.workers[worker]));
  record.summary_row = csv_row(summary_columns(), summary);
  return record;
}

}  // namespace istlab
