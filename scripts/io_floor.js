'use strict';
// The I/O floor of a merge: read every input once and write an output of the same size
// as one of them, in 16 MiB blocks.   node scripts/io_floor.js OUT INPUT...
const fs = require('fs');

const [out, ...inputs] = process.argv.slice(2);
const block = Buffer.alloc(16 << 20);
for (const file of inputs) {
  const fd = fs.openSync(file, 'r');
  let offset = 0;
  for (let n; (n = fs.readSync(fd, block, 0, block.length, offset)) > 0;) offset += n;
  fs.closeSync(fd);
}
const size = fs.statSync(inputs[0]).size;
const fd = fs.openSync(out, 'w');
for (let done = 0; done < size;) done += fs.writeSync(fd, block, 0, Math.min(block.length, size - done));
fs.closeSync(fd);
