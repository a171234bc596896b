// The header reader against every rule of SPEC §3, one malformed file per rule; the
// writer's layout; model folders with an index and shards.
#include <doctest/doctest.h>

#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/model.hpp"
#include "wasmerge/safetensors.hpp"

using namespace wasmerge;
using test::Bytes;

namespace {

SafetensorsHeader parse(const Bytes& file, const std::string& name = "m.safetensors") {
  test::MemoryInputs files;
  files.add(name, file);
  return read_safetensors_header(*files.open(name));
}

// The message a malformed file gets; fails the test if it parses.
std::string error_of(const Bytes& file) {
  try {
    parse(file);
  } catch (const MergeError& e) {
    return e.what();
  }
  FAIL("a malformed file was accepted");
  return "";
}

Bytes zeros(size_t n) { return Bytes(n, 0); }

}  // namespace

TEST_CASE("reads a well-formed file: names, dtypes, shapes, offsets, metadata") {
  const Bytes file = test::safetensors_file(
      {{"b", "F32", {2, 3}, zeros(24)}, {"a", "BF16", {4}, zeros(8)}, {"empty", "F16", {0, 5}, {}}},
      R"({"format":"pt"})");
  const auto h = parse(file);
  REQUIRE(h.tensors.size() == 3);
  CHECK(h.tensors[0].name == "b");  // buffer order
  CHECK(h.tensors[0].dtype == DType::F32);
  CHECK(h.tensors[0].shape == std::vector<uint64_t>{2, 3});
  CHECK(h.tensors[1].name == "a");
  CHECK(h.tensors[1].begin == 24);
  CHECK(h.tensors[2].num_elements() == 0);
  CHECK(h.metadata.at("format") == "pt");
  CHECK(h.data_start == file.size() - 32);
}

TEST_CASE("malformed: file shorter than the 8-byte length") {
  CHECK(error_of(Bytes{1, 2, 3}) == "m.safetensors: only 3 bytes, too short for a safetensors file");
}

TEST_CASE("malformed: header length larger than the file") {
  Bytes file = test::raw_safetensors("{}", {});
  file[0] = 200;
  CHECK(error_of(file).find("runs past the end of the 10-byte file") != std::string::npos);
}

TEST_CASE("malformed: header length over 100 MB") {
  Bytes file = test::raw_safetensors("{}", {});
  file[4] = 1;  // 2^32 + 2
  CHECK(error_of(file).find("over the 100 MB limit") != std::string::npos);
}

TEST_CASE("malformed: header is not JSON") {
  CHECK(error_of(test::raw_safetensors("{\"a\":", {})).find("header is not valid JSON") != std::string::npos);
}

TEST_CASE("malformed: header is invalid UTF-8") {
  CHECK(error_of(test::raw_safetensors("{\"\xff\":1}", {})).find("not valid JSON") != std::string::npos);
}

TEST_CASE("malformed: header is JSON but not an object") {
  CHECK(error_of(test::raw_safetensors("[1,2]", {})) == "m.safetensors: header is not a JSON object");
}

