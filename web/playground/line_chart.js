// A small SVG line chart (no library: the page fetches nothing from elsewhere): series of
// points over evenly spaced x categories, optional horizontal reference lines, a legend.
const SVG = 'http://www.w3.org/2000/svg';
const W = 460;
const H = 250;
const M = { left: 46, right: 12, top: 12, bottom: 40 };

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// spec: {xLabels: [text], xTitle, yTitle, yMin, yMax, yTicks: [v], yFormat(v),
//        series: [{label, color, dash, values: [y | null per x]}],
//        references: [{label, value, color}]}
function renderLineChart(container, spec) {
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'line-chart', role: 'img', 'aria-label': spec.title || '' });
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const n = spec.xLabels.length;
  const x = (i) => M.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v) => M.top + plotH - ((v - spec.yMin) / (spec.yMax - spec.yMin)) * plotH;
  const fmt = spec.yFormat || ((v) => String(v));

  for (const v of spec.yTicks) {
    svg.append(el('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(v)));
  }
  spec.xLabels.forEach((label, i) => {
    svg.append(el('text', { x: x(i), y: H - M.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, label));
  });
  svg.append(el('text', { x: M.left + plotW / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-title' }, spec.xTitle));
  svg.append(el('text', { x: 12, y: M.top + plotH / 2, 'text-anchor': 'middle', class: 'axis-title',
    transform: `rotate(-90 12 ${M.top + plotH / 2})` }, spec.yTitle));

  for (const r of spec.references || []) {
    svg.append(el('line', { x1: M.left, x2: W - M.right, y1: y(r.value), y2: y(r.value), class: 'reference', stroke: r.color }));
    svg.append(el('text', { x: W - M.right - 4, y: y(r.value) - 4, 'text-anchor': 'end', class: 'reference-label' }, r.label));
  }
  for (const s of spec.series) {
    const pts = s.values.map((v, i) => (v === null || v === undefined ? null : [x(i), y(v)])).filter(Boolean);
    if (pts.length > 1)
      svg.append(el('polyline', { points: pts.map((p) => p.join(',')).join(' '), fill: 'none', stroke: s.color,
        'stroke-width': 2.2, 'stroke-dasharray': s.dash || 'none', class: 'series' }));
    for (const [px, py] of pts) svg.append(el('circle', { cx: px, cy: py, r: 3, fill: s.color }));
  }

  const legend = document.createElement('ul');
  legend.className = 'chart-legend';
  for (const s of spec.series) {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    // A dashed series gets a striped swatch: colours repeat past the palette, dashes tell them apart.
    swatch.style.background = s.dash && s.dash !== 'none'
      ? `repeating-linear-gradient(90deg, ${s.color} 0 3px, transparent 3px 5px)` : s.color;
    li.append(swatch, document.createTextNode(s.label));
    legend.append(li);
  }
  container.replaceChildren(svg, legend);
}

export { renderLineChart };
