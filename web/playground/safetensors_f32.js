// Reads the float32 tensors of a small .safetensors file held in memory: the playground's
// worker reads the engine's merged model with it (the demo models are all F32). Other
// dtypes are refused rather than guessed.
// bytes: Uint8Array of the whole file -> {name: Float32Array}
function readF32Tensors(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength + 8 > bytes.length) throw new Error('safetensors header longer than the file');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const data = 8 + headerLength;
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`tensor '${name}' is ${t.dtype}, not F32`);
    const [begin, end] = t.data_offsets;
    // A copy: the file's bytes need not be 4-byte aligned for a Float32Array view.
    const copy = bytes.slice(data + begin, data + end);
    tensors[name] = new Float32Array(copy.buffer, 0, (end - begin) / 4);
  }
  return tensors;
}

export { readF32Tensors };
