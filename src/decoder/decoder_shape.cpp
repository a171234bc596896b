// config.json -> DecoderShape: the keys transformers' Llama, Mistral, Qwen2 and Qwen3
// configs read, with their defaults, so a folder saved by transformers runs as it does there.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "wasmerge/decoder.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

using nlohmann::json;

// A key that must be a positive integer (JSON numbers like 4096.0 count when whole).
uint64_t positive_integer(const json& config, const char* key, const std::string& file) {
  if (!config.contains(key) || config[key].is_null()) fail(file, "", std::string("config has no '") + key + "'");
  const json& v = config[key];
  if (v.is_number_unsigned() && v.get<uint64_t>() > 0) return v.get<uint64_t>();
  if (v.is_number_float() && v.get<double>() >= 1 && v.get<double>() < 9.0e15 &&
      v.get<double>() == static_cast<double>(static_cast<uint64_t>(v.get<double>())))
    return static_cast<uint64_t>(v.get<double>());
  fail(file, "", std::string("config's '") + key + "' is not a positive integer: " + v.dump());
}

int positive_int(const json& config, const char* key, const std::string& file) {
  const uint64_t v = positive_integer(config, key, file);
  if (v > (1u << 30)) fail(file, "", std::string("config's '") + key + "' is too large: " + std::to_string(v));
  return static_cast<int>(v);
}

// A number that may be absent or null (then `fallback`); anything else must be finite.
double number_or(const json& object, const char* key, double fallback, const std::string& file) {
  if (!object.contains(key) || object[key].is_null()) return fallback;
  if (!object[key].is_number())
    fail(file, "", std::string("config's '") + key + "' is not a number: " + object[key].dump());
  return object[key].get<double>();
}

bool bool_or(const json& object, const char* key, bool fallback, const std::string& file) {
  if (!object.contains(key) || object[key].is_null()) return fallback;
  if (!object[key].is_boolean()) fail(file, "", std::string("config's '") + key + "' is not true or false");
  return object[key].get<bool>();
}

// rope_scaling (or transformers 5's rope_parameters): the inverse frequencies' rescaling.
void read_rope_scaling(const json& scaling, DecoderShape& s, const std::string& file) {
  if (scaling.is_null()) return;
  if (!scaling.is_object()) fail(file, "", "config's 'rope_scaling' is not an object");
  std::string type = "default";
  for (const char* key : {"rope_type", "type"})
    if (scaling.contains(key) && scaling[key].is_string()) {
      type = scaling[key].get<std::string>();
      break;
    }
  s.rope_theta = number_or(scaling, "rope_theta", s.rope_theta, file);
  if (type == "default") return;
  if (type != "linear" && type != "llama3")
    fail(file, "", "rope_scaling type '" + type + "' is not one the decoder runs (default, linear, llama3)");
  s.rope_type = type;
  s.rope_factor = number_or(scaling, "factor", 0, file);
  if (!(s.rope_factor > 0)) fail(file, "", "rope_scaling needs a positive 'factor'");
  if (type == "llama3") {
    s.rope_low_freq_factor = number_or(scaling, "low_freq_factor", s.rope_low_freq_factor, file);
    s.rope_high_freq_factor = number_or(scaling, "high_freq_factor", s.rope_high_freq_factor, file);
    s.rope_original_max_positions =
        number_or(scaling, "original_max_position_embeddings", s.rope_original_max_positions, file);
    if (!(s.rope_low_freq_factor > 0) || !(s.rope_high_freq_factor > s.rope_low_freq_factor) ||
        !(s.rope_original_max_positions > 0))
      fail(file, "",
           "llama3 rope_scaling needs 0 < low_freq_factor < high_freq_factor and a positive "
           "original_max_position_embeddings");
  }
}

}  // namespace

bool DecoderShape::sparse_layer(int layer) const {
  if (experts == 0) return false;
  if (model_type == "mixtral") return true;
  return (layer + 1) % sparse_step == 0 &&
         std::find(mlp_only_layers.begin(), mlp_only_layers.end(), layer) == mlp_only_layers.end();
}

