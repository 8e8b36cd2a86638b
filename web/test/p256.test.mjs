// ECDSA P-256 / SHA-256 (web/js/p256.js: WebCrypto, and the JavaScript fallback for
// pages without it) against `openssl dgst -sha256 -sign` signatures, `openssl dgst
// -sha256` hashes and the Wycheproof vectors govchain's C tests use
// (tests/data/wycheproof/, Apache 2.0). Every check runs on both paths.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  P256_CURVE, p256PublicKeyValid, p256PublicKeyValidJs, p256Verify, p256VerifyJs, sha256,
  sha256Blob, webCryptoAvailable,
} from '../js/p256.js';
import { SHA256, sha256js } from '../js/sha256.js';
import {
  P256_GENPKEY, SM2_GENPKEY, be32, bigOf, hex, openssl, opensslDigests, opensslKey,
  opensslP256Sign, randomBytes, repoRoot, tempDir, unhex,
} from '../test-util/openssl.mjs';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const LENGTHS = [0, 1, 32, 55, 56, 64, 1000, 10000];
let dir, alice, bob, sm2Key, vectors;

before(() => {
  dir = tempDir();
  alice = opensslKey(dir, 'alice', P256_GENPKEY);
  bob = opensslKey(dir, 'bob', P256_GENPKEY);
  sm2Key = opensslKey(dir, 'sm2', SM2_GENPKEY);
  vectors = LENGTHS.map((n) => {
    const message = randomBytes(n, 200 + n);
    return { message, signature: opensslP256Sign(dir, alice.keyPath, message) };
  });
});

const flip = (bytes, i, bit = 1) => {
  const out = bytes.slice();
  out[i] ^= bit;
  return out;
};

const sig = (r, s) => {
  const out = new Uint8Array(64);
  out.set(be32(r), 0);
  out.set(be32(s), 32);
  return out;
};

