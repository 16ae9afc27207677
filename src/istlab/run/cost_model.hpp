#pragma once
// Modelled time per round (issue 15): what a round would take on a given network and
// machine, from the counts a method reports (method/counts.hpp), never from a clock, so it
// is the same on every machine and with any thread count.
//
//   compute     max_i flops_i / flops_per_second                 (the slowest worker)
//   server      2 latencies + (max_i down_i + max_i up_i) · bytes_per_float · 8 / bandwidth
//               (Algorithm 1: every worker on its own link to a server that is never the
//               bottleneck; all receive, compute, then send)
//   allreduce   ring all-reduce of the dense payload p = max_i up_i:
//               2(n − 1) latencies + 2(n − 1)/n · p · bytes_per_float · 8 / bandwidth
//               (for methods whose workers all send the same dense vector, gd and
//               local_sgd; the sketched methods use the server whatever `topology` says)
//   round time  compute + communication
//
// Presets (latency, bandwidth): datacenter 5 µs, 100 Gbit/s; ethernet 50 µs, 1 Gbit/s; wan
// 20 ms, 10 Mbit/s. `latency_s` and `bandwidth_bits_per_s` given explicitly override a
// preset's, and `custom` needs both. `none` models nothing (model_time_s is empty).

#include <limits>
#include <string>
#include <vector>

#include "istlab/method/counts.hpp"
#include "istlab/param/parameter.hpp"

namespace istlab {

struct CostModel {
  std::string network = "none";  // none, datacenter, ethernet, wan or custom
  double latency_s = std::numeric_limits<double>::quiet_NaN();             // NaN: the preset's
  double bandwidth_bits_per_s = std::numeric_limits<double>::quiet_NaN();  // NaN: the preset's
  int bytes_per_float = 4;          // 4 (float32, as networks train) or 8
  double flops_per_second = 1e11;   // per worker: a server core's float GEMM rate
  std::string topology = "server";  // server or allreduce

  bool enabled() const { return network != "none"; }
  double latency() const;    // the explicit value, else the preset's
  double bandwidth() const;  // bits per second
  // Throws ParameterError naming the key (custom without latency or bandwidth, ...).
  void validate() const;
  // Seconds of one round whose workers' counts are `counts` (n workers).
  double round_seconds(const RoundCounts& counts, int num_workers) const;
};

// The `network:` keys; `network: wan` names the preset.
const std::vector<Parameter<CostModel>>& cost_parameters();
std::vector<std::string> network_names();        // none, datacenter, ethernet, wan, custom
std::vector<std::string> topology_names();       // server, allreduce
std::vector<NameAndMeaning> network_meanings();  // the presets, with latency and bandwidth

}  // namespace istlab
