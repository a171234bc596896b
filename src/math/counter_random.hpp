#pragma once
// Random numbers as a pure function of (seed, name, index) — SPEC §7's counter generator
// for MoE routers and expert noise: element i of the tensor NAME draws from
// u_i = splitmix64(s + i), s = splitmix64(seed ^ splitmix64(fnv1a64(NAME))), so any
// element can be computed alone, on any thread, in any build, with the same bits.
#include <cstdint>
#include <string>

namespace wasmerge {

uint64_t named_stream(uint64_t seed, const std::string& name);
// U_i = ((u_i >> 11) + 0.5) · 2^-53, in (0, 1).
double counter_uniform(uint64_t stream, uint64_t i);
// Z_i = sqrt(−2 ln U_2i) · cos(2π U_2i+1), with the project's own log and cos.
double counter_normal(uint64_t stream, uint64_t i);

}  // namespace wasmerge
