// The layer map of a merge's result in words, from the plan event's `layers` (the engine's
// mapping stage, SPEC §5): one line per slice, "output layers 0–23 ← ./mistral: 0–23".
// Ranges arrive half-open ([0, 24]) and are shown as the layers they hold (0–23).
// [a, b) -> '3' | '0–23' | 'none'
function rangeText(range) {
  if (!Array.isArray(range) || range.length !== 2) return '?';
  const [a, b] = range;
  if (!(b > a)) return 'none';
  return b - a === 1 ? String(a) : `${a}–${b - 1}`;
}

const layerWord = (range) => (range[1] - range[0] === 1 ? 'layer' : 'layers');

// layers: the plan event's {output, map} (or null) -> [line], empty when there is no map
function lines(layers) {
  if (!layers || !Array.isArray(layers.map)) return [];
  return layers.map.map((entry) => `output ${layerWord(entry.output)} ${rangeText(entry.output)} ← ` +
    entry.sources.map((s) => `${s.model}: ${rangeText(s.layers)}`).join(', '));
}

// Fills list (a <ul>) with the map's lines; hidden when there are none. The list's
// data-layers says how many output layers the result has.
function render(list, layers) {
  const text = lines(layers);
  list.replaceChildren(...text.map((line) => {
    const li = document.createElement('li');
    li.textContent = line;
    return li;
  }));
  list.hidden = text.length === 0;
  if (text.length) list.dataset.layers = String(layers.output);
  else delete list.dataset.layers;
}

export { rangeText, lines, render };
