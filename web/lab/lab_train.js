// Continued training in the page: SGD with momentum over every tensor of a lab network
// (lab_net.js), on batches from a fixed training stream, so two models trained "for the
// same steps" see the very same points in the same order, and a rerun gives the same curve.
import { batchGradients } from './lab_net.js';
import { trainStream } from './lab_task.js';

// The gradient's global L2 norm is clipped to `clip`: the demo model, trained to a tiny
// loss, is sharp, and plain SGD steps off its cliffs without it.
const CONTINUE = { seed: 77, batch: 16, lr: 0.01, momentum: 0.9, clip: 1 };

// -> {step() -> that step's mean loss, steps (taken so far)}
function createTrainer(net, { seed, batch, lr, momentum, clip } = CONTINUE) {
  const next = trainStream(seed);
  const velocity = Object.fromEntries(Object.entries(net.tensors).map(([name, v]) => [name, new Float64Array(v.length)]));
  const trainer = { steps: 0 };
  trainer.step = () => {
    const { loss, grads } = batchGradients(net, next(batch));
    let squares = 0;
    for (const name of Object.keys(net.tensors)) for (const x of grads[name]) squares += x * x;
    const scale = Math.min(1, clip / Math.sqrt(squares));
    for (const [name, w] of Object.entries(net.tensors)) {
      const g = grads[name];
      const v = velocity[name];
      for (let i = 0; i < w.length; i++) {
        v[i] = momentum * v[i] + scale * g[i];
        w[i] -= lr * v[i];
      }
    }
    trainer.steps++;
    return loss;
  };
  return trainer;
}

export { createTrainer, CONTINUE };
