// Accuracy on each task's test points and decision boundaries on a grid, for any weights
// of the playground's network (mlp.js): the worker runs it on every merge the engine
// makes. The test points and the grid are made once.
import * as mlp from './mlp.js';
import * as tasks from './tasks.js';

const GRID = 40;       // boundary cells per side: 40^2 forward passes, a few ms
const EXTENT = 1.15;   // the grid spans [-EXTENT, EXTENT]^2 (the tasks live in [-1, 1]^2)

function createEvaluator(spec) {
  const testSets = new Map(spec.tasks.map((t) => [t, tasks.evalSet(t)]));
  const gridXY = mlp.grid(GRID, EXTENT);

  // -> {task: fraction right} for the named tasks
  function accuracy(weights, names) {
    const out = {};
    for (const t of names) out[t] = mlp.accuracy(weights, spec, t, testSets.get(t));
    return out;
  }

  // -> {task: Float32Array(GRID * GRID) of logits, row 0 at the top}; the trunk runs
  // once for every task.
  function boundaries(weights, names) {
    const features = mlp.trunkFeatures(weights, spec, gridXY, GRID * GRID);
    const out = {};
    for (const t of names) out[t] = Float32Array.from(mlp.headLogits(weights, spec, t, features, GRID * GRID));
    return out;
  }

  return { accuracy, boundaries };
}

export { createEvaluator, GRID, EXTENT };
