// The playground's 2-D binary classification tasks, shared by the demo trainer
// (scripts/train_demo.js) and the page: one generator per task, points in [-1, 1]^2,
// labels 0/1. The evaluation points come from fixed seeds, so the trainer's accuracy and
// the page's (and the tests') are measured on the very same points.
import { createRandom } from './random.js';

// Each sample(r) -> [x, y, label]. Classes are balanced where the shape allows it.
const TASKS = [
  {
    name: 'moons', title: 'Moons',
    about: 'two interleaving half circles',
    sample(r) {
      const label = r.int(2);
      const a = Math.PI * r.uniform();
      const x = label ? 1 - Math.cos(a) : Math.cos(a);
      const y = label ? 0.5 - Math.sin(a) : Math.sin(a);
      return [(x - 0.5) * 0.6 + 0.05 * r.normal(), (y - 0.25) * 0.6 + 0.05 * r.normal(), label];
    },
  },
  {
    name: 'circles', title: 'Circles',
    about: 'a disc inside a ring',
    sample(r) {
      const label = r.int(2);
      const a = 2 * Math.PI * r.uniform();
      const radius = (label ? 0.35 : 0.8) + 0.07 * r.normal();
      return [radius * Math.cos(a), radius * Math.sin(a), label];
    },
  },
  {
    name: 'spirals', title: 'Spirals',
    about: 'two arms winding one and a half turns',
    sample(r) {
      const label = r.int(2);
      const t = Math.sqrt(r.uniform());
      const radius = 0.08 + 0.85 * t;
      const a = 3 * Math.PI * t + label * Math.PI;
      return [radius * Math.cos(a) + 0.03 * r.normal(), radius * Math.sin(a) + 0.03 * r.normal(), label];
    },
  },
  {
    name: 'checkerboard', title: 'Checkerboard',
    about: 'a 4 × 4 board',
    sample(r) {
      const x = 2 * r.uniform() - 1;
      const y = 2 * r.uniform() - 1;
      const cell = Math.min(3, Math.floor((x + 1) * 2)) + Math.min(3, Math.floor((y + 1) * 2));
      return [x, y, cell % 2];
    },
  },
  {
    name: 'wave', title: 'Wave',
    about: 'above or below a sine wave',
    sample(r) {
      const x = 2 * r.uniform() - 1;
      const y = 2 * r.uniform() - 1;
      return [x, y, y > 0.45 * Math.sin(1.5 * Math.PI * x) ? 1 : 0];
    },
  },
];

const byName = new Map(TASKS.map((t, i) => [t.name, { ...t, index: i }]));

function task(name) {
  const t = byName.get(name);
  if (!t) throw new Error(`no task '${name}'`);
  return t;
}

// The next n points of sample(r) from the generator r -> {xy: Float64Array(2n), labels: Uint8Array(n)}
// (the layer lab's task draws its points so too).
function drawPoints(sample, r, n) {
  const xy = new Float64Array(2 * n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [x, y, label] = sample(r);
    xy[2 * i] = x;
    xy[2 * i + 1] = y;
    labels[i] = label;
  }
  return { xy, labels };
}

// n points of a task from seed -> {xy: Float64Array(2n), labels: Uint8Array(n)}
const points = (name, n, seed) => drawPoints(task(name).sample, createRandom(seed), n);

// The fixed held-out sets: 'test' for every accuracy the page shows, 'validation' for
// choosing λ where a chart says so. Training streams use other seeds (train_demo.js).
const EVAL_POINTS = 500;
const SPLIT_SEEDS = { test: 9001, validation: 7001 };
function evalSet(name, split = 'test') {
  return points(name, EVAL_POINTS, SPLIT_SEEDS[split] + 17 * task(name).index);
}

export { TASKS, evalSet, drawPoints };
