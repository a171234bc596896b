#include "wasmerge/dtype.hpp"

namespace wasmerge {
namespace {

struct DTypeRow {
  DType type;
  const char* name;
  size_t size;
};

constexpr DTypeRow kRows[] = {
    {DType::F64, "F64", 8},         {DType::F32, "F32", 4},         {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},       {DType::I64, "I64", 8},         {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},         {DType::I8, "I8", 1},           {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},       {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
};

const DTypeRow& row(DType t) { return kRows[static_cast<int>(t)]; }

}  // namespace

std::optional<DType> dtype_from_name(const std::string& name) {
  for (const auto& r : kRows)
    if (name == r.name) return r.type;
  return std::nullopt;
}

const char* dtype_name(DType t) { return row(t).name; }
size_t dtype_size(DType t) { return row(t).size; }

bool is_mergeable(DType t) {
  return t == DType::F64 || t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

std::optional<DType> dtype_from_torch_name(const std::string& name) {
  if (name == "float32" || name == "fp32") return DType::F32;
  if (name == "float16" || name == "fp16" || name == "half") return DType::F16;
  if (name == "bfloat16" || name == "bf16") return DType::BF16;
  return std::nullopt;
}

const char* torch_dtype_name(DType t) {
  switch (t) {
    case DType::F64: return "float64";
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    default: return dtype_name(t);
  }
}

}  // namespace wasmerge
