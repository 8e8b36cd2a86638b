// SM2 verification (web/js/sm2.js) against signatures made by the openssl command line,
// signed as tests/unit/test_crypto.c has openssl sign for govchain:
//   openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:1234567812345678
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { GOVCHAIN_SM2_ID, SM2_CURVE, sm2PublicKeyValid, sm2Verify, sm2VerifyDigest, sm2Z }
  from '../js/sm2.js';
import { sm3 } from '../js/sm3.js';
import {
  P256_GENPKEY, SM2_GENPKEY, be32, bigOf, hex, openssl, opensslKey, opensslSm2Sign, randomBytes,
  tempDir,
} from '../test-util/openssl.mjs';

const LENGTHS = [0, 1, 3, 31, 32, 33, 63, 64, 65, 119, 1000, 10000];
let dir, alice, bob, p256Key, vectors;

before(() => {
  dir = tempDir();
  alice = opensslKey(dir, 'alice', SM2_GENPKEY);
  bob = opensslKey(dir, 'bob', SM2_GENPKEY);
  p256Key = opensslKey(dir, 'p256', P256_GENPKEY);
  vectors = LENGTHS.map((n) => {
    const message = randomBytes(n, 100 + n);
    return { message, signature: opensslSm2Sign(dir, alice.keyPath, message, GOVCHAIN_SM2_ID) };
  });
});

const flip = (bytes, i, bit = 1) => {
  const out = bytes.slice();
  out[i] ^= bit;
  return out;
};

test('the curve parameters are those openssl knows as SM2', () => {
  const text = openssl(['ecparam', '-name', 'SM2', '-param_enc', 'explicit', '-text', '-noout'])
    .toString();
  const field = (label) => {
    const m = text.match(new RegExp(`${label}:\\s*\\n((?:\\s+[0-9a-f:]+\\n)+)`));
    assert.ok(m, `no ${label} in openssl's output`);
    return BigInt('0x' + m[1].replace(/[\s:]/g, ''));
  };
  assert.equal(field('Prime'), SM2_CURVE.p);
  assert.equal(field('A'), SM2_CURVE.a);
  assert.equal(field('B'), SM2_CURVE.b);
  assert.equal(field('Order'), SM2_CURVE.n);
  const g = field('Generator \\(uncompressed\\)').toString(16).padStart(130, '0');
  assert.equal(g, '04' + SM2_CURVE.gx.toString(16).padStart(64, '0') +
    SM2_CURVE.gy.toString(16).padStart(64, '0'));
  assert.match(text, /Cofactor:\s+1 /);
});

test('openssl signatures with the govchain id verify, for messages of many lengths', () => {
  for (const { message, signature } of vectors) {
    assert.equal(sm2Verify(alice.publicKey, message, signature), true, `length ${message.length}`);
  }
});

test('a changed message fails', () => {
  for (const { message, signature } of vectors) {
    if (message.length > 0) {
      assert.equal(sm2Verify(alice.publicKey, flip(message, message.length - 1), signature), false);
      assert.equal(sm2Verify(alice.publicKey, message.subarray(1), signature), false);
    }
    const longer = new Uint8Array(message.length + 1);
    longer.set(message);
    assert.equal(sm2Verify(alice.publicKey, longer, signature), false);
  }
});

test('a changed r or s fails', () => {
  const { message, signature } = vectors[4];
  for (const i of [0, 17, 31, 32, 50, 63]) {
    assert.equal(sm2Verify(alice.publicKey, message, flip(signature, i)), false, `byte ${i}`);
  }
  const swapped = new Uint8Array(64);
  swapped.set(signature.subarray(32), 0);
  swapped.set(signature.subarray(0, 32), 32);
  assert.equal(sm2Verify(alice.publicKey, message, swapped), false);
});

test('another key fails', () => {
  const { message, signature } = vectors[5];
  assert.equal(sm2Verify(bob.publicKey, message, signature), false);
  const bobs = opensslSm2Sign(dir, bob.keyPath, message, GOVCHAIN_SM2_ID);
  assert.equal(sm2Verify(bob.publicKey, message, bobs), true);
  assert.equal(sm2Verify(alice.publicKey, message, bobs), false);
});

test('the distinguishing id is really used', () => {
  const { message, signature } = vectors[6];
  assert.equal(sm2Verify(alice.publicKey, message, signature, { id: '1234567812345679' }), false);
  assert.equal(sm2Verify(alice.publicKey, message, signature, { id: '' }), false);
  // openssl's own default (no distid: the empty id) is not govchain's.
  const emptyId = opensslSm2Sign(dir, alice.keyPath, message, null);
  assert.equal(sm2Verify(alice.publicKey, message, emptyId), false);
  assert.equal(sm2Verify(alice.publicKey, message, emptyId, { id: '' }), true);
  assert.equal(sm2Verify(alice.publicKey, message, emptyId, { id: new Uint8Array(0) }), true);
  // Any other id, as a string or as bytes.
  const other = opensslSm2Sign(dir, alice.keyPath, message, 'alice@example.gov.cn');
  assert.equal(sm2Verify(alice.publicKey, message, other), false);
  assert.equal(sm2Verify(alice.publicKey, message, other, { id: 'alice@example.gov.cn' }), true);
  assert.equal(sm2Verify(alice.publicKey, message, other,
    { id: new TextEncoder().encode('alice@example.gov.cn') }), true);
});

