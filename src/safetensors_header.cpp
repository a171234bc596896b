// Reading and writing safetensors headers. The reader checks every rule of SPEC §3 and
// names the file and tensor in each message; nothing in the header is trusted.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "wasmerge/error.hpp"
#include "wasmerge/safetensors.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::json;

std::string offsets_text(uint64_t begin, uint64_t end) {
  return "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// Parses the JSON, refusing a key that appears twice in the top-level object
// (nlohmann would keep the last one silently).
json parse_json_rejecting_duplicates(const std::string& file, const uint8_t* bytes, uint64_t len) {
  std::set<std::string> seen;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second) fail(file, key, "appears twice in the header");
    }
    return true;
  };
  try {
    return json::parse(bytes, bytes + len, on_event);
  } catch (const json::exception& e) {
    fail(file, "", std::string("header is not valid JSON (") + e.what() + ")");
  }
}

uint64_t unsigned_field(const std::string& file, const std::string& tensor, const json& v, const char* what) {
  if (!v.is_number_unsigned()) fail(file, tensor, std::string(what) + " must hold non-negative integers");
  return v.get<uint64_t>();
}

TensorInfo parse_tensor_entry(const std::string& file, const std::string& name, const json& entry) {
  if (!entry.is_object()) fail(file, name, "entry is not a JSON object");
  TensorInfo info;
  info.name = name;

  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) fail(file, name, "missing dtype");
  auto dtype = dtype_from_name(dtype_it->get<std::string>());
  if (!dtype) fail(file, name, "unknown dtype '" + dtype_it->get<std::string>() + "'");
  info.dtype = *dtype;

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) fail(file, name, "missing shape");
  for (const auto& dim : *shape_it) info.shape.push_back(unsigned_field(file, name, dim, "shape"));

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2)
    fail(file, name, "data_offsets must be a list [begin, end]");
  info.begin = unsigned_field(file, name, (*offsets_it)[0], "data_offsets");
  info.end = unsigned_field(file, name, (*offsets_it)[1], "data_offsets");
  if (info.end < info.begin) fail(file, name, offsets_text(info.begin, info.end) + " end before begin");

  // Element count × dtype size, refusing any product that overflows 64 bits.
  uint64_t bytes = dtype_size(info.dtype);
  for (uint64_t dim : info.shape) {
    if (dim != 0 && bytes > UINT64_MAX / dim) fail(file, name, "shape is too large (size overflows)");
    bytes *= dim;
  }
  if (bytes != info.num_bytes())
    fail(file, name,
         "shape needs " + std::to_string(bytes) + " bytes of " + dtype_name(info.dtype) + " but " +
             offsets_text(info.begin, info.end) + " hold " + std::to_string(info.num_bytes()));
  return info;
}

std::map<std::string, std::string> parse_metadata(const std::string& file, const json& meta) {
  if (!meta.is_object()) fail(file, "", "__metadata__ is not a map of strings");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : meta.items()) {
    if (!value.is_string()) fail(file, "", "__metadata__ value for '" + key + "' is not a string");
    out[key] = value.get<std::string>();
  }
  return out;
}

// The tensors must tile the buffer exactly: sorted by offset, each starts where the
// previous ended, the first at 0, the last at the end of the file.
void check_layout(const std::string& file, std::vector<TensorInfo>& tensors, uint64_t buffer_size) {
  std::stable_sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected_begin = 0;
  for (const auto& t : tensors) {
    if (t.end > buffer_size)
      fail(file, t.name, offsets_text(t.begin, t.end) + " beyond the " + std::to_string(buffer_size) + "-byte buffer");
    if (t.begin < expected_begin)
      fail(file, t.name, offsets_text(t.begin, t.end) + " overlap the previous tensor (ends at " +
                             std::to_string(expected_begin) + ")");
    if (t.begin > expected_begin)
      fail(file, t.name, offsets_text(t.begin, t.end) + " leave a hole after byte " + std::to_string(expected_begin));
    expected_begin = t.end;
  }
  if (expected_begin != buffer_size)
    fail(file, "", "the data buffer is " + std::to_string(buffer_size) + " bytes but the tensors end at byte " +
                       std::to_string(expected_begin) + " (trailing bytes)");
}

}  // namespace

uint64_t TensorInfo::num_elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

SafetensorsHeader parse_safetensors_header(const std::string& file, const uint8_t* bytes, uint64_t header_len,
                                           uint64_t file_size) {
  const json root = parse_json_rejecting_duplicates(file, bytes, header_len);
  if (!root.is_object()) fail(file, "", "header is not a JSON object");

  SafetensorsHeader header;
  header.data_start = 8 + header_len;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") header.metadata = parse_metadata(file, value);
    else header.tensors.push_back(parse_tensor_entry(file, key, value));
  }
  check_layout(file, header.tensors, file_size - header.data_start);
  return header;
}

SafetensorsHeader read_safetensors_header(ByteSource& src) {
  const std::string& file = src.name();
  const uint64_t file_size = src.size();
  if (file_size < 8) fail(file, "", "only " + std::to_string(file_size) + " bytes, too short for a safetensors file");
  uint8_t prefix[8];
  src.read(0, 8, prefix);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | prefix[i];
  if (header_len > kMaxHeaderBytes)
    fail(file, "", "header length " + std::to_string(header_len) + " is over the 100 MB limit");
  if (header_len > file_size - 8)
    fail(file, "", "header length " + std::to_string(header_len) + " runs past the end of the " +
                       std::to_string(file_size) + "-byte file (truncated?)");
  std::string text(static_cast<size_t>(header_len), '\0');
  src.read(8, text.size(), reinterpret_cast<uint8_t*>(text.data()));
  return parse_safetensors_header(file, reinterpret_cast<const uint8_t*>(text.data()), header_len, file_size);
}

std::string serialize_safetensors_header(std::vector<TensorInfo>& tensors,
                                         const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json root;
  if (!metadata.empty()) root["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (auto& t : tensors) {
    const uint64_t size = t.num_elements() * dtype_size(t.dtype);
    t.begin = offset;
    t.end = offset + size;
    offset = t.end;
    root[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
  }
  std::string text = root.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data buffer starts 8-aligned
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((static_cast<uint64_t>(text.size()) >> (8 * i)) & 0xFF);
  return out + text;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace wasmerge
