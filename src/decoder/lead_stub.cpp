// TEMPORARY stub until the decoder branch lands.
#include "wasmerge/decoder.hpp"
#include <nlohmann/json.hpp>
#include "wasmerge/error.hpp"
namespace wasmerge {
DecoderShape read_decoder_shape(const std::string& text, const std::string& file) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  DecoderShape s;
  s.model_type = j.value("model_type", std::string());
  s.layers = j.value("num_hidden_layers", 0);
  s.hidden = j.value("hidden_size", 0);
  if (s.model_type != "llama" && s.model_type != "mistral" && s.model_type != "qwen2" && s.model_type != "qwen3") fail(file, "", "unsupported");
  return s;
}
Decoder::Decoder(const Model& model, DecoderShape shape, ThreadPool& pool, uint64_t budget) : model_(model), shape_(shape), pool_(pool), budget_(budget) {}
void Decoder::hidden_states(const std::vector<std::vector<int32_t>>&, int, const HiddenStatesFn&) { fail("", "", "decoder stub"); }
std::vector<float> Decoder::logits(const std::vector<std::vector<int32_t>>&) { fail("", "", "decoder stub"); }
}
