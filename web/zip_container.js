// Writes the engine's output files, one after another, into ONE uncompressed zip (zip64)
// on a synchronous file handle (an OPFS FileSystemSyncAccessHandle in the worker).
//
// Why one file: the engine creates its outputs while it runs synchronously, and OPFS can
// only open files asynchronously, so the worker opens a single file before the merge and
// every output becomes an entry in it. The zip is the download for folder models (the
// Hugging Face layout); a single .safetensors is downloaded as a slice of it (stored
// entries are plain bytes at a known offset), so a result is never copied on disk.
//
// Each local header is written first with placeholder sizes and patched once its entry
// is complete (sizes in a zip64 extra field, so entries may exceed 4 GiB).
import { crc32 } from './crc32.js';

const STAGING = 8 * 1024 * 1024;  // OPFS refuses views of shared memory: copy in chunks
const ZIP64 = 45;                 // "version needed to extract" for zip64
const UTF8_NAMES = 0x0800;
const FFFFFFFF = 0xffffffff;

function dosDateTime(date) {
  const time = (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1);
  const day = ((Math.max(1980, date.getFullYear()) - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate();
  return { time, day };
}

class ZipContainer {
  // handle: { write(bytes, {at}) -> count, truncate(n), flush(), close() }
  constructor(handle, { now = new Date() } = {}) {
    this.handle = handle;
    this.entries = [];
    this.offset = 0;  // where the next byte goes
    this.current = -1;
    this.staging = new Uint8Array(STAGING);
    this.stamp = dosDateTime(now);
  }

  // Starts the next entry; returns its index (the host's output handle).
  begin(name) {
    this.endEntry();
    const nameBytes = new TextEncoder().encode(name);
    const header = new DataView(new ArrayBuffer(30 + nameBytes.length + 20));
    header.setUint32(0, 0x04034b50, true);
    header.setUint16(4, ZIP64, true);
    header.setUint16(6, UTF8_NAMES, true);
    header.setUint16(8, 0, true);  // stored
    header.setUint16(10, this.stamp.time, true);
    header.setUint16(12, this.stamp.day, true);
    header.setUint32(18, FFFFFFFF, true);  // sizes live in the zip64 extra field
    header.setUint32(22, FFFFFFFF, true);
    header.setUint16(26, nameBytes.length, true);
    header.setUint16(28, 20, true);
    new Uint8Array(header.buffer).set(nameBytes, 30);
    header.setUint16(30 + nameBytes.length, 0x0001, true);
    header.setUint16(32 + nameBytes.length, 16, true);
    const entry = { name, nameBytes, headerOffset: this.offset, dataOffset: 0, size: 0, crc: 0 };
    this.put(new Uint8Array(header.buffer));
    entry.dataOffset = this.offset;
    this.entries.push(entry);
    this.current = this.entries.length - 1;
    return this.current;
  }

  // crcSoFar: the CRC-32 of the entry's bytes up to and with these, when the writer knows
  // it (the engine computes it); else it is computed here.
  write(index, bytes, crcSoFar) {
    if (index !== this.current) throw new Error('outputs must be written one after another');
    const entry = this.entries[index];
    entry.crc = crcSoFar === undefined ? crc32(bytes, entry.crc) : crcSoFar;
    entry.size += bytes.length;
    this.put(bytes);
  }

  // Completes the zip (central directory) and closes the handle; returns the entries.
  finish() {
    this.endEntry();
    const cdOffset = this.offset;
    for (const e of this.entries) {
      const cd = new DataView(new ArrayBuffer(46 + e.nameBytes.length + 28));
      cd.setUint32(0, 0x02014b50, true);
      cd.setUint16(4, ZIP64, true);
      cd.setUint16(6, ZIP64, true);
      cd.setUint16(8, UTF8_NAMES, true);
      cd.setUint16(12, this.stamp.time, true);
      cd.setUint16(14, this.stamp.day, true);
      cd.setUint32(16, e.crc, true);
      cd.setUint32(20, FFFFFFFF, true);
      cd.setUint32(24, FFFFFFFF, true);
      cd.setUint16(28, e.nameBytes.length, true);
      cd.setUint16(30, 28, true);
      cd.setUint32(42, FFFFFFFF, true);
      new Uint8Array(cd.buffer).set(e.nameBytes, 46);
      const x = 46 + e.nameBytes.length;
      cd.setUint16(x, 0x0001, true);
      cd.setUint16(x + 2, 24, true);
      cd.setBigUint64(x + 4, BigInt(e.size), true);
      cd.setBigUint64(x + 12, BigInt(e.size), true);
      cd.setBigUint64(x + 20, BigInt(e.headerOffset), true);
      this.put(new Uint8Array(cd.buffer));
    }
    const cdSize = this.offset - cdOffset;
    const end = new DataView(new ArrayBuffer(56 + 20 + 22));
    const n = BigInt(this.entries.length);
    end.setUint32(0, 0x06064b50, true);  // zip64 end of central directory
    end.setBigUint64(4, 44n, true);
    end.setUint16(12, ZIP64, true);
    end.setUint16(14, ZIP64, true);
    end.setBigUint64(24, n, true);
    end.setBigUint64(32, n, true);
    end.setBigUint64(40, BigInt(cdSize), true);
    end.setBigUint64(48, BigInt(cdOffset), true);
    end.setUint32(56, 0x07064b50, true);  // its locator
    end.setBigUint64(64, BigInt(this.offset), true);
    end.setUint32(72, 1, true);
    end.setUint32(76, 0x06054b50, true);  // classic end record, pointing at zip64
    end.setUint16(84, Math.min(this.entries.length, 0xffff), true);
    end.setUint16(86, Math.min(this.entries.length, 0xffff), true);
    end.setUint32(88, Math.min(cdSize, FFFFFFFF), true);
    end.setUint32(92, FFFFFFFF, true);
    this.put(new Uint8Array(end.buffer));
    this.handle.flush();
    this.handle.close();
    return this.entries.map(({ name, dataOffset, size }) => ({ name, offset: dataOffset, size }));
  }

  // Drops everything written and closes the handle (the caller removes the file).
  abort() {
    try {
      this.handle.truncate(0);
    } finally {
      this.handle.close();
    }
  }

  endEntry() {
    if (this.current < 0) return;
    const e = this.entries[this.current];
    const patch = new DataView(new ArrayBuffer(4));
    patch.setUint32(0, e.crc, true);
    this.putAt(new Uint8Array(patch.buffer), e.headerOffset + 14);
    const sizes = new DataView(new ArrayBuffer(16));
    sizes.setBigUint64(0, BigInt(e.size), true);
    sizes.setBigUint64(8, BigInt(e.size), true);
    this.putAt(new Uint8Array(sizes.buffer), e.headerOffset + 30 + e.nameBytes.length + 4);
    this.current = -1;
  }

  put(bytes) {
    this.putAt(bytes, this.offset);
    this.offset += bytes.length;
  }

  putAt(bytes, at) {
    for (let done = 0; done < bytes.length;) {
      const n = Math.min(STAGING, bytes.length - done);
      const chunk = this.staging.subarray(0, n);
      chunk.set(bytes.subarray(done, done + n));
      const written = this.handle.write(chunk, { at: at + done });
      if (written !== n) throw new Error(`storage refused the write (${written} of ${n} bytes written): is the disk full?`);
      done += n;
    }
  }
}

export { ZipContainer };
