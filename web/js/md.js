// The Merkle–Damgård frame that SHA-256 (FIPS 180-4) and SM3 (GB/T 32905-2016) share:
// 64-byte blocks, padding with 0x80, zeros and the message length in bits as a 64-bit
// big-endian integer, and eight 32-bit words of state written out big-endian. Each hash
// gives its initial value and its compression function:
//
//   compress(v, buf, off, len)   v: Int32Array(8) state; buf[off, off + len), len a
//                                multiple of 64
//
// Input is a Uint8Array (any ArrayBuffer view or ArrayBuffer is accepted too). Whole
// 64-byte blocks are compressed straight from the caller's buffer; only a partial block
// is copied.

export function toBytes(data, name) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${name}: input must be a Uint8Array, an ArrayBuffer view or an ArrayBuffer`);
}

export class MDHash {
  constructor(name, iv, compress) {
    this.name = name;
    this.compress = compress;
    this.v = Int32Array.from(iv);
    this.block = new Uint8Array(64); // a partial block waiting for more input
    this.blockLen = 0;
    this.length = 0; // bytes absorbed so far
    this.finished = false;
  }

  // Absorbs data; returns this, so calls chain.
  update(data) {
    if (this.finished) throw new Error(`${this.name}: update after digest`);
    const bytes = toBytes(data, this.name);
    let off = 0;
    let left = bytes.length;
    this.length += left;
    if (this.blockLen > 0) {
      const take = Math.min(64 - this.blockLen, left);
      this.block.set(bytes.subarray(0, take), this.blockLen);
      this.blockLen += take;
      off += take;
      left -= take;
      if (this.blockLen < 64) return this;
      this.compress(this.v, this.block, 0, 64);
      this.blockLen = 0;
    }
    // Whole blocks straight from the input, in slices so that a huge one-shot input
    // reaches the optimizing compiler early rather than through one long call.
    while (left >= 64) {
      const whole = Math.min(left & ~63, 65536);
      this.compress(this.v, bytes, off, whole);
      off += whole;
      left -= whole;
    }
    if (left > 0) {
      this.block.set(bytes.subarray(off, off + left), 0);
      this.blockLen = left;
    }
    return this;
  }

  // Pads, finishes and returns the 32-byte hash. The object cannot be updated after.
  digest() {
    if (this.finished) throw new Error(`${this.name}: digest called twice`);
    this.finished = true;
    const block = this.block;
    let n = this.blockLen;
    block[n++] = 0x80;
    if (n > 56) {
      block.fill(0, n, 64);
      this.compress(this.v, block, 0, 64);
      n = 0;
    }
    block.fill(0, n, 56);
    // The message length in bits, as a 64-bit big-endian integer.
    const hi = Math.floor(this.length / 0x20000000); // length * 8 / 2^32
    const lo = (this.length * 8) >>> 0;
    block[56] = hi >>> 24; block[57] = hi >>> 16; block[58] = hi >>> 8; block[59] = hi;
    block[60] = lo >>> 24; block[61] = lo >>> 16; block[62] = lo >>> 8; block[63] = lo;
    this.compress(this.v, block, 0, 64);
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      const x = this.v[i];
      out[4 * i] = x >>> 24; out[4 * i + 1] = x >>> 16; out[4 * i + 2] = x >>> 8; out[4 * i + 3] = x;
    }
    return out;
  }
}

// A hash (an MDHash) of a Blob or File, read as a stream (the file is never held whole
// in memory). onProgress(bytesDone), if given, is called after each chunk.
export async function hashBlobStream(hash, blob, onProgress) {
  const reader = blob.stream().getReader();
  let done = 0;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    hash.update(value);
    done += value.length;
    if (onProgress) onProgress(done);
  }
  return hash.digest();
}
