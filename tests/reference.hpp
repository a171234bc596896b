#pragma once
// The f64 references of SPEC §2 and §5, written for the tests from the SPEC's words
// alone: no engine code is called. One output tensor at a time; one reference function
// per method, found by the method's name (a new method adds one here).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace test {

struct RefTensorMerge {
  std::string method;          // a name of references()
  std::string name;            // the tensor's name (DARE streams depend on it)
  std::vector<double> base;    // empty for linear, and for a method whose base is optional when none is given
  std::vector<std::vector<double>> models;
  std::vector<double> weights, densities;
  double lambda = 1.0;
  bool normalize = false;
  bool rescale = false;
  bool inverse_density = false;
  uint64_t seed = 0;
  std::vector<double> scales;  // passthrough: per model
  std::map<std::string, double> params;  // any other method's global parameters (t, epsilon, ...)
  double param(const std::string& key, double fallback) const {
    auto it = params.find(key);
    return it == params.end() ? fallback : it->second;
  }
  std::vector<uint64_t> shape;                        // the tensor's dimensions (per-row methods)
  std::vector<std::map<std::string, double>> model_params;  // per model: other per-model parameters (gamma, ...)
  double model_param(size_t k, const std::string& key, double fallback) const {
    if (k >= model_params.size()) return fallback;
    auto it = model_params[k].find(key);
    return it == model_params[k].end() ? fallback : it->second;
  }
};

using Reference = std::function<std::vector<double>(const RefTensorMerge&)>;

// SPEC §2's task arithmetic family around a sparsify rule: keep(m, k, δ_k) says which
// entries of model k's task vector survive (null: all, and no rescale); then rescale,
// weight, sum or elect (consensus), b + λ·mixed.
using KeepRule = std::function<std::vector<bool>(const RefTensorMerge&, size_t k, const std::vector<double>& delta)>;
std::vector<double> reference_family(const RefTensorMerge& m, const KeepRule& keep, bool consensus);
// SPEC §6's selection methods (reference_selection.cpp).
std::vector<double> reference_breadcrumbs(const RefTensorMerge& m);  // breadcrumbs, breadcrumbs_ties
std::vector<double> reference_della(const RefTensorMerge& m);        // della, della_linear
std::vector<double> reference_sce(const RefTensorMerge& m);
std::vector<double> reference_arcee_fusion(const RefTensorMerge& m);
const std::map<std::string, Reference>& references();
const std::map<std::string, Reference>& geometric_references();  // reference_geometric.cpp
std::vector<double> reference_merge(const RefTensorMerge& m);  // references().at(m.method)(m)

// The SPEC's DARE draw, written again here: keep iff (u >> 40) < floor(d·2^24 + 0.5).
bool reference_dare_keep(uint64_t seed, const std::string& name, uint64_t model, uint64_t index, double density);

}  // namespace test
