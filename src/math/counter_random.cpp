#include "math/counter_random.hpp"

#include <cmath>

#include "math/deterministic_math.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {

uint64_t named_stream(uint64_t seed, const std::string& name) { return splitmix64(seed ^ splitmix64(fnv1a64(name))); }

double counter_uniform(uint64_t stream, uint64_t i) {
  return (static_cast<double>(splitmix64(stream + i) >> 11) + 0.5) * 0x1p-53;
}

double counter_normal(uint64_t stream, uint64_t i) {
  constexpr double kTwoPi = 6.283185307179586;
  const double radius = std::sqrt(-2.0 * deterministic_log(counter_uniform(stream, 2 * i)));
  return radius * deterministic_cos(kTwoPi * counter_uniform(stream, 2 * i + 1));
}

}  // namespace wasmerge
