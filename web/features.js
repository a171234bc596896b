// What this browser can do, checked once at load: the engine needs wasm threads (shared
// memory, so a cross-origin isolated page) and wasm SIMD; results go to OPFS through a
// sync access handle; "Save to folder" needs the File System Access API.
// The smallest module using a v128 instruction (as wasm-feature-detect checks SIMD).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0,
  65, 0, 253, 15, 253, 98, 11]);

function detect() {
  const threads = typeof SharedArrayBuffer === 'function' && self.crossOriginIsolated === true;
  let simd = false;
  try {
    simd = WebAssembly.validate(SIMD_PROBE);
  } catch { /* no WebAssembly at all */ }
  // Sync access handles exist only in workers: merge.worker.js checks for them itself.
  const opfs = Boolean(navigator.storage && navigator.storage.getDirectory);
  return {
    threads,
    simd,
    opfs,
    worker: typeof Worker === 'function',
    saveToFolder: typeof self.showDirectoryPicker === 'function',
    cores: navigator.hardwareConcurrency || 2,
  };
}

// What is missing for a merge, in words (empty when nothing is).
function missingForMerge(f) {
  const missing = [];
  if (!f.worker) missing.push('web workers');
  if (!f.threads) missing.push('WebAssembly threads (the page must be cross-origin isolated)');
  if (!f.simd) missing.push('WebAssembly SIMD');
  if (!f.opfs) missing.push('the origin private file system (OPFS)');
  return missing;
}

export { detect, missingForMerge };
