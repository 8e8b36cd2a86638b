// SM2 signature verification (GB/T 32918.2-2016) over the SM2 recommended curve
// (GB/T 32918.5-2017), with SM3 (GB/T 32905-2016) as the hash.
//
//   import { sm2Verify, sm2PublicKeyValid, sm2Z, GOVCHAIN_SM2_ID } from './sm2.js';
//   sm2PublicKeyValid(publicKey)                         -> boolean
//   sm2Z(publicKey, id = GOVCHAIN_SM2_ID)                -> Uint8Array(32)
//   sm2Verify(publicKey, message, signature, { id })     -> boolean
//   sm2VerifyDigest(publicKey, e, signature)             -> boolean
//
// publicKey: 65 bytes 04 || x || y. signature: 64 bytes r || s (big-endian). message:
// the bytes that were signed, M; the signer hashed e = SM3(Z || M) with
// Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), ENTL the id's length in bits
// as two big-endian bytes. id is a string (its UTF-8 bytes) or a Uint8Array; govchain
// always uses GOVCHAIN_SM2_ID, the GM/T 0009 default "1234567812345678".
//
// Verification only, on public data: nothing here is constant-time, and nothing here
// signs. Malformed input (wrong lengths, a point off the curve, r or s out of range)
// makes the verify functions return false rather than throw.

import { SM3, sm3 } from './sm3.js';
import { bytesToBigInt, bigIntToBytes, makeCurve } from './ec.js';

export const GOVCHAIN_SM2_ID = '1234567812345678';

// The recommended curve's parameters (GB/T 32918.5-2017).
export const SM2_CURVE = Object.freeze({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
});

const curve = makeCurve(SM2_CURVE);
const encoder = new TextEncoder();

// The curve part of Z's input: a || b || xG || yG, 128 bytes.
const CURVE_BYTES = (() => {
  const out = new Uint8Array(128);
  [SM2_CURVE.a, SM2_CURVE.b, SM2_CURVE.gx, SM2_CURVE.gy].forEach((v, i) =>
    out.set(bigIntToBytes(v, 32), 32 * i));
  return out;
})();

function idBytes(id) {
  if (typeof id === 'string') return encoder.encode(id);
  if (id instanceof Uint8Array) return id;
  throw new TypeError('sm2: id must be a string or a Uint8Array');
}

// The public key as BigInts, or null when it is not a valid SM2 public key:
// 65 bytes, 0x04, both coordinates below p, on the curve. (The cofactor is 1, so a
// point on the curve other than infinity, which has no affine encoding, is in the
// group of order n.)
function parsePublicKey(publicKey) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 65 || publicKey[0] !== 0x04) {
    return null;
  }
  const x = bytesToBigInt(publicKey.subarray(1, 33));
  const y = bytesToBigInt(publicKey.subarray(33, 65));
  return curve.onCurve(x, y) ? { x, y } : null;
}

export function sm2PublicKeyValid(publicKey) {
  return parsePublicKey(publicKey) !== null;
}

// Z_A of GB/T 32918.2 §5.5 for a public key and a distinguishing id.
export function sm2Z(publicKey, id = GOVCHAIN_SM2_ID) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 65) {
    throw new TypeError('sm2: a public key is 65 bytes, 04 || x || y');
  }
  const ident = idBytes(id);
  if (ident.length > 8191) throw new RangeError('sm2: id longer than 8191 bytes');
  const bits = ident.length * 8;
  return sm3(new Uint8Array([bits >>> 8, bits & 0xff]), ident, CURVE_BYTES,
    publicKey.subarray(1, 65));
}

// Verifies (r, s) over a digest e (32 bytes) already computed as SM3(Z || M).
export function sm2VerifyDigest(publicKey, e, signature) {
  const Q = parsePublicKey(publicKey);
  if (Q === null || !(signature instanceof Uint8Array) || signature.length !== 64 ||
      !(e instanceof Uint8Array) || e.length !== 32) {
    return false;
  }
  const { n } = SM2_CURVE;
  const r = bytesToBigInt(signature.subarray(0, 32));
  const s = bytesToBigInt(signature.subarray(32, 64));
  if (r < 1n || r >= n || s < 1n || s >= n) return false; // B1, B2
  const t = (r + s) % n; // B5
  if (t === 0n) return false;
  const point = curve.mulAdd(s, t, Q.x, Q.y); // B6: (x1, y1) = [s]G + [t]P_A
  if (point === null) return false;
  return (bytesToBigInt(e) + point.x) % n === r; // B7
}

// Verifies signature over message M by publicKey: e = SM3(Z || M), then sm2VerifyDigest.
export function sm2Verify(publicKey, message, signature, { id = GOVCHAIN_SM2_ID } = {}) {
  if (!sm2PublicKeyValid(publicKey)) return false;
  if (!(message instanceof Uint8Array)) throw new TypeError('sm2: message must be a Uint8Array');
  const e = new SM3().update(sm2Z(publicKey, id)).update(message).digest();
  return sm2VerifyDigest(publicKey, e, signature);
}
