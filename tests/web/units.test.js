'use strict';
// The page's I/O parts, in node: the zip the worker streams (read back by an independent
// reader), the file table's path resolution, and the CRC-32.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const { test, assert, scratchDir } = require('../cli/harness');
const { ZipContainer } = require('../../web/zip_container.js');
const { buildFileTable, normalizePath } = require('../../web/file_table.js');
const { crc32 } = require('../../web/crc32.js');
const { readZip } = require('../browser/zip_reader');

// A FileSystemSyncAccessHandle over a node file.
function fileHandle(file) {
  const fd = fs.openSync(file, 'w+');
  return {
    write: (bytes, { at }) => fs.writeSync(fd, bytes, 0, bytes.length, at),
    truncate: (n) => fs.ftruncateSync(fd, n),
    flush: () => fs.fsyncSync(fd),
    close: () => fs.closeSync(fd),
  };
}

function pattern(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 9)) & 255;
  return b;
}

test('zip: entries written one after another read back byte for byte with unzip, offsets right', () => {
  const dir = scratchDir('zip');
  const zipFile = path.join(dir, 'out.zip');
  const zip = new ZipContainer(fileHandle(zipFile));
  const files = { 'model.safetensors': pattern(20 * 1024 * 1024 + 13, 1), 'README.md': Buffer.from('# merged\n'), 'empty.json': Buffer.alloc(0) };
  for (const [name, data] of Object.entries(files)) {
    const h = zip.begin(name);
    // in uneven pieces, from a shared buffer as the wasm heap is
    const shared = new Uint8Array(new SharedArrayBuffer(data.length));
    shared.set(data);
    for (let at = 0; at < data.length; at += 3 * 1024 * 1024 + 1) zip.write(h, shared.subarray(at, Math.min(data.length, at + 3 * 1024 * 1024 + 1)));
  }
  const entries = zip.finish();
  const whole = fs.readFileSync(zipFile);
  const read = readZip(whole);
  assert.deepStrictEqual([...read.keys()], Object.keys(files));
  // Info-ZIP's unzip, where installed, is a second opinion on the format.
  if (fs.existsSync('/usr/bin/unzip')) execFileSync('unzip', ['-q', '-t', zipFile]);
  for (const e of entries) {
    assert.ok(read.get(e.name).equals(files[e.name]), e.name);
    assert.ok(whole.subarray(e.offset, e.offset + e.size).equals(files[e.name]), `${e.name}: offset`);
  }
});

test('zip: CRCs the writer hands over (the engine\'s, so far) are stored as given, the same zip as computing them', () => {
  const dir = scratchDir('zip-crc');
  const data = pattern(5 * 1024 * 1024 + 7, 3);
  const zips = [false, true].map((handOver) => {
    const file = path.join(dir, `${handOver}.zip`);
    const zip = new ZipContainer(fileHandle(file), { now: new Date(2024, 0, 1) });
    const h = zip.begin('model.safetensors');
    for (let at = 0; at < data.length; at += 1024 * 1024) {
      const piece = data.subarray(at, Math.min(data.length, at + 1024 * 1024));
      zip.write(h, piece, handOver ? zlib.crc32(data.subarray(0, at + piece.length)) : undefined);
    }
    zip.finish();
    return fs.readFileSync(file);
  });
  assert.ok(zips[0].equals(zips[1]));
  assert.ok(readZip(zips[1]).get('model.safetensors').equals(data));  // the reader checks the CRC
  // A wrong one is stored as given: the reader, like unzip, refuses the entry.
  const file = path.join(dir, 'wrong.zip');
  const zip = new ZipContainer(fileHandle(file));
  zip.write(zip.begin('a'), Buffer.from('abc'), 12345);
  zip.finish();
  assert.throws(() => readZip(fs.readFileSync(file)), /CRC mismatch/);
});

test('zip: writing to an entry that is not the current one is refused; abort leaves an empty file', () => {
  const dir = scratchDir('zip-abort');
  const zipFile = path.join(dir, 'out.zip');
  const zip = new ZipContainer(fileHandle(zipFile));
  const a = zip.begin('a');
  zip.write(a, Buffer.from('aaa'));
  zip.begin('b');
  assert.throws(() => zip.write(a, Buffer.from('x')), /one after another/);
  zip.abort();
  assert.strictEqual(fs.statSync(zipFile).size, 0);
});

