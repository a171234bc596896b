// How large the engine's wasm heap starts: the merge budget (memory_mb) plus what the
// engine needs besides it. Shared by node (src/wasm/node_engine.js) and the page's
// worker (merge.worker.js), so both give the engine the same room.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.wasmergeHeapSize = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';
  const MiB = 1024 * 1024;
  const PAGE = 64 * 1024;  // wasm memory grows in 64 KiB pages
  // Besides the engine's budget: code, stacks, the thread pool's scratch and headers.
  const HEAP_OVERHEAD = 96 * MiB;
  const MAX_HEAP = 4096 * MiB - PAGE;  // wasm32's limit

  function heapBytes(memoryMb) {
    const bytes = memoryMb * MiB + HEAP_OVERHEAD;
    return Math.min(MAX_HEAP, Math.ceil(bytes / PAGE) * PAGE);
  }

  return { heapBytes, HEAP_OVERHEAD, MAX_HEAP };
});
