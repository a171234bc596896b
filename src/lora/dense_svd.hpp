#pragma once
// The exact step shared by both SVD methods: the top triples of a wide matrix X (p rows of
// length q, p ≤ q) from the eigenvectors of its Gram matrix X·Xᵀ (f64, cyclic Jacobi).
#include <cstddef>
#include <vector>

#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

// Eigenvalues (descending; ties keep index order) and eigenvectors of the symmetric p × p
// matrix g (row-major, destroyed): vectors[i*p + a] is entry a of eigenvector i.
void symmetric_eigen(std::vector<double>& g, size_t p, std::vector<double>& values, std::vector<double>& vectors);

// X·Xᵀ for p rows of length q (T = float or double), in f64 with fixed-order sums.
template <typename T>
std::vector<double> gram_of_rows(const T* x, size_t p, size_t q, ThreadPool& pool);

// The top k triples of X: w (k × p, unit vectors of the row space's coordinates), sigma,
// r (k × q, unit; zero where sigma is 0) with X ≈ Σ σ_i w_i r_iᵀ. σ_i = ‖w_iᵀX‖, so
// Σ σ_i w_i r_iᵀ = W_k W_kᵀ X, the projection onto the top eigenvectors.
template <typename T>
void top_triples_of_rows(const T* x, size_t p, size_t q, size_t k, ThreadPool& pool, std::vector<double>& w,
                         std::vector<double>& sigma, std::vector<double>& r);

// Σ x_i·y_i in f64 over four running sums (x_i to sum i mod 4), combined as (s0+s2)+(s1+s3).
double dot4(const double* x, const double* y, size_t n);
double dot4(const float* x, const double* y, size_t n);

// Negates each of k vector pairs (u_i of length m, v_i of length n) whose u_i's
// largest-magnitude entry (the first of equals) is negative.
void fix_signs(std::vector<double>& u, size_t m, std::vector<double>& v, size_t n, size_t k);

}  // namespace wasmerge