test('zip: a storage that writes short is an error, not a truncated model', () => {
  const zip = new ZipContainer({ write: (b) => Math.max(0, b.length - 1), truncate() {}, flush() {}, close() {} });
  assert.throws(() => zip.begin('model.safetensors'), /storage refused the write/);
});

test('crc32 matches zlib', () => {
  const b = pattern(100003, 5);
  assert.strictEqual(crc32(b), zlib.crc32(b));
  assert.strictEqual(crc32(b.subarray(5000), crc32(b.subarray(0, 5000))), crc32(b));
  assert.strictEqual(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('file table: folder-relative paths, a parent folder\'s models by their own names, clashes dropped', () => {
  const f = (size) => ({ size });
  const t = buildFileTable([
    { path: 'models/base/model.safetensors', file: f(10) },
    { path: 'models/base/config.json', file: f(1) },
    { path: 'models/a.safetensors', file: f(5) },
    { path: 'sh/model.safetensors.index.json', file: f(1) },
    { path: 'sh/model-00001-of-00002.safetensors', file: f(3) },
    { path: 'sh/model-00002-of-00002.safetensors', file: f(4) },
    { path: 'x/c.safetensors', file: f(1) },
    { path: 'y/c.safetensors', file: f(2) },
    { path: 'model.safetensors', file: f(9) },
  ]);
  assert.strictEqual(normalizePath('./a//b/./c'), 'a/b/c');
  assert.strictEqual(normalizePath('../a'), null);
  assert.strictEqual(t.lookup('./base/config.json').size, 1);
  assert.strictEqual(t.lookup('models/base/config.json').size, 1);
  assert.strictEqual(t.lookup('a.safetensors').size, 5);
  assert.strictEqual(t.lookup('c.safetensors'), undefined, 'x/c and y/c clash');
  assert.strictEqual(t.lookup('../base/config.json'), undefined);
  assert.deepStrictEqual(t.models.map((m) => [m.name, m.kind, m.bytes]), [
    ['base', 'folder', 10], ['sh', 'sharded folder', 7], ['model.safetensors', 'file', 9], ['a.safetensors', 'file', 5],
    ['x/c.safetensors', 'file', 1], ['y/c.safetensors', 'file', 2],
  ]);
  assert.strictEqual(t.model('./base').path, 'models/base');
  assert.strictEqual(t.model('sh/').kind, 'sharded folder');
});

test('file table: an adapter folder is no model; one picked model comes adapted too; `model+adapter` resolves', () => {
  const f = (size) => ({ size });
  const t = buildFileTable([
    { path: 'picks/base/model.safetensors', file: f(10) },
    { path: 'picks/my lora/adapter_config.json', file: f(1) },
    { path: 'picks/my lora/adapter_model.safetensors', file: f(2) },
  ]);
  assert.deepStrictEqual(t.adapters.map((a) => [a.path, a.name, a.bytes]), [['picks/my lora', 'my lora', 3]]);
  assert.deepStrictEqual(t.models.map((m) => [m.name, m.kind, m.bytes]),
    [['base+my lora', 'folder + LoRA', 13], ['base', 'folder', 10]]);
  assert.strictEqual(t.model('base+my lora'), t.models[0]);
  assert.strictEqual(t.model('./picks/base+picks/my lora'), t.models[0]);
  assert.strictEqual(t.model('base'), t.models[1]);
  assert.ok(!t.sameModel('base', 'base+my lora'));
  assert.strictEqual(t.model('base+nothing'), undefined);
  assert.ok(t.lookup('my lora/adapter_config.json'), 'the engine reads the adapter by the config path');
  // Two models: adapters are offered only through the YAML's `model+adapter`.
  const two = buildFileTable([
    { path: 'a/model.safetensors', file: f(1) }, { path: 'b/model.safetensors', file: f(1) },
    { path: 'l/adapter_config.json', file: f(1) }, { path: 'l/adapter_model.safetensors', file: f(1) }]);
  assert.deepStrictEqual(two.models.map((m) => m.name), ['a', 'b']);
  assert.strictEqual(two.model('b+l').adapter.path, 'l');
});
