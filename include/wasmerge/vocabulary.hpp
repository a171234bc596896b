#pragma once
// A vocabulary change (`tokenizer_source: union`, `tokenizer:`), as mergekit's tokenizer
// merge makes it (tokenizer/build.py, embed.py): the output's tokens, each model's rows in
// that order, the remapped vocabulary tensors of the plan, and the tokenizer files.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/model.hpp"

namespace wasmerge {

struct MergePlan;
struct OutputTensor;

// An entry of tokenizer.json's added_tokens: how the tokenizer treats the token.
struct AddedToken {
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false;
  bool normalized = true, special = false;  // what transformers' add_tokens gives a plain token
  bool same_settings(const AddedToken& o) const;
};

// One model's tokenizer.json, as far as the merge needs it.
struct TokenizerVocab {
  std::string file;
  std::unordered_map<std::string, uint64_t> ids;  // every token (model vocabulary and added ones) -> id
  std::map<uint64_t, AddedToken> added;           // by id
  std::vector<std::pair<uint64_t, std::string>> by_id() const;
};

struct OutputVocabulary {
  std::string source;                                   // "union", "base" or the model path
  const Model* tokenizer_model = nullptr;               // whose tokenizer files the output's are made from
  uint64_t kept = 0;                                    // its ids [0, kept) stay as they are
  std::vector<uint64_t> dropped;                        // its added tokens past its rows, left out (ids)
  std::vector<AddedToken> appended;                     // new tokens, ids kept + i
  std::vector<std::string> tokens;                      // every output token, by id
  uint64_t rows = 0;                                    // tokens.size() padded to pad_to_multiple_of
  std::map<std::string, TokenizerVocab> vocabs;         // model path -> its tokenizer
  std::map<std::string, std::vector<int64_t>> rows_of;  // model path -> per output id: its row, or -1
  std::vector<std::string> warnings;
};

// Null when the config asks for no vocabulary change. Reads every model's tokenizer.json.
std::shared_ptr<const OutputVocabulary> build_vocabulary(const MergePlan& plan, InputFiles& files);
// A vocabulary tensor of the plan: its shape becomes [rows, ...], and each source (the base
// and the inputs) gets its RowMap. Checks the inputs' columns and dtypes itself.
void remap_vocabulary_tensor(MergePlan& plan, OutputTensor& out);
// The output's tokenizer file `name`, from the source's text (read from `path`):
// tokenizer.json with the new tokens, tokenizer_config.json with added_tokens_decoder and
// chat_template, added_tokens.json; every other file as it is.
std::string edited_tokenizer_file(const MergePlan& plan, const std::string& name, const std::string& path,
                                  const std::string& text);

// One model's tokenizer.json (src/vocabulary/tokenizer_json.cpp); `why` says what reads it.
TokenizerVocab read_tokenizer_vocab(InputFiles& files, const Model& model, const std::string& why);

}  // namespace wasmerge
