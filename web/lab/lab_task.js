// The layer lab's task, shared by its generator (scripts/train_lab.js, node) and the page:
// three spiral arms in [-1, 1]^2, one class per arm, 1.5 turns each. A point enters the
// network as three "tokens" weighted x, y and 1 (lab_net.js), so the model's vocabulary
// is 3 and its lm_head has one row per class. The evaluation points and the training
// streams come from fixed seeds: the generator, the page and the tests see the same points.
import { createRandom } from '../playground/random.js';
import { drawPoints } from '../playground/tasks.js';

const CLASSES = 3;
const TURNS = 1.5;

// r: a createRandom generator -> [x, y, label]
function sample(r) {
  const label = r.int(CLASSES);
  const t = Math.sqrt(r.uniform());
  const radius = 0.06 + 0.9 * t;
  const a = 2 * Math.PI * TURNS * t + (2 * Math.PI * label) / CLASSES;
  return [radius * Math.cos(a) + 0.02 * r.normal(), radius * Math.sin(a) + 0.02 * r.normal(), label];
}

// A stream of points: batch(n) -> the next n points {xy: Float64Array(2n), labels, n}.
function trainStream(seed) {
  const r = createRandom(seed);
  return (n) => ({ ...drawPoints(sample, r, n), n });
}

// Every accuracy the page shows is on these points; training draws from other seeds.
const EVAL_POINTS = 600;
const EVAL_SEED = 424242;
const evalSet = () => trainStream(EVAL_SEED)(EVAL_POINTS);

export { CLASSES, TURNS, sample, evalSet, trainStream, EVAL_POINTS };
