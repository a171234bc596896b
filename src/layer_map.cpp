// The mapping stage of the plan (see layer_map.hpp).
#include "layer_map.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "wasmerge/architecture.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

std::vector<std::string> names_of(const Model& m) {
  std::vector<std::string> names;
  for (const auto& t : m.tensors) names.push_back(t.info.name);
  return names;
}

// A model's tensors by layer, each layer's in the model's own order.
struct ModelLayers {
  int count = 0;
  std::map<int, std::vector<const ModelTensor*>> layers;
  std::vector<const ModelTensor*> others;  // no layer number

  explicit ModelLayers(const Model& m) {
    for (const auto& t : m.tensors) {
      if (auto l = parse_layer_name(t.info.name))
        layers[l->layer].push_back(&t);
      else
        others.push_back(&t);
    }
    count = count_layers(names_of(m));
  }
  const std::vector<const ModelTensor*>& layer(int i) const {
    static const std::vector<const ModelTensor*> none;
    auto it = layers.find(i);
    return it == layers.end() ? none : it->second;
  }
};

const ModelTensor& find_input(const Model& model, const std::string& name, const ModelTensor& reference) {
  const ModelTensor* t = model.find(name);
  if (!t) fail(model.path, name, "missing (it is in " + reference.source->name() + ")");
  return *t;
}

std::string range_text(int a, int b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + "]"; }

// `models:`: the identity map, in the reference model's order.
LayerMap map_models(const MergePlan& plan) {
  const MergeConfig& c = plan.config;
  const Slice& slice = c.slices.front();
  LayerMap map;
  const Model& ref = plan.model(c.base_model ? *c.base_model : slice.sources.front().model);
  map.donor = &ref;
  const int n = count_layers(names_of(ref));
  for (const auto& t : ref.tensors) {
    MappedTensor m;
    m.name = t.info.name;
    m.reference = &t;
    if (c.uses_base()) m.base = &t;
    if (auto layer = parse_layer_name(t.info.name)) m.t = n <= 1 ? 1.0 : static_cast<double>(layer->layer) / (n - 1);
    for (const auto& source : slice.sources) m.inputs.push_back(&find_input(plan.model(source.model), t.info.name, t));
    map.tensors.push_back(std::move(m));
  }
  for (const auto& source : slice.sources)
    for (const auto& t : plan.model(source.model).tensors)
      if (!ref.find(t.info.name))
        map.warnings.push_back(where(source.model, t.info.name, "not in " + ref.path + "; left out of the merge"));
  if (n > 0) {
    LayerRun run{0, n, {}};
    if (c.uses_base()) run.sources.push_back({ref.path, 0});
    for (const auto& source : slice.sources) run.sources.push_back({source.model, 0});
    map.runs.push_back(std::move(run));
    for (int i = 0; i < n; ++i) map.layer_map.push_back(i);
  }
  map.output_layers = n;
  return map;
}

// One slice's sources, the base first: the first of them is the slice's reference.
std::vector<const SliceSource*> sources_of(const Slice& slice) {
  std::vector<const SliceSource*> all;
  if (slice.base) all.push_back(&*slice.base);
  for (const auto& s : slice.sources) all.push_back(&s);
  return all;
}

class SliceMapper {
 public:
  explicit SliceMapper(const MergePlan& plan) : plan_(plan), c_(plan.config) {}

  LayerMap run() {
    map_.donor = &plan_.model(c_.base_model ? *c_.base_model : sources_of(c_.slices.front()).front()->model);
    for (size_t s = 0; s < c_.slices.size(); ++s) check_ranges(s);
    add_others(0, true);
    for (size_t s = 0; s < c_.slices.size(); ++s) add_layers(s);
    add_others(c_.slices.size() - 1, false);
    if (map_.tensors.empty()) fail("config", "", "the slices give an empty model: no layers and no other tensors");
    map_.output_layers = static_cast<int>(map_.layer_map.size());
    const int donor_layers = layers(*map_.donor).count;
    map_.layers_changed = map_.output_layers != donor_layers;
    for (int o = 0; o < map_.output_layers && !map_.layers_changed; ++o) map_.layers_changed = map_.layer_map[o] != o;
    return std::move(map_);
  }

