// A seeded random generator shared by the demo trainer (scripts/train_demo.js, node) and the
// playground page: the same seed gives the same numbers in both, so the page can regenerate
// the evaluation points instead of downloading them. mulberry32 for uniforms, Box-Muller
// for normals: integer arithmetic and Math.log/sqrt/cos only, which V8 computes the same
// way everywhere (no Math.random anywhere).
// -> {uniform() in [0, 1), normal(), int(n) in [0, n)}
function createRandom(seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => {
    const u = 1 - uniform();  // in (0, 1]: log(0) never happens
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  const int = (n) => Math.floor(uniform() * n);
  return { uniform, normal, int };
}

export { createRandom };
