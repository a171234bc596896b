// The evaluation's bar chart: perplexity and bits per byte of each model, side by side, as
// plain SVG (no library). Lower is better in both; each panel's lowest bar is marked.
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 320;
const LABEL = 96;   // room for the model names, left of the bars
const VALUE = 56;   // room for the numbers, right of the bars
const BAR = 16;
const GAP = 6;
const TITLE = 20;

function svgEl(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const shortName = (name) => (name.length > 14 ? `${name.slice(0, 13)}…` : name);

// One panel: a title and a horizontal bar per row. values: numbers (Infinity / NaN drawn
// as an empty bar with its text); format(x): the number as shown.
function panel({ title, names, values, format, testid }) {
  const height = TITLE + names.length * (BAR + GAP);
  const svg = svgEl('svg', { viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, role: 'img', class: 'eval-chart-panel',
    'data-testid': testid, 'aria-label': `${title}: ${names.map((n, i) => `${n} ${format(values[i])}`).join(', ')}` });
  svg.append(svgEl('text', { x: 0, y: 13, class: 'eval-chart-title' }, title));
  const finite = values.filter(Number.isFinite);
  const max = Math.max(0, ...finite);
  const best = finite.length ? Math.min(...finite) : NaN;
  const span = WIDTH - LABEL - VALUE;
  names.forEach((name, i) => {
    const y = TITLE + i * (BAR + GAP);
    const v = values[i];
    const w = Number.isFinite(v) && max > 0 ? Math.max(1, (v / max) * span) : 0;
    const label = svgEl('text', { x: LABEL - 6, y: y + BAR - 4, 'text-anchor': 'end', class: 'eval-chart-label' }, shortName(name));
    label.append(svgEl('title', {}, name));
    svg.append(label,
      svgEl('rect', { x: LABEL, y, width: w, height: BAR, rx: 3, class: v === best ? 'eval-bar best' : 'eval-bar' }),
      svgEl('text', { x: LABEL + w + 4, y: y + BAR - 4, class: 'eval-chart-value' }, format(v)));
  });
  return svg;
}

// el: the chart's container; rows: [{name, perplexity, bits_per_byte}]; format: {perplexity(x), bitsPerByte(x)}
function renderEvalChart(el, rows, format) {
  const names = rows.map((r) => r.name);
  el.replaceChildren(
    panel({ title: 'Perplexity', names, values: rows.map((r) => r.perplexity), format: format.perplexity, testid: 'eval-chart-perplexity' }),
    panel({ title: 'Bits per byte', names, values: rows.map((r) => r.bits_per_byte), format: format.bitsPerByte, testid: 'eval-chart-bpb' }));
}

export { renderEvalChart };