 private:
  const ModelLayers& layers(const Model& m) {
    auto it = layers_.find(&m);
    if (it == layers_.end()) it = layers_.emplace(&m, ModelLayers(m)).first;
    return it->second;
  }

  void check_ranges(size_t s) {
    const auto sources = sources_of(c_.slices[s]);
    for (const SliceSource* src : sources) {
      const auto [a, b] = *src->layer_range;
      const int n = layers(plan_.model(src->model)).count;
      if (b > n)
        fail(src->model, "",
             "layer_range " + range_text(a, b) + " is outside the model's " + std::to_string(n) + " layers");
    }
    const SliceSource& ref = *sources.front();
    for (const SliceSource* src : sources)
      if (src->layer_range->second - src->layer_range->first != ref.layer_range->second - ref.layer_range->first)
        fail("config", "",
             "slice " + std::to_string(s + 1) + ": its sources span different numbers of layers (" + ref.model + ": " +
                 std::to_string(ref.layer_range->second - ref.layer_range->first) + ", " + src->model + ": " +
                 std::to_string(src->layer_range->second - src->layer_range->first) + ")");
  }

  // A tensor made from the namesakes (or renamed layer tensors) of every source of slice s.
  void add(size_t s, const std::string& out_name, double t, const ModelTensor& ref,
           const std::function<std::string(const SliceSource&)>& input_name) {
    const Slice& slice = c_.slices[s];
    MappedTensor m;
    m.name = out_name;
    m.slice = s;
    m.t = t;
    m.reference = &ref;
    if (slice.base) m.base = &find_input(plan_.model(slice.base->model), input_name(*slice.base), ref);
    for (const auto& src : slice.sources) m.inputs.push_back(&find_input(plan_.model(src.model), input_name(src), ref));
    map_.tensors.push_back(std::move(m));
  }

  // Pre-weights (embeddings) from the first slice, post-weights (the rest) from the last.
  void add_others(size_t s, bool pre) {
    const Model& ref = plan_.model(sources_of(c_.slices[s]).front()->model);
    for (const ModelTensor* t : layers(ref).others)
      if (is_pre_weight(t->info.name) == pre)
        add(s, t->info.name, 0.0, *t, [&](const SliceSource&) { return t->info.name; });
  }

  void add_layers(size_t s) {
    const auto sources = sources_of(c_.slices[s]);
    const SliceSource& ref_source = *sources.front();
    const Model& ref = plan_.model(ref_source.model);
    const auto [first, end] = *ref_source.layer_range;
    const int n = end - first;
    LayerRun run{static_cast<int>(map_.layer_map.size()), static_cast<int>(map_.layer_map.size()) + n, {}};
    for (const SliceSource* src : sources) run.sources.push_back({src->model, src->layer_range->first});
    for (int j = 0; j < n; ++j) {
      const int o = static_cast<int>(map_.layer_map.size());
      const auto& templates = layers(ref).layer(first + j);
      for (const SliceSource* src : sources) {
        const int layer = src->layer_range->first + j;
        if (layers(plan_.model(src->model)).layer(layer).size() != templates.size())
          fail(src->model, "",
               "layer " + std::to_string(layer) + " has " +
                   std::to_string(layers(plan_.model(src->model)).layer(layer).size()) + " tensors, " +
                   ref_source.model + " layer " + std::to_string(first + j) + " has " +
                   std::to_string(templates.size()) + ": the sources of slice " + std::to_string(s + 1) +
                   " need the same tensors");
      }
      const double t = n == 1 ? 1.0 : static_cast<double>(j) / (n - 1);
      for (const ModelTensor* t_ref : templates) {
        const LayerName name = *parse_layer_name(t_ref->info.name);
        add(s, name.with_layer(o), t, *t_ref,
            [&](const SliceSource& src) { return name.with_layer(src.layer_range->first + j); });
      }
      map_.layer_map.push_back(first + j);
    }
    map_.runs.push_back(std::move(run));
  }

  const MergePlan& plan_;
  const MergeConfig& c_;
  LayerMap map_;
  std::map<const Model*, ModelLayers> layers_;
};

}  // namespace

LayerMap map_tensors(const MergePlan& plan) {
  return plan.config.uses_slices ? SliceMapper(plan).run() : map_models(plan);
}

}  // namespace wasmerge
