#pragma once
// A method computes one round, nothing else (SPEC §3); the loop lives in run/.
// Every method has the form x^{k+1} = x^k − γ·(1/n) Σ_i g_i^k, except IST with local
// steps, which runs the paper's Algorithm 1 literally.

#include <memory>
#include <string>
#include <string_view>

#include "istlab/problem/quadratic.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {

struct MethodSpec {
  std::string name = "gd";
  bool outer_sketch = true;  // ist: g_i = C_i ∇f_i(C_i x); false gives ∇f_i(C_i x)
  int local_steps = 1;       // ist: τ of Algorithm 1

  // Throws std::invalid_argument naming the field and value.
  void validate() const;
};

// Floats a worker exchanges with the server in one round (mean over workers, SPEC §3).
struct Communication {
  double down = 0.0;
  double up = 0.0;
};

class Method {
 public:
  virtual ~Method() = default;
  // Replaces x = x^k by x^{k+1}. Uses only buffers allocated at construction.
  virtual void step(const RoundSketch& sketch, double step_size, Vector& x) = 0;
  virtual Communication communication(const RoundSketch& sketch) const = 0;
};

// `sketcher` sizes the per-worker buffers; methods keep a reference to `problem`.
std::unique_ptr<Method> make_method(const MethodSpec& spec, const Quadratic& problem,
                                    const Sketcher& sketcher);
std::string method_names();
bool is_method(std::string_view name);

}  // namespace istlab
