#pragma once
// The safetensors dtypes (SPEC §3) and what the engine needs to know about each.
#include <cstddef>
#include <optional>
#include <string>

namespace wasmerge {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };

std::optional<DType> dtype_from_name(const std::string& name);  // "BF16" -> BF16
const char* dtype_name(DType t);                                // BF16 -> "BF16"
size_t dtype_size(DType t);
// The floating dtypes the engine converts to f32 and merges; others pass through.
bool is_mergeable(DType t);

// mergekit's `dtype:` spellings ("bfloat16", "float16", "float32") and torch_dtype names.
std::optional<DType> dtype_from_torch_name(const std::string& name);
const char* torch_dtype_name(DType t);

}  // namespace wasmerge