DecoderShape read_decoder_shape(const std::string& config_json, const std::string& file) {
  json config;
  try {
    config = json::parse(config_json);
  } catch (const json::exception& e) {
    fail(file, "", std::string("not valid JSON (") + e.what() + ")");
  }
  if (!config.is_object()) fail(file, "", "is not a JSON object");
  DecoderShape s;
  s.model_type = config.contains("model_type") && config["model_type"].is_string()
                     ? config["model_type"].get<std::string>()
                     : std::string();
  const bool mixtral = s.model_type == "mixtral", qwen_moe = s.model_type == "qwen2_moe" || s.model_type == "qwen3_moe";
  if (s.model_type != "llama" && s.model_type != "mistral" && s.model_type != "qwen2" && s.model_type != "qwen3" &&
      !mixtral && !qwen_moe)
    fail(file, "",
         "model_type '" + s.model_type +
             "' is not one the decoder runs (llama, mistral, qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe)");
  // The Mistral and Qwen families' own conventions, whatever their MoE variant.
  const std::string family = mixtral                       ? "mistral"
                             : s.model_type == "qwen2_moe" ? "qwen2"
                             : s.model_type == "qwen3_moe" ? "qwen3"
                                                           : s.model_type;

  s.layers = positive_int(config, "num_hidden_layers", file);
  s.hidden = positive_int(config, "hidden_size", file);
  s.intermediate = positive_int(config, "intermediate_size", file);
  s.heads = positive_int(config, "num_attention_heads", file);
  s.kv_heads = config.contains("num_key_value_heads") && !config["num_key_value_heads"].is_null()
                   ? positive_int(config, "num_key_value_heads", file)
                   : s.heads;
  if (s.heads % s.kv_heads != 0)
    fail(file, "",
         "num_attention_heads (" + std::to_string(s.heads) + ") is not a multiple of num_key_value_heads (" +
             std::to_string(s.kv_heads) + ")");
  if (config.contains("head_dim") && !config["head_dim"].is_null()) {
    s.head_dim = positive_int(config, "head_dim", file);
  } else {
    if (s.hidden % s.heads != 0) fail(file, "", "hidden_size is not a multiple of num_attention_heads");
    s.head_dim = s.hidden / s.heads;
  }
  if (s.head_dim % 2 != 0)
    fail(file, "", "head_dim " + std::to_string(s.head_dim) + " is odd: RoPE pairs need it even");
  s.vocab = positive_integer(config, "vocab_size", file);
  s.rms_eps = number_or(config, "rms_norm_eps", s.rms_eps, file);
  if (!(s.rms_eps >= 0)) fail(file, "", "config's 'rms_norm_eps' is negative");
  s.rope_theta = number_or(config, "rope_theta", s.rope_theta, file);
  if (config.contains("rope_scaling") && !config["rope_scaling"].is_null())
    read_rope_scaling(config["rope_scaling"], s, file);
  else if (config.contains("rope_parameters"))
    read_rope_scaling(config["rope_parameters"], s, file);
  if (!(s.rope_theta > 0)) fail(file, "", "config's 'rope_theta' is not positive");
  s.max_positions = config.contains("max_position_embeddings") && !config["max_position_embeddings"].is_null()
                        ? positive_integer(config, "max_position_embeddings", file)
                        : 0;
  s.tie_embeddings = bool_or(config, "tie_word_embeddings", false, file);
  // Qwen2's q/k/v always carry biases; Llama and Qwen3 read attention_bias; Mistral has none.
  s.qkv_bias = family == "qwen2" || (family != "mistral" && bool_or(config, "attention_bias", false, file));
  s.qk_norm = family == "qwen3";
  // Mistral's sliding window masks keys more than `sliding_window` positions back; Qwen2 uses
  // one only with use_sliding_window (Qwen3 too), which the decoder does not run.
  if (family == "mistral" && config.contains("sliding_window") && !config["sliding_window"].is_null())
    s.sliding_window = positive_integer(config, "sliding_window", file);
  if ((family == "qwen2" || family == "qwen3") && bool_or(config, "use_sliding_window", false, file))
    fail(file, "", "use_sliding_window is true: the decoder runs " + s.model_type + " with full attention only");
  if (mixtral || qwen_moe) {
    s.experts = positive_int(config, mixtral ? "num_local_experts" : "num_experts", file);
    s.top_k = positive_int(config, "num_experts_per_tok", file);
    if (s.top_k > s.experts)
      fail(file, "",
           "num_experts_per_tok (" + std::to_string(s.top_k) + ") is more than the " + std::to_string(s.experts) +
               " experts");
    s.norm_topk = mixtral || bool_or(config, "norm_topk_prob", false, file);
  }
  if (qwen_moe) {
    s.moe_intermediate = positive_int(config, "moe_intermediate_size", file);
    if (s.model_type == "qwen2_moe")
      s.shared_intermediate = positive_int(config, "shared_expert_intermediate_size", file);
    s.sparse_step = config.contains("decoder_sparse_step") && !config["decoder_sparse_step"].is_null()
                        ? positive_int(config, "decoder_sparse_step", file)
                        : 1;
    if (config.contains("mlp_only_layers") && !config["mlp_only_layers"].is_null()) {
      const json& only = config["mlp_only_layers"];
      if (!only.is_array()) fail(file, "", "config's 'mlp_only_layers' is not a list of layer indices");
      for (const json& l : only) {
        if (!l.is_number_integer() || l.get<int64_t>() < 0 || l.get<int64_t>() >= s.layers)
          fail(file, "", "config's 'mlp_only_layers' holds " + l.dump() + ", not a layer index");
        s.mlp_only_layers.push_back(static_cast<int>(l.get<int64_t>()));
      }
    }
  }
  return s;
}

}  // namespace wasmerge
