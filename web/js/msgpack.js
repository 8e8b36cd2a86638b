// A reader for govchain's canonical msgpack (docs/formats.md): unsigned integers, nil,
// booleans, bin, str and arrays; anything else (maps, floats, negative integers,
// extension types) is refused, as govchain's own decoders refuse it, and so is every
// length or integer not in its shortest form. Receipts and the
// genesis come as canonical bytes, and the page reads fields from those bytes and hashes
// the very same bytes, never a re-encoding.

export class DecodeError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Reads one value at pos; returns [value, next position]. Integers above 2^53 come back
// as BigInt; bin as Uint8Array views into bytes; str as strings.
export function readValue(bytes, pos) {
  if (pos >= bytes.length) throw new DecodeError('truncated');
  const b = bytes[pos];
  const need = (n) => {
    if (pos + 1 + n > bytes.length) throw new DecodeError('truncated');
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b <= 0x7f) return [b, pos + 1];
  if (b >= 0x90 && b <= 0x9f) return readArray(bytes, pos + 1, b & 0x0f);
  if (b >= 0xa0 && b <= 0xbf) return readStr(bytes, pos + 1, b & 0x1f);
  // The smallest value each wider form may carry: below it, a shorter form exists.
  const least = (value, min) => {
    if (value < min) throw new DecodeError(`non-shortest encoding (0x${b.toString(16)})`);
    return value;
  };
  switch (b) {
    case 0xc0: return [null, pos + 1];
    case 0xc2: return [false, pos + 1];
    case 0xc3: return [true, pos + 1];
    case 0xc4: need(1); return readBin(bytes, pos + 2, bytes[pos + 1]);
    case 0xc5: need(2); return readBin(bytes, pos + 3, least(view.getUint16(pos + 1), 0x100));
    case 0xc6: need(4); return readBin(bytes, pos + 5, least(view.getUint32(pos + 1), 0x10000));
    case 0xcc: need(1); return [least(bytes[pos + 1], 0x80), pos + 2];
    case 0xcd: need(2); return [least(view.getUint16(pos + 1), 0x100), pos + 3];
    case 0xce: need(4); return [least(view.getUint32(pos + 1), 0x10000), pos + 5];
    case 0xcf: {
      need(8);
      const big = least(view.getBigUint64(pos + 1), 0x100000000n);
      return [big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big, pos + 9];
    }
    case 0xd9: need(1); return readStr(bytes, pos + 2, least(bytes[pos + 1], 0x20));
    case 0xda: need(2); return readStr(bytes, pos + 3, least(view.getUint16(pos + 1), 0x100));
    case 0xdb: need(4); return readStr(bytes, pos + 5, least(view.getUint32(pos + 1), 0x10000));
    case 0xdc: need(2); return readArray(bytes, pos + 3, least(view.getUint16(pos + 1), 0x10));
    case 0xdd: need(4); return readArray(bytes, pos + 5, least(view.getUint32(pos + 1), 0x10000));
    default: throw new DecodeError(`msgpack type 0x${b.toString(16)} is not used by govchain`);
  }
}

function readBin(bytes, pos, len) {
  if (pos + len > bytes.length) throw new DecodeError('truncated bin');
  return [bytes.subarray(pos, pos + len), pos + len];
}

function readStr(bytes, pos, len) {
  if (pos + len > bytes.length) throw new DecodeError('truncated str');
  return [utf8.decode(bytes.subarray(pos, pos + len)), pos + len];
}

function readArray(bytes, pos, count) {
  if (count > bytes.length - pos) throw new DecodeError('array longer than the input');
  const out = [];
  for (let i = 0; i < count; i++) {
    const [value, next] = readValue(bytes, pos);
    out.push(value);
    pos = next;
  }
  return [out, pos];
}

// Decodes exactly one value that fills bytes.
export function decode(bytes) {
  const [value, end] = readValue(bytes, 0);
  if (end !== bytes.length) throw new DecodeError('trailing bytes');
  return value;
}

// The byte spans [start, end) of each element of the top-level array in bytes.
export function elementSpans(bytes) {
  const b = bytes[0];
  let count;
  let pos;
  if (b >= 0x90 && b <= 0x9f) { count = b & 0x0f; pos = 1; }
  else if (b === 0xdc) { count = (bytes[1] << 8) | bytes[2]; pos = 3; }
  else throw new DecodeError('not an array');
  const spans = [];
  for (let i = 0; i < count; i++) {
    const [, next] = readValue(bytes, pos);
    spans.push([pos, next]);
    pos = next;
  }
  if (pos !== bytes.length) throw new DecodeError('trailing bytes');
  return spans;
}

// Encoders for the few small arrays the page must sign-check: unsigned integers (up to
// 2^53) and bin, in canonical shortest form.
export function encodeArray(items) {
  const parts = [];
  parts.push(items.length <= 15 ? Uint8Array.of(0x90 | items.length)
                                : Uint8Array.of(0xdc, items.length >> 8, items.length & 0xff));
  for (const item of items) parts.push(item instanceof Uint8Array ? encodeBin(item) : encodeUint(item));
  return concat(parts);
}

export function encodeUint(n) {
  if (typeof n === 'bigint' || n > 0xffffffff) {
    const out = new Uint8Array(9);
    out[0] = 0xcf;
    new DataView(out.buffer).setBigUint64(1, BigInt(n));
    return out;
  }
  if (n <= 0x7f) return Uint8Array.of(n);
  if (n <= 0xff) return Uint8Array.of(0xcc, n);
  if (n <= 0xffff) return Uint8Array.of(0xcd, n >> 8, n & 0xff);
  const out = new Uint8Array(5);
  out[0] = 0xce;
  new DataView(out.buffer).setUint32(1, n);
  return out;
}

export function encodeBin(bytes) {
  if (bytes.length > 0xff) throw new Error('bin too long for this encoder');
  return concat([Uint8Array.of(0xc4, bytes.length), bytes]);
}

export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