test('SHA-256 equals openssl dgst -sha256, lengths 0 to 300 and 1 MiB', async () => {
  const inputs = Array.from({ length: 301 }, (_, n) => randomBytes(n, n + 5));
  inputs.push(randomBytes(1 << 20, 9));
  const expected = opensslDigests(dir, 'sha256', inputs);
  for (let i = 0; i < inputs.length; i++) {
    assert.equal(hex(await sha256(inputs[i])), expected[i], `length ${inputs[i].length}`);
  }
  assert.equal(hex(await sha256(new TextEncoder().encode('abc'))),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // FIPS 180-2 B.1
});

// The two paths: WebCrypto (Node 20 has globalThis.crypto.subtle) and the fallback.
const PATHS = {
  webcrypto: { verify: p256Verify, keyValid: p256PublicKeyValid },
  javascript: {
    verify: async (...args) => p256VerifyJs(...args),
    keyValid: async (key) => p256PublicKeyValidJs(key),
  },
};

test('WebCrypto is there in Node 20, so both paths are really tested', () => {
  assert.equal(webCryptoAvailable(), true);
});

test('the fallback curve is the one openssl knows as prime256v1', () => {
  const text = openssl(['ecparam', '-name', 'prime256v1', '-param_enc', 'explicit', '-text',
    '-noout']).toString();
  const field = (label) => {
    const m = text.match(new RegExp(`${label}:\\s*\\n((?:\\s+[0-9a-f:]+\\n)+)`));
    assert.ok(m, `no ${label} in openssl's output`);
    return BigInt('0x' + m[1].replace(/[\s:]/g, ''));
  };
  assert.equal(field('Prime'), P256_CURVE.p);
  assert.equal(field('A'), P256_CURVE.a);
  assert.equal(field('B'), P256_CURVE.b);
  assert.equal(field('Order'), P256_CURVE.n);
  assert.equal(field('Generator \\(uncompressed\\)').toString(16).padStart(130, '0'),
    '04' + P256_CURVE.gx.toString(16).padStart(64, '0') + P256_CURVE.gy.toString(16).padStart(64, '0'));
});

test('the JavaScript SHA-256 equals openssl dgst -sha256, one-shot and streamed', () => {
  const inputs = Array.from({ length: 301 }, (_, n) => randomBytes(n, n + 50));
  inputs.push(randomBytes(1 << 20, 10));
  const expected = opensslDigests(dir, 'sha256', inputs);
  inputs.forEach((m, i) => assert.equal(hex(sha256js(m)), expected[i], `length ${m.length}`));
  const big = inputs[inputs.length - 1];
  const h = new SHA256();
  for (let off = 0, step = 0; off < big.length; off += step, step = (step * 31 + 7) % 5000) {
    h.update(big.subarray(off, off + step));
  }
  assert.equal(hex(h.digest()), expected[expected.length - 1]);
});

for (const [pathName, { verify, keyValid }] of Object.entries(PATHS)) {
test(`${pathName}: openssl signatures verify, for messages of many lengths`, async () => {
  for (const { message, signature } of vectors) {
    assert.equal(await verify(alice.publicKey, message, signature), true,
      `length ${message.length}`);
  }
});

test(`${pathName}: a changed message, r or s fails`, async () => {
  for (const { message, signature } of vectors) {
    if (message.length > 0) {
      assert.equal(await verify(alice.publicKey, flip(message, 0), signature), false);
    }
    assert.equal(await verify(alice.publicKey, message, flip(signature, 5)), false);
    assert.equal(await verify(alice.publicKey, message, flip(signature, 40)), false);
  }
});

test(`${pathName}: another key fails`, async () => {
  const { message, signature } = vectors[3];
  assert.equal(await verify(bob.publicKey, message, signature), false);
});

test(`${pathName}: (r, n - s) verifies too (no low-s rule, as in govchain); out-of-range r, s fail`, async () => {
  const { message, signature } = vectors[2];
  const r = bigOf(signature.subarray(0, 32));
  const s = bigOf(signature.subarray(32));
  assert.equal(await verify(alice.publicKey, message, sig(r, N - s)), true);
  for (const [rr, ss] of [[0n, s], [r, 0n], [N, s], [r, N], [r + N, s], [r, s + N]]) {
    if (rr < 2n ** 256n && ss < 2n ** 256n) {
      assert.equal(await verify(alice.publicKey, message, sig(rr, ss)), false);
    }
  }
  assert.equal(await verify(alice.publicKey, message, signature.subarray(0, 63)), false);
  assert.equal(await verify(alice.publicKey, message, new Uint8Array(0)), false);
});

test(`${pathName}: public key validity`, async () => {
  assert.equal(await keyValid(alice.publicKey), true);
  assert.equal(await keyValid(flip(alice.publicKey, 64)), false);
  assert.equal(await keyValid(flip(alice.publicKey, 0, 0x04 ^ 0x02)), false);
  assert.equal(await keyValid(alice.publicKey.subarray(0, 64)), false);
  assert.equal(await keyValid(new Uint8Array(65)), false);
  assert.equal(await keyValid(sm2Key.publicKey), false); // an SM2 point
  const { message, signature } = vectors[1];
  assert.equal(await verify(flip(alice.publicKey, 64), message, signature), false);
});

test(`${pathName}: Wycheproof ecdsa_secp256r1_sha256_p1363: every test gives its expected result`, async () => {
  const path = join(repoRoot, 'tests', 'data', 'wycheproof', 'ecdsa_secp256r1_sha256_p1363_test.json');
  const suite = JSON.parse(readFileSync(path, 'utf8'));
  let count = 0;
  for (const group of suite.testGroups) {
    assert.equal(group.publicKey.curve, 'secp256r1');
    const key = unhex(group.publicKey.uncompressed);
    for (const t of group.tests) {
      const valid = await verify(key, unhex(t.msg), unhex(t.sig));
      if (t.result === 'valid') assert.equal(valid, true, `tcId ${t.tcId}: ${t.comment}`);
      else if (t.result === 'invalid') assert.equal(valid, false, `tcId ${t.tcId}: ${t.comment}`);
      count++;
    }
  }
  assert.equal(count, suite.numberOfTests);
});
}

test('without crypto.subtle (a page over plain http), the same calls fall back', async (t) => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
  t.after(() => Object.defineProperty(globalThis, 'crypto', saved));
  assert.equal(webCryptoAvailable(), false);
  const { message, signature } = vectors[6];
  assert.equal(await p256PublicKeyValid(alice.publicKey), true);
  assert.equal(await p256PublicKeyValid(flip(alice.publicKey, 64)), false);
  assert.equal(await p256Verify(alice.publicKey, message, signature), true);
  assert.equal(await p256Verify(alice.publicKey, flip(message, 0), signature), false);
  const data = randomBytes(200000, 12);
  const [expected] = opensslDigests(dir, 'sha256', [data]);
  assert.equal(hex(await sha256(data)), expected);
  let progress = 0;
  assert.equal(hex(await sha256Blob(new Blob([data]), (n) => { progress = n; })), expected);
  assert.equal(progress, data.length);
});

test('sha256Blob with WebCrypto equals openssl dgst -sha256', async () => {
  const data = randomBytes(100000, 13);
  const [expected] = opensslDigests(dir, 'sha256', [data]);
  assert.equal(hex(await sha256Blob(new Blob([data]))), expected);
});
