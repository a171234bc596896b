'use strict';
// The pretraining mix of the playground's demo base model (scripts/train_demo.js): random
// 2-D tasks that are none of the playground's tasks (stripes, discs, half-planes at
// random angles, frequencies and places), so the pretrained trunk has general features
// of the plane but has never seen moons, circles, spirals, checkerboards or waves.
const { createRandom } = require('../web/playground/random');

const KINDS = ['stripes', 'disc', 'half-plane'];

// -> {name: sample(r) -> [x, y, label]}, `count` tasks made from `seed`.
function pretextTasks(seed, count) {
  const r = createRandom(seed);
  const tasks = {};
  for (let i = 0; i < count; i++) {
    const kind = KINDS[i % KINDS.length];
    const angle = 2 * Math.PI * r.uniform();
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const point = (q) => [2 * q.uniform() - 1, 2 * q.uniform() - 1];
    let label;
    if (kind === 'stripes') {
      const frequency = 1 + 3 * r.uniform();
      const phase = 2 * Math.PI * r.uniform();
      label = (x, y) => Math.sin(frequency * Math.PI * (x * c + y * s) + phase) > 0;
    } else if (kind === 'disc') {
      const cx = 1.2 * r.uniform() - 0.6;
      const cy = 1.2 * r.uniform() - 0.6;
      const radius = 0.25 + 0.45 * r.uniform();
      label = (x, y) => (x - cx) ** 2 + (y - cy) ** 2 < radius * radius;
    } else {
      const offset = r.uniform() - 0.5;
      label = (x, y) => x * c + y * s > offset;
    }
    tasks[`pretext${i}_${kind}`] = (q) => {
      const [x, y] = point(q);
      return [x, y, label(x, y) ? 1 : 0];
    };
  }
  return tasks;
}

module.exports = { pretextTasks };
