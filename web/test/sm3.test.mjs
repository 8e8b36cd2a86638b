// SM3 (web/js/sm3.js) against GB/T 32905-2016's examples and `openssl dgst -sm3`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SM3, sm3, sm3Blob } from '../js/sm3.js';
import { hex, opensslDigests, randomBytes, tempDir } from '../test-util/openssl.mjs';

const ascii = (s) => new TextEncoder().encode(s);

test('GB/T 32905-2016 appendix A examples', () => {
  assert.equal(hex(sm3(ascii('abc'))),
    '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  assert.equal(hex(sm3(ascii('abcd'.repeat(16)))),
    'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
});

test('the same examples through openssl dgst -sm3', () => {
  const dir = tempDir();
  const inputs = [ascii('abc'), ascii('abcd'.repeat(16))];
  assert.deepEqual(inputs.map((m) => hex(sm3(m))), opensslDigests(dir, 'sm3', inputs));
});

test('every length from 0 to 300 bytes equals openssl dgst -sm3', () => {
  const dir = tempDir();
  const inputs = Array.from({ length: 301 }, (_, n) => randomBytes(n, n + 1));
  const expected = opensslDigests(dir, 'sm3', inputs);
  inputs.forEach((m, n) => assert.equal(hex(sm3(m)), expected[n], `length ${n}`));
});

test('1 MiB, one-shot and in uneven pieces, equals openssl dgst -sm3', () => {
  const dir = tempDir();
  const big = randomBytes(1 << 20, 7);
  const [expected] = opensslDigests(dir, 'sm3', [big]);
  assert.equal(hex(sm3(big)), expected);
  // Pieces of every size from 0 to 200 bytes, then larger ones, crossing block edges.
  const h = new SM3();
  let off = 0;
  for (let step = 0; off < big.length; step++) {
    const size = step < 201 ? step : 1 + ((step * 7919) % 100000);
    h.update(big.subarray(off, off + size));
    off += size;
  }
  assert.equal(hex(h.digest()), expected);
  // Several arguments are hashed as their concatenation.
  assert.equal(hex(sm3(big.subarray(0, 1000), big.subarray(1000))), expected);
});

test('a Blob hashed as a stream equals openssl dgst -sm3', async () => {
  const dir = tempDir();
  const data = randomBytes(3 * 65536 + 17, 11);
  const [expected] = opensslDigests(dir, 'sm3', [data]);
  let progress = 0;
  const digest = await sm3Blob(new Blob([data.subarray(0, 5), data.subarray(5)]), (n) => {
    progress = n;
  });
  assert.equal(hex(digest), expected);
  assert.equal(progress, data.length);
});

test('ArrayBuffer and other views are hashed as their bytes', () => {
  const data = randomBytes(100, 3);
  const expected = hex(sm3(data));
  assert.equal(hex(sm3(data.buffer)), expected);
  assert.equal(hex(sm3(new DataView(data.buffer))), expected);
  assert.throws(() => sm3('abc'), TypeError);
});

test('no update or digest after digest', () => {
  const h = new SM3().update(ascii('abc'));
  h.digest();
  assert.throws(() => h.update(ascii('d')));
  assert.throws(() => h.digest());
});