test('sm2VerifyDigest takes e = SM3(Z || M); Z is 32 bytes and depends on key and id', () => {
  const { message, signature } = vectors[7];
  const z = sm2Z(alice.publicKey);
  assert.equal(z.length, 32);
  assert.equal(sm2VerifyDigest(alice.publicKey, sm3(z, message), signature), true);
  assert.equal(sm2VerifyDigest(alice.publicKey, sm3(message), signature), false);
  assert.notEqual(hex(sm2Z(bob.publicKey)), hex(z));
  assert.notEqual(hex(sm2Z(alice.publicKey, '')), hex(z));
  assert.equal(hex(sm2Z(alice.publicKey, GOVCHAIN_SM2_ID)), hex(z));
  assert.equal(GOVCHAIN_SM2_ID, '1234567812345678');
});

test('r and s outside [1, n-1], and t = r + s = 0 mod n, fail', () => {
  const { message, signature } = vectors[8];
  const { n } = SM2_CURVE;
  const r = bigOf(signature.subarray(0, 32));
  const s = bigOf(signature.subarray(32));
  const sig = (rr, ss) => {
    const out = new Uint8Array(64);
    out.set(be32(rr), 0);
    out.set(be32(ss), 32);
    return out;
  };
  assert.equal(sm2Verify(alice.publicKey, message, sig(r, s)), true);
  for (const [rr, ss] of [[0n, s], [r, 0n], [n, s], [r, n], [r + n, s], [r, s + n], [n - 1n, n - 1n],
    [2n ** 256n - 1n, s], [r, n - r]]) {
    if (rr < 2n ** 256n && ss < 2n ** 256n) {
      assert.equal(sm2Verify(alice.publicKey, message, sig(rr, ss)), false, `r ${rr} s ${ss}`);
    }
  }
});

test('signatures that are not 64 bytes fail', () => {
  const { message, signature } = vectors[3];
  assert.equal(sm2Verify(alice.publicKey, message, signature.subarray(0, 63)), false);
  const longer = new Uint8Array(65);
  longer.set(signature, 1);
  assert.equal(sm2Verify(alice.publicKey, message, longer), false);
  assert.equal(sm2Verify(alice.publicKey, message, new Uint8Array(0)), false);
});

test('public key validity', () => {
  assert.equal(sm2PublicKeyValid(alice.publicKey), true);
  assert.equal(sm2PublicKeyValid(bob.publicKey), true);
  const offCurve = flip(alice.publicKey, 64);
  assert.equal(sm2PublicKeyValid(offCurve), false);
  const compressed = flip(alice.publicKey, 0, 0x04 ^ 0x02);
  assert.equal(sm2PublicKeyValid(compressed), false);
  assert.equal(sm2PublicKeyValid(alice.publicKey.subarray(0, 64)), false);
  assert.equal(sm2PublicKeyValid(new Uint8Array(65)), false);
  const zero = new Uint8Array(65);
  zero[0] = 4;
  assert.equal(sm2PublicKeyValid(zero), false);
  // x = p: a coordinate not below the field prime (whatever y is).
  const xp = new Uint8Array(65);
  xp[0] = 4;
  xp.set(be32(SM2_CURVE.p), 1);
  assert.equal(sm2PublicKeyValid(xp), false);
  // A P-256 point is not an SM2 key.
  assert.equal(sm2PublicKeyValid(p256Key.publicKey), false);
  // y replaced by p - y (the point's negative) is on the curve, but signatures fail.
  const neg = alice.publicKey.slice();
  neg.set(be32(SM2_CURVE.p - bigOf(alice.publicKey.subarray(33))), 33);
  assert.equal(sm2PublicKeyValid(neg), true);
  const { message, signature } = vectors[2];
  assert.equal(sm2Verify(neg, message, signature), false);
  assert.equal(sm2Verify(offCurve, message, signature), false);
  assert.equal(sm2Verify(compressed, message, signature), false);
});

test('speed: a verification takes well under 50 ms', () => {
  const { message, signature } = vectors[9];
  const count = 50;
  const start = performance.now();
  for (let i = 0; i < count; i++) assert.equal(sm2Verify(alice.publicKey, message, signature), true);
  const each = (performance.now() - start) / count;
  assert.ok(each < 50, `${each.toFixed(1)} ms per verification`);
});
