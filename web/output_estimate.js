// How many bytes the merged model will take, from the reference model's safetensors
// headers (the base, or the first model): the page checks the browser's storage quota
// against it before starting, rather than failing half-way through a 10 GB write.
(function (root, factory) {
  root.wasmergeOutputEstimate = factory();
})(self, function () {
  'use strict';
  const FLOAT_SIZES = { F64: 8, F32: 4, F16: 2, BF16: 2 };
  const OUT_SIZES = { float32: 4, float16: 2, bfloat16: 2 };
  const SLACK = 1 << 20;  // headers, index, model card, config and tokenizer files

  async function headerOf(file) {
    const n = Number(new DataView(await file.slice(0, 8).arrayBuffer()).getBigUint64(0, true));
    if (n > 100e6 || n + 8 > file.size) throw new Error('bad header');
    return JSON.parse(await file.slice(8, 8 + n).text());
  }

  // -> bytes (an estimate: within the slack when the headers could be read, else the
  // reference model's size).
  async function estimateOutputBytes(config, table) {
    const ref = config && (config.base_model || (Array.isArray(config.models) && config.models[0] && config.models[0].model));
    const model = ref && table.model(String(ref));
    if (!model) return 0;
    const outSize = OUT_SIZES[config.out_dtype || config.dtype];
    let total = SLACK;
    for (const part of model.parts) {
      const file = table.lookup(part);
      try {
        for (const [name, t] of Object.entries(await headerOf(file))) {
          if (name === '__metadata__') continue;
          const stored = t.data_offsets[1] - t.data_offsets[0];
          total += outSize && FLOAT_SIZES[t.dtype] ? (stored / FLOAT_SIZES[t.dtype]) * outSize : stored;
        }
      } catch {
        total += file.size;  // the engine will say what is wrong with it
      }
    }
    return total;
  }

  return { estimateOutputBytes };
});