TEST_CASE("malformed: unknown dtype names the tensor") {
  const auto e = error_of(test::raw_safetensors(R"({"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", zeros(16)));
  CHECK(e == "m.safetensors: tensor 'w': unknown dtype 'F128'");
}

TEST_CASE("malformed: element count times dtype size differs from the byte range") {
  const auto e = error_of(test::raw_safetensors(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", zeros(8)));
  CHECK(e == "m.safetensors: tensor 'w': shape needs 12 bytes of F32 but data_offsets [0, 8] hold 8");
}

TEST_CASE("malformed: a shape whose size overflows 64 bits") {
  const auto e = error_of(test::raw_safetensors(
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", {}));
  CHECK(e == "m.safetensors: tensor 'w': shape is too large (size overflows)");
}

TEST_CASE("malformed: negative or fractional shape entries") {
  CHECK(error_of(test::raw_safetensors(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", zeros(4)))
            .find("shape must hold non-negative integers") != std::string::npos);
  CHECK(error_of(test::raw_safetensors(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", zeros(4)))
            .find("shape must hold non-negative integers") != std::string::npos);
}

TEST_CASE("malformed: data_offsets beyond the buffer") {
  const auto e = error_of(test::raw_safetensors(
      R"({"lm_head.weight":{"dtype":"U8","shape":[999999488],"data_offsets":[512,1000000000]},"x":{"dtype":"U8","shape":[512],"data_offsets":[0,512]}})",
      zeros(4096)));
  CHECK(e == "m.safetensors: tensor 'lm_head.weight': data_offsets [512, 1000000000] beyond the 4096-byte buffer");
}

TEST_CASE("malformed: overlapping tensors") {
  const auto e = error_of(test::raw_safetensors(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      zeros(12)));
  CHECK(e == "m.safetensors: tensor 'b': data_offsets [4, 12] overlap the previous tensor (ends at 8)");
}

TEST_CASE("malformed: a hole between tensors") {
  const auto e = error_of(test::raw_safetensors(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
      zeros(12)));
  CHECK(e == "m.safetensors: tensor 'b': data_offsets [8, 12] leave a hole after byte 4");
}

TEST_CASE("malformed: a hole before the first tensor") {
  const auto e = error_of(test::raw_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", zeros(8)));
  CHECK(e.find("tensor 'a': data_offsets [4, 8] leave a hole after byte 0") != std::string::npos);
}

TEST_CASE("malformed: trailing bytes after the last tensor") {
  const auto e = error_of(test::raw_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", zeros(6)));
  CHECK(e == "m.safetensors: the data buffer is 6 bytes but the tensors end at byte 4 (trailing bytes)");
}

TEST_CASE("malformed: end before begin") {
  const auto e = error_of(test::raw_safetensors(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", zeros(4)));
  CHECK(e == "m.safetensors: tensor 'a': data_offsets [4, 0] end before begin");
}

TEST_CASE("malformed: data_offsets of the wrong form") {
  CHECK(error_of(test::raw_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", zeros(4)))
            .find("data_offsets must be a list [begin, end]") != std::string::npos);
  CHECK(error_of(test::raw_safetensors(R"({"a":{"dtype":"F32","shape":[1]}})", zeros(4)))
            .find("data_offsets must be a list") != std::string::npos);
}

TEST_CASE("malformed: duplicate tensor names") {
  const auto e = error_of(test::raw_safetensors(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      zeros(8)));
  CHECK(e == "m.safetensors: tensor 'a': appears twice in the header");
}

TEST_CASE("malformed: __metadata__ that is not a string-to-string map") {
  CHECK(error_of(test::raw_safetensors(R"({"__metadata__":["x"]})", {})) ==
        "m.safetensors: __metadata__ is not a map of strings");
  CHECK(error_of(test::raw_safetensors(R"({"__metadata__":{"n":1}})", {})) ==
        "m.safetensors: __metadata__ value for 'n' is not a string");
}

TEST_CASE("malformed: a tensor entry that is not an object, or lacks dtype/shape") {
  CHECK(error_of(test::raw_safetensors(R"({"a":3})", {})) == "m.safetensors: tensor 'a': entry is not a JSON object");
  CHECK(error_of(test::raw_safetensors(R"({"a":{"shape":[0],"data_offsets":[0,0]}})", {})) ==
        "m.safetensors: tensor 'a': missing dtype");
  CHECK(error_of(test::raw_safetensors(R"({"a":{"dtype":"F32","data_offsets":[0,0]}})", {})) ==
        "m.safetensors: tensor 'a': missing shape");
}

TEST_CASE("writer: header padded with spaces to a multiple of 8, offsets back to back") {
  std::vector<TensorInfo> tensors = {{"x", DType::BF16, {3}, 0, 0}, {"y", DType::F32, {2, 2}, 0, 0}};
  const std::string bytes = serialize_safetensors_header(tensors, {{"format", "pt"}});
  CHECK(bytes.size() % 8 == 0);
  CHECK(tensors[0].begin == 0);
  CHECK(tensors[0].end == 6);
  CHECK(tensors[1].begin == 6);
  CHECK(tensors[1].end == 22);
  const std::string json = bytes.substr(8);
  CHECK(json.rfind("{\"__metadata__\":{\"format\":\"pt\"},\"x\":", 0) == 0);
  CHECK(json.find_last_not_of(' ') == json.find_last_of('}'));
  // The reader accepts what the writer wrote.
  Bytes file(bytes.begin(), bytes.end());
  file.resize(file.size() + 22);
  const auto h = parse(file);
  CHECK(h.tensors.size() == 2);
  CHECK(h.tensors[1].name == "y");
}

TEST_CASE("model: a sharded folder through model.safetensors.index.json") {
  test::MemoryInputs files;
  files.add("m/model-00001-of-00002.safetensors", test::safetensors_file({{"a", "F32", {1}, zeros(4)}}));
  files.add("m/model-00002-of-00002.safetensors",
            test::safetensors_file({{"c", "F32", {2}, zeros(8)}, {"b", "F32", {1}, zeros(4)}}));
  files.add_text("m/model.safetensors.index.json",
                 R"({"metadata":{"total_size":16},"weight_map":{"a":"model-00001-of-00002.safetensors",
                    "b":"model-00002-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}})");
  const Model m = open_model(files, "m");
  CHECK(m.is_folder);
  REQUIRE(m.tensors.size() == 3);
  CHECK(m.tensors[0].info.name == "a");
  CHECK(m.tensors[1].info.name == "c");  // shard order, then buffer order
  CHECK(m.find("b")->source->name() == "m/model-00002-of-00002.safetensors");
  CHECK(m.find("zzz") == nullptr);
}

TEST_CASE("model: an index naming a missing shard, or a tensor its shard lacks") {
  test::MemoryInputs files;
  files.add("m/s1.safetensors", test::safetensors_file({{"a", "F32", {1}, zeros(4)}}));
  files.add_text("m/model.safetensors.index.json", R"({"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}})");
  CHECK_THROWS_WITH(open_model(files, "m"), "m/model.safetensors.index.json: names shard 's2.safetensors', which is missing");
  files.add_text("m/model.safetensors.index.json", R"({"weight_map":{"a":"s1.safetensors","b":"s1.safetensors"}})");
  CHECK_THROWS_WITH(open_model(files, "m"), "m/s1.safetensors: tensor 'b': listed in the index but not in the shard");
  files.add_text("m/model.safetensors.index.json", R"({"weight_map":{"a":"../../etc/passwd"}})");
  CHECK_THROWS_WITH(open_model(files, "m"),
                    "m/model.safetensors.index.json: tensor 'a': weight_map names a file outside the folder: '../../etc/passwd'");
}

TEST_CASE("model: a folder with model.safetensors, a single file, and a missing path") {
  test::MemoryInputs files;
  files.add("f/model.safetensors", test::safetensors_file({{"a", "F32", {1}, zeros(4)}}));
  files.add("one.safetensors", test::safetensors_file({{"a", "F32", {1}, zeros(4)}}));
  CHECK(open_model(files, "f").is_folder);
  CHECK_FALSE(open_model(files, "one.safetensors").is_folder);
  CHECK_THROWS_WITH(open_model(files, "nope"),
                    "nope: not found: expected a .safetensors file, or a folder with model.safetensors or "
                    "model.safetensors.index.json");
}
