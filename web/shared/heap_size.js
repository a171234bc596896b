// How large the engine's wasm heap starts: the merge budget (memory_mb) plus what the
// engine needs besides it. Shared by node (src/wasm/node_engine.js) and the page's
// workers, so both give the engine the same room.
const MiB = 1024 * 1024;
const PAGE = 64 * 1024;  // wasm memory grows in 64 KiB pages
// Besides the engine's budget: code, stacks, the thread pool's scratch and headers.
const HEAP_OVERHEAD = 96 * MiB;
const MAX_HEAP = 4096 * MiB - PAGE;  // wasm32's limit

export function heapBytes(memoryMb) {
  const bytes = memoryMb * MiB + HEAP_OVERHEAD;
  return Math.min(MAX_HEAP, Math.ceil(bytes / PAGE) * PAGE);
}
