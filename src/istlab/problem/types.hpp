#pragma once
// Linear-algebra types shared by every layer.

#include <Eigen/Dense>
#include <Eigen/SparseCore>

namespace istlab {

using Vector = Eigen::VectorXd;
using DenseMatrix = Eigen::MatrixXd;
// Row-major (CSR): a worker reads the rows its sketch keeps.
using SparseMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;

}  // namespace istlab
