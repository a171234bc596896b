// The CRC-32 the engine computes for a zip's entries (the page's outputs), against a
// bit-at-a-time reference and the standard's check value; and a merge's writes carrying
// the right CRC when a sink asks for them.
#include <doctest/doctest.h>

#include <random>

#include "support.hpp"
#include "wasmerge/crc32.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;

namespace {

// The definition, one bit at a time: reflected 0xEDB88320, register and result inverted.
uint32_t reference_crc(const uint8_t* data, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= data[i];
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return ~c;
}

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Keeps what is written, and checks every CRC that comes with a write.
class CrcCheckingOutputs : public test::MemoryOutputs {
 public:
  size_t checked = 0;
  std::unique_ptr<ByteSink> create(const std::string& name) override {
    pending[name].clear();
    return std::make_unique<Sink>(pending[name], checked);
  }

 private:
  class Sink : public ByteSink {
   public:
    Sink(Bytes& bytes, size_t& checked) : bytes_(bytes), checked_(checked) {}
    bool wants_crc() const override { return true; }
    void write(const uint8_t* data, size_t n) override { bytes_.insert(bytes_.end(), data, data + n); }
    void write_with_crc(const uint8_t* data, size_t n, uint32_t crc) override {
      CHECK(crc == reference_crc(data, n));
      ++checked_;
      write(data, n);
    }

   private:
    Bytes& bytes_;
    size_t& checked_;
  };
};

}  // namespace

TEST_CASE("crc32: the check value, the bitwise definition, and continuing a CRC") {
  const std::string check = "123456789";
  CHECK(crc32(reinterpret_cast<const uint8_t*>(check.data()), check.size()) == 0xCBF43926u);
  CHECK(crc32(nullptr, 0) == 0);
  const Bytes b = random_bytes(5000, 1);
  for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{63}, size_t{1000}, size_t{5000}}) {
    CAPTURE(n);
    CHECK(crc32(b.data(), n) == reference_crc(b.data(), n));
    for (size_t split : {size_t{0}, size_t{1}, n / 3, n})
      CHECK(crc32(b.data() + split, n - split, crc32(b.data(), split)) == reference_crc(b.data(), n));
  }
}

TEST_CASE("crc32_combine: the CRC of A then B from both CRCs and B's length") {
  const Bytes b = random_bytes(200000, 2);
  for (size_t split : {size_t{0}, size_t{1}, size_t{4096}, size_t{65536}, size_t{131071}, b.size()}) {
    CAPTURE(split);
    const uint32_t a_crc = reference_crc(b.data(), split), b_crc = reference_crc(b.data() + split, b.size() - split);
    CHECK(crc32_combine(a_crc, b_crc, b.size() - split) == reference_crc(b.data(), b.size()));
  }
  // Pieces of a chunk's length joined in order, as the write pass joins a block's chunks.
  uint32_t joined = 0;
  for (size_t at = 0; at < b.size(); at += 32768) {
    const size_t n = std::min<size_t>(32768, b.size() - at);
    joined = crc32_combine(joined, crc32(b.data() + at, n), n);
  }
  CHECK(joined == reference_crc(b.data(), b.size()));
}

TEST_CASE("A sink that wants CRCs gets each merged block's, and the same bytes as one that does not") {
  // 70000 elements: several chunks, and several blocks within 2 MB.
  std::vector<double> base(70000), a(70000), b(70000);
  for (size_t i = 0; i < base.size(); ++i) {
    base[i] = static_cast<double>(i % 97) / 64.0;
    a[i] = base[i] + static_cast<double>(i % 13) / 32.0;
    b[i] = base[i] - static_cast<double>(i % 7) / 16.0;
  }
  test::MemoryInputs files;
  auto add = [&](const char* name, const std::vector<double>& v) {
    files.add(name, test::safetensors_file({{"w", "BF16", {v.size()}, test::encode("BF16", v)}}));
  };
  add("base.safetensors", base);
  add("a.safetensors", a);
  add("b.safetensors", b);
  for (
      const std::string config :
      {R"({"merge_method":"task_arithmetic","base_model":"base.safetensors","models":[{"model":"a.safetensors","parameters":{"weight":0.5}},{"model":"b.safetensors","parameters":{"weight":0.7}}]})",
       R"({"merge_method":"ties","base_model":"base.safetensors","models":[{"model":"a.safetensors","parameters":{"weight":0.5,"density":0.3}},{"model":"b.safetensors","parameters":{"weight":0.7,"density":0.6}}]})"})
    for (const uint64_t memory_mb : {uint64_t{2}, uint64_t{1024}}) {
      CAPTURE(config);
      CAPTURE(memory_mb);
      MergeOptions o;
      o.memory_mb = memory_mb;
      o.threads = 3;
      test::MemoryOutputs plain;
      CrcCheckingOutputs checking;
      run_merge(config, o, files, plain);
      run_merge(config, o, files, checking);
      CHECK(checking.checked >= (memory_mb == 2 ? 2u : 1u));
      CHECK(checking.committed == plain.committed);
    }
}
