// Parameter values as mergekit resolves them, checked against values worked out by hand.
#include <doctest/doctest.h>

#include "wasmerge/parameter.hpp"

using namespace wasmerge;

TEST_CASE("gradient: x = t(n-1), linear between neighbours") {
  const std::vector<double> g = {0.2, 0.8, 1.0};
  CHECK(interpolate_gradient(g, 0.0) == doctest::Approx(0.2));
  CHECK(interpolate_gradient(g, 0.25) == doctest::Approx(0.5));   // x=0.5: halfway 0.2..0.8
  CHECK(interpolate_gradient(g, 0.5) == doctest::Approx(0.8));
  CHECK(interpolate_gradient(g, 0.75) == doctest::Approx(0.9));
  CHECK(interpolate_gradient(g, 1.0) == doctest::Approx(1.0));
  CHECK(interpolate_gradient({7.0}, 0.3) == 7.0);
}

TEST_CASE("filters: the first entry whose filter is in the name wins; no filter or * matches all") {
  Parameter p;
  Parameter mlp, attn, rest, grad;
  mlp.values = {0.3};
  attn.values = {0.6};
  rest.values = {0.5};
  grad.values = {0.0, 1.0};
  p.filtered = {{"mlp", mlp}, {"self_attn", grad}, {"", rest}, {"mlp", attn}};
  CHECK(p.resolve("model.layers.1.mlp.up_proj.weight", 0.4) == 0.3);
  CHECK(p.resolve("model.layers.1.self_attn.q_proj.weight", 0.4) == doctest::Approx(0.4));
  CHECK(p.resolve("model.norm.weight", 0.0) == 0.5);
  Parameter star;
  star.filtered = {{"*", attn}};
  CHECK(star.resolve("anything", 0) == 0.6);
  Parameter only_mlp;
  only_mlp.filtered = {{"mlp", mlp}};
  CHECK_FALSE(only_mlp.resolve("lm_head.weight", 0).has_value());
  CHECK(p.all_values().size() == 5);
}
