// Tensor names and their layers (SPEC §5), against names and templates worked out by hand.
#include <doctest/doctest.h>

#include "wasmerge/architecture.hpp"

using namespace wasmerge;

namespace {
std::optional<int> layer_of(const std::string& name) {
  auto l = parse_layer_name(name);
  return l ? std::optional<int>(l->layer) : std::nullopt;
}
}  // namespace

TEST_CASE("layer number from layers.i. / h.i. / blocks.i. / layer.i.") {
  CHECK(layer_of("model.layers.12.mlp.up_proj.weight") == 12);
  CHECK(layer_of("transformer.h.3.attn.c_attn.weight") == 3);
  CHECK(layer_of("blocks.0.norm.weight") == 0);
  CHECK(layer_of("bert.encoder.layer.7.attention.self.query.weight") == 7);
  CHECK_FALSE(layer_of("model.embed_tokens.weight").has_value());
  CHECK_FALSE(layer_of("lm_head.weight").has_value());
  CHECK_FALSE(layer_of("model.layers.x.weight").has_value());
  CHECK_FALSE(layer_of("patch.3.weight").has_value());              // "h." inside another word
  CHECK_FALSE(layer_of("model.layers.3").has_value());              // no part after the number
  CHECK_FALSE(layer_of("model.layers.12345678901.w").has_value());  // not a layer count anyone has
}

TEST_CASE("a layer name's template and the same tensor in another layer") {
  const auto l = parse_layer_name("model.layers.12.mlp.up_proj.weight");
  REQUIRE(l);
  CHECK(l->template_name() == "model.layers.{}.mlp.up_proj.weight");
  CHECK(l->with_layer(3) == "model.layers.3.mlp.up_proj.weight");
  CHECK(parse_layer_name("transformer.h.0.ln_1.bias")->with_layer(40) == "transformer.h.40.ln_1.bias");
}

TEST_CASE("layer count, pre-weights and vocabulary tensors") {
  CHECK(count_layers({"model.embed_tokens.weight", "model.layers.0.a", "model.layers.5.a", "lm_head.weight"}) == 6);
  CHECK(count_layers({"model.norm.weight"}) == 0);
  CHECK(is_pre_weight("model.embed_tokens.weight"));
  CHECK(is_pre_weight("transformer.wte.weight"));
  CHECK(is_pre_weight("transformer.wpe.weight"));
  CHECK_FALSE(is_pre_weight("model.norm.weight"));
  CHECK_FALSE(is_pre_weight("lm_head.weight"));
  CHECK(is_vocabulary_tensor("lm_head.weight"));
  CHECK(is_vocabulary_tensor("model.embed_tokens.weight"));
  CHECK_FALSE(is_vocabulary_tensor("model.layers.0.mlp.up_proj.weight"));
}
