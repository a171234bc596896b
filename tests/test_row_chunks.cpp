// The block pipeline's chunks of whole rows (PipelineNeeds::row_length): every chunk
// starts at a row boundary and holds whole rows, the layout depends on the row length
// alone (not on the budget or the thread count), a row longer than kChunk is a chunk of
// its own, and a row longer than the budget holds is an error naming the tensor.
#include <doctest/doctest.h>

#include <mutex>

#include "pipeline/block_pipeline.hpp"
#include "support.hpp"
#include "wasmerge/config.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/plan.hpp"

using namespace wasmerge;

namespace {

struct Seen {
  uint64_t first;
  size_t count, capacity, row_length, index;
  bool operator==(const Seen& o) const {
    return first == o.first && count == o.count && capacity == o.capacity && row_length == o.row_length &&
           index == o.index;
  }
};

// Each chunk of one pass over a [rows, columns] tensor, in chunk order, with its first values.
struct Pass {
  std::vector<Seen> chunks;
  std::vector<float> first_values;  // the model's value at each chunk's first element
};

Pass chunks_of(uint64_t rows, uint64_t columns, uint64_t row_length, uint64_t budget_mb, unsigned threads) {
  const uint64_t n = rows * columns;
  std::vector<double> values(n);
  for (uint64_t i = 0; i < n; ++i) values[i] = static_cast<double>(i % 1000);
  test::MemoryInputs files;
  files.add("b.safetensors", test::safetensors_file({{"w", "F32", {rows, columns}, test::encode("F32", values)}}));
  files.add("m.safetensors", test::safetensors_file({{"w", "F32", {rows, columns}, test::encode("F32", values)}}));
  MergePlan plan = make_plan(parse_config(R"({"merge_method":"task_arithmetic","base_model":"b.safetensors",
                       "models":[{"model":"m.safetensors","parameters":{"weight":1}}]})"),
                             files, 1ull << 40);
  ThreadPool pool(threads);
  PipelineBuffers buffers;
  PipelineNeeds needs;
  needs.row_length = row_length;
  BlockPipeline pipeline(pool, buffers, budget_mb << 20, plan.outputs.at(0), needs, [](uint64_t) {});
  Pass pass;
  pipeline.reduce<std::pair<Seen, float>>(
      [](Chunk& c) {
        return std::make_pair(Seen{c.first, c.count, c.capacity, c.row_length, c.index}, c.models[0][0]);
      },
      [&](std::pair<Seen, float>& s) {
        pass.chunks.push_back(s.first);
        pass.first_values.push_back(s.second);
      });
  return pass;
}

}  // namespace

TEST_CASE("row chunks: whole rows per chunk, the same layout for any budget and thread count") {
  const uint64_t rows = 300, columns = 1000;  // 16 rows a chunk: 19 chunks, the last of 12 rows
  const Pass whole = chunks_of(rows, columns, columns, 1024, 1);
  REQUIRE(whole.chunks.size() == 19);
  uint64_t next = 0;
  for (size_t c = 0; c < whole.chunks.size(); ++c) {
    const Seen& s = whole.chunks[c];
    CHECK(s.first == next);
    CHECK(s.index == c);
    CHECK(s.capacity == 16 * columns);
    CHECK(s.row_length == columns);
    CHECK(s.count == (c + 1 < whole.chunks.size() ? 16 * columns : 12 * columns));
    CHECK(whole.first_values[c] == static_cast<float>(s.first % 1000));  // the data is the chunk's own
    next += s.count;
  }
  CHECK(next == rows * columns);
  for (unsigned threads : {1u, 3u})
    for (uint64_t mb : {1u, 2u, 1024u}) {
      const Pass other = chunks_of(rows, columns, columns, mb, threads);
      CHECK(other.chunks == whole.chunks);
      CHECK(other.first_values == whole.first_values);
    }
}

TEST_CASE("row chunks: a row longer than kChunk is one chunk; no row length keeps kChunk chunks") {
  const Pass long_rows = chunks_of(3, 20000, 20000, 1, 3);
  REQUIRE(long_rows.chunks.size() == 3);
  for (size_t c = 0; c < 3; ++c) {
    CHECK(long_rows.chunks[c].first == c * 20000);
    CHECK(long_rows.chunks[c].count == 20000);
    CHECK(long_rows.chunks[c].capacity == 20000);
  }
  const Pass plain = chunks_of(3, 20000, 0, 1, 3);
  REQUIRE(plain.chunks.size() == 4);
  CHECK(plain.chunks[1].first == BlockPipeline::kChunk);
  CHECK(plain.chunks[0].capacity == BlockPipeline::kChunk);
  CHECK(plain.chunks[0].row_length == 0);
  CHECK(plain.chunks[3].count == 60000 - 3 * BlockPipeline::kChunk);
}

TEST_CASE("row chunks: a row longer than the budget holds is an error naming the tensor") {
  // 1 MB: half for blocks, two blocks of two inputs and the output, 4 bytes each → 21845 elements.
  try {
    chunks_of(2, 40000, 40000, 1, 1);
    FAIL("no error");
  } catch (const MergeError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("tensor 'w'") != std::string::npos);
    CHECK(what.find("whole rows, of 40000 elements") != std::string::npos);
  }
}
