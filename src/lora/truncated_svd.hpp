#pragma once
// The top singular triples of δ (SPEC §8's extraction), deterministic to the bit across
// thread counts, memory budgets and builds: every sum has a fixed order, work is split
// only over independent outputs, no FMA, no libm beyond sqrt, and each left vector's
// largest-magnitude entry (the first such) is positive.
//   exact:      the Gram matrix of δ's shorter side in f64, its eigenvectors by cyclic
//               Jacobi; needs δ in memory (src/lora/dense_svd.cpp).
//   randomized: Halko–Martinsson–Tropp's range finder: Y = δΩ with Ω Gaussian from the
//               counter generator (seeded by the tensor's name), power iterations with
//               re-orthonormalization (CGS2), then the exact method on the projected
//               l × n matrix Qᵀδ; reads δ in row blocks, 2q + 2 passes.
#include <cstdint>
#include <string>
#include <vector>

#include "lora/delta_matrix.hpp"
#include "wasmerge/extract_lora.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

struct SvdOptions {
  size_t rank = 1;
  SvdMethod method = SvdMethod::Auto;
  unsigned power_iterations = 2;
  size_t oversampling = 10;
  uint64_t seed = 0;
  std::string stream_name;  // the tensor's name: Ω = counter_normal(named_stream(seed, name), i)
};

// δ ≈ Σ_i σ_i u_i v_iᵀ, σ descending. u: k vectors of rows() each, v: k of cols() each.
struct LowRank {
  std::vector<double> sigma;
  std::vector<double> u, v;
  size_t rank() const { return sigma.size(); }
};

// The method Auto picks for a rows × cols matrix at this rank: exact when the sample
// (rank + oversampling) is not much smaller than the shorter side.
SvdMethod choose_method(size_t rows, size_t cols, const SvdOptions& options);
// Working memory (bytes, beyond δ's own blocks) of the method for a rows × cols matrix.
uint64_t svd_working_bytes(size_t rows, size_t cols, const SvdOptions& options, SvdMethod method);

// The top min(rank, rows, cols) triples; none when δ turns out to be zero. Exact needs
// delta to be a MemoryDelta.
LowRank truncated_svd(DeltaMatrix& delta, const SvdOptions& options, ThreadPool& pool);

}  // namespace wasmerge
