// The evaluation's outcome: a table (model, tokens, mean NLL, perplexity, bits per byte,
// the wall time of its evaluation) and the bar chart (eval_chart.js). Each number cell
// keeps the engine's exact value in data-value (String of the double: it reads back the
// same), the text shows it rounded.
import { formatDuration } from './shared/format.js';
import { renderEvalChart } from './eval_chart.js';

const fixed = (digits) => (x) => (Number.isFinite(x) ? x.toFixed(digits) : String(x).replace('Infinity', '∞'));
// Perplexity runs from ~1 to the vocabulary's size and beyond: four significant digits at least.
const perplexity = (x) => (Number.isFinite(x) && x >= 1e6 ? x.toExponential(3) : fixed(x >= 1000 ? 1 : 3)(x));
const FORMAT = { nll: fixed(4), perplexity, bitsPerByte: fixed(4) };

const COLUMNS = [
  ['model', 'Model', (r) => r.name],
  ['tokens', 'Tokens', (r) => r.tokens.toLocaleString('en-US')],
  ['nll', 'Mean NLL', (r) => FORMAT.nll(r.nll)],
  ['perplexity', 'Perplexity', (r) => FORMAT.perplexity(r.perplexity)],
  ['bits_per_byte', 'Bits per byte', (r) => FORMAT.bitsPerByte(r.bits_per_byte)],
  ['seconds', 'Time', (r) => formatDuration(r.seconds)],
];

// el: {table, chart}; rows: [{name, isMerge, tokens, predicted, nll, perplexity, bits_per_byte, seconds}]
function renderEvalResults(el, rows) {
  const head = el.table.tHead || el.table.createTHead();
  const tr = document.createElement('tr');
  for (const [, title] of COLUMNS) tr.append(Object.assign(document.createElement('th'), { textContent: title }));
  head.replaceChildren(tr);
  const best = Math.min(...rows.map((r) => r.perplexity).filter(Number.isFinite));
  const body = el.table.tBodies[0] || el.table.createTBody();
  body.replaceChildren(...rows.map((r) => {
    const row = document.createElement('tr');
    if (r.isMerge) row.className = 'eval-merge';
    if (r.perplexity === best) row.classList.add('eval-best');
    for (const [key, , text] of COLUMNS) {
      const td = row.insertCell();
      td.textContent = text(r);
      td.dataset.key = key;
      if (key !== 'model') td.dataset.value = String(r[key]);
    }
    row.cells[1].title = `${r.predicted.toLocaleString('en-US')} of them predicted (the first of each window is not)`;
    return row;
  }));
  renderEvalChart(el.chart, rows, FORMAT);
}

export { renderEvalResults };
