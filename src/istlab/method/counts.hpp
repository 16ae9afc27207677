#pragma once
// What one round costs each worker: the floats it receives and sends and the flops it
// computes. The means over the workers are what trace.csv accumulates (docs/theory.md §3's table);
// the largest worker's are what a round's modelled time waits for (run/cost_model.hpp).

namespace istlab {

struct RoundCounts {
  double floats_down = 0.0;  // server → worker, mean over the workers
  double floats_up = 0.0;    // worker → server
  double flops = 0.0;
  double max_floats_down = 0.0;  // the same, of the worker with the most
  double max_floats_up = 0.0;
  double max_flops = 0.0;

  // Adds one of `workers` workers' counts to the means and the maxima.
  void add_worker(double down, double up, double worker_flops, double workers) {
    floats_down += down / workers;
    floats_up += up / workers;
    flops += worker_flops / workers;
    if (down > max_floats_down) max_floats_down = down;
    if (up > max_floats_up) max_floats_up = up;
    if (worker_flops > max_flops) max_flops = worker_flops;
  }
};

}  // namespace istlab
