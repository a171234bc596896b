// The wasm engine's window onto files: C++ (js_files.cpp) calls these, and they call the
// host object the embedding JS installed as Module.wasmergeHost before runJob:
//
//   fileSize(path) -> bytes, or -1 when there is no such file
//   open(path) -> handle              read(handle, offset, Uint8Array) fills it whole
//   close(handle)
//   create(name) -> handle            write(handle, Uint8Array, crcSoFar)
//   wantsCrc (optional, true: write's crcSoFar is the CRC-32 of every byte written to the
//     handle, computed by the engine; else 0)
//   commit()  /  discard()            cancelled() -> bool (optional)
//
// node: src/wasm/node_host.js; browser: web/worker_host.js. Offsets travel as doubles
// (exact to 2^53) and pointers are read unsigned, so files over 4 GiB and heaps over
// 2 GiB work. A host error is kept as text for C++ to throw as a MergeError.
mergeInto(LibraryManager.library, {
  $wasmergeHostCall: function(fallback, body) {
    try {
      return body(Module['wasmergeHost']);
    } catch (e) {
      Module['wasmergeHostError'] = (e && e.message) ? e.message : String(e);
      return fallback;
    }
  },
  $wasmergeHeap: function(ptr, n) {
    return new Uint8Array(wasmMemory.buffer, ptr >>> 0, n >>> 0);
  },

  wasmerge_host_file_size__deps: ['$wasmergeHostCall'],
  wasmerge_host_file_size: function(path) {
    return wasmergeHostCall(-2, function(host) { return host.fileSize(UTF8ToString(path)); });
  },
  wasmerge_host_open__deps: ['$wasmergeHostCall'],
  wasmerge_host_open: function(path) {
    return wasmergeHostCall(-1, function(host) { return host.open(UTF8ToString(path)); });
  },
  wasmerge_host_read__deps: ['$wasmergeHostCall', '$wasmergeHeap'],
  wasmerge_host_read: function(handle, offset, n, dst) {
    return wasmergeHostCall(-1, function(host) { host.read(handle, offset, wasmergeHeap(dst, n)); return 0; });
  },
  wasmerge_host_close__deps: ['$wasmergeHostCall'],
  wasmerge_host_close: function(handle) {
    wasmergeHostCall(0, function(host) { host.close(handle); return 0; });
  },
  wasmerge_host_create__deps: ['$wasmergeHostCall'],
  wasmerge_host_create: function(name) {
    return wasmergeHostCall(-1, function(host) { return host.create(UTF8ToString(name)); });
  },
  wasmerge_host_write__deps: ['$wasmergeHostCall', '$wasmergeHeap'],
  wasmerge_host_write: function(handle, src, n, crcSoFar) {
    return wasmergeHostCall(-1, function(host) { host.write(handle, wasmergeHeap(src, n), crcSoFar >>> 0); return 0; });
  },
  wasmerge_host_wants_crc__deps: ['$wasmergeHostCall'],
  wasmerge_host_wants_crc: function() {
    return wasmergeHostCall(0, function(host) { return host.wantsCrc ? 1 : 0; });
  },
  wasmerge_host_finish__deps: ['$wasmergeHostCall'],
  wasmerge_host_finish: function(commit) {
    return wasmergeHostCall(-1, function(host) { if (commit) host.commit(); else host.discard(); return 0; });
  },
  wasmerge_host_cancelled__deps: ['$wasmergeHostCall'],
  wasmerge_host_cancelled: function() {
    return wasmergeHostCall(0, function(host) { return host.cancelled && host.cancelled() ? 1 : 0; });
  },
  wasmerge_host_error: function(buf, cap) {
    stringToUTF8(Module['wasmergeHostError'] || 'unknown host error', buf, cap);
  },
});
