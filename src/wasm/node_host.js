'use strict';
// The node host of the wasm engine (the interface is described in host_io.js): inputs
// through fs.readSync at double offsets (no 4 GiB limit), outputs written as
// NAME.partial in the output folder and renamed only on commit.
const fs = require('fs');
const path = require('path');

function createNodeHost({ outDir, cancelled = () => false }) {
  const inputs = new Map();
  let nextInput = 1;
  let outputs = [];

  const closeOutputs = () => {
    for (const o of outputs) if (o.fd !== null) { fs.closeSync(o.fd); o.fd = null; }
  };

  return {
    fileSize(p) {
      try {
        const st = fs.statSync(p);
        return st.isFile() ? st.size : -1;
      } catch {
        return -1;
      }
    },
    open(p) {
      const handle = nextInput++;
      inputs.set(handle, fs.openSync(p, 'r'));
      return handle;
    },
    read(handle, offset, dst) {
      const fd = inputs.get(handle);
      for (let done = 0; done < dst.length;) {
        const n = fs.readSync(fd, dst, done, dst.length - done, offset + done);
        if (n === 0) throw new Error('the file ended early (truncated while reading?)');
        done += n;
      }
    },
    close(handle) {
      fs.closeSync(inputs.get(handle));
      inputs.delete(handle);
    },
    create(name) {
      fs.mkdirSync(outDir, { recursive: true });
      const partial = path.join(outDir, name + '.partial');
      outputs.push({ name, partial, fd: fs.openSync(partial, 'w') });
      return outputs.length - 1;
    },
    write(handle, src) {
      const fd = outputs[handle].fd;
      try {
        for (let done = 0; done < src.length;) done += fs.writeSync(fd, src, done, src.length - done);
      } catch (e) {
        throw new Error(e.code === 'ENOSPC' ? 'write failed: the disk is full (ENOSPC)' : `write failed: ${e.message}`);
      }
    },
    commit() {
      closeOutputs();
      for (const o of outputs) fs.renameSync(o.partial, path.join(outDir, o.name));
      outputs = [];
    },
    discard() {
      closeOutputs();
      for (const o of outputs) fs.rmSync(o.partial, { force: true });
      outputs = [];
    },
    cancelled,
  };
}

module.exports = { createNodeHost };
