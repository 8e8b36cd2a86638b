// govchain's suites (web/js/suite.js): transactions signed by the govchain binary itself
// (`govchain submit --genesis --print`, signing offline) verify, and so do signatures
// the openssl command line makes over a preimage the test assembles by hand as
// docs/crypto.md defines it: tag || 0x00 || chain_id || message.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { SUITES, bytesToHex, hexToBytes, preimage, suite, tagValid } from '../js/suite.js';
import {
  P256_GENPKEY, SM2_GENPKEY, govchain, govchainBinary, hex, opensslDigests, opensslKey,
  opensslP256Sign, opensslSm2Sign, randomBytes, tempDir, unhex,
} from '../test-util/openssl.mjs';

const TX_TAG = 'govchain/tx/1';
const flip = (bytes, i, bit = 1) => {
  const out = bytes.slice();
  out[i] ^= bit;
  return out;
};

// The bytes govchain signs, assembled here independently of suite.js.
const handPreimage = (tag, chainId, message) =>
  new Uint8Array(Buffer.concat([Buffer.from(tag, 'latin1'), Buffer.from([0]), chainId, message]));

const binary = govchainBinary();

for (const name of SUITES) {
  describe(`${name}: a transaction signed by the govchain binary`, () => {
    const s = suite(name);
    let chainId, body, signature, publicKey, otherKey, doc, docHashHex;

    before(() => {
      const dir = tempDir();
      const net = join(dir, 'net');
      govchain(binary, ['localnet', '--init', '--dir', net, '--suite', name]);
      const genesisPath = join(net, 'genesis.json');
      chainId = unhex(govchain(binary, ['genesis', 'verify', genesisPath]).trim());
      const genesis = JSON.parse(readFileSync(genesisPath, 'utf8'));
      assert.equal(genesis.suite, name);
      const keyOf = (id) => unhex(genesis.departments.find((d) => d.id === id).keys[0]);
      publicKey = keyOf('market-regulation');
      otherKey = keyOf('tax');
      doc = randomBytes(70000, name.length);
      const docPath = join(dir, 'licence.pdf');
      writeFileSync(docPath, doc);
      [docHashHex] = opensslDigests(dir, name === 'sm2-sm3' ? 'sm3' : 'sha256', [doc]);
      const out = govchain(binary, ['submit', 'issue', '--genesis', genesisPath, '--print',
        '--key', join(net, 'keys', 'market-regulation.pem'), '--department', 'market-regulation',
        '--file', docPath, '--type', 'business-licence', '--subject-ref', '11'.repeat(32)]);
      // tx = [body, signature] (docs/formats.md): fixarray 2, encode(body), bin 8 of 64.
      const tx = unhex(JSON.parse(out).tx);
      assert.equal(tx[0], 0x92);
      assert.deepEqual([...tx.subarray(tx.length - 66, tx.length - 64)], [0xc4, 0x40]);
      body = tx.subarray(1, tx.length - 66);
      signature = tx.subarray(tx.length - 64);
    });

    test('verifies',
      async () => {
        assert.equal(await s.publicKeyValid(publicKey), true);
        assert.equal(await s.verify(publicKey, TX_TAG, chainId, body, signature), true);
        // The body carries the chain id and the document's hash, as openssl computes it.
        assert.ok(hex(body).includes(hex(chainId)));
        assert.ok(hex(body).includes(docHashHex));
        assert.equal(hex(await s.hash(doc)), docHashHex);
        assert.equal(hex(await s.hashBlob(new Blob([doc]))), docHashHex);
      });

    test('fails for any change', async () => {
      assert.equal(await s.verify(publicKey, TX_TAG, chainId, flip(body, body.length - 1), signature), false);
      assert.equal(await s.verify(publicKey, TX_TAG, chainId, body, flip(signature, 3)), false);
      assert.equal(await s.verify(publicKey, TX_TAG, chainId, body, flip(signature, 60)), false);
      assert.equal(await s.verify(publicKey, 'govchain/tx/2', chainId, body, signature), false);
      assert.equal(await s.verify(publicKey, TX_TAG, flip(chainId, 31), body, signature), false);
      assert.equal(await s.verify(publicKey, TX_TAG, new Uint8Array(32), body, signature), false);
      assert.equal(await s.verify(otherKey, TX_TAG, chainId, body, signature), false);
      assert.equal(await s.verify(flip(publicKey, 64), TX_TAG, chainId, body, signature), false);
      // A tag with a NUL in it is refused (the separator would be ambiguous).
      assert.equal(await s.verify(publicKey, 'govchain/tx/1\u0000', chainId, body, signature), false);
    });
  });
}

const OPENSSL_CASES = {
  'sm2-sm3': {
    genpkey: SM2_GENPKEY,
    sign: (dir, key, bytes) => opensslSm2Sign(dir, key, bytes, '1234567812345678'),
  },
  'p256-sha256': { genpkey: P256_GENPKEY, sign: opensslP256Sign },
};

for (const name of SUITES) {
  test(`${name}: openssl signs tag || 0x00 || chain_id || message, suite.verify accepts`, async () => {
    const { genpkey, sign } = OPENSSL_CASES[name];
    const s = suite(name);
    const dir = tempDir();
    const key = opensslKey(dir, 'dept', genpkey);
    const chainId = randomBytes(32, 42);
    for (const [tag, message] of [[TX_TAG, randomBytes(300, 1)], ['govchain/commit/1', new Uint8Array(0)],
      [' ~', randomBytes(5000, 2)]]) {
      const signature = sign(dir, key.keyPath, handPreimage(tag, chainId, message));
      assert.equal(await s.verify(key.publicKey, tag, chainId, message, signature), true, tag);
      assert.equal(await s.verify(key.publicKey, tag + 'x', chainId, message, signature), false);
      assert.equal(await s.verify(key.publicKey, tag, flip(chainId, 0), message, signature), false);
    }
    // A signature over the message alone, or with no separator, is not a govchain signature.
    const message = randomBytes(100, 3);
    const bare = sign(dir, key.keyPath, message);
    assert.equal(await s.verify(key.publicKey, TX_TAG, chainId, message, bare), false);
    const noSeparator = sign(dir, key.keyPath,
      new Uint8Array(Buffer.concat([Buffer.from(TX_TAG), chainId, message])));
    assert.equal(await s.verify(key.publicKey, TX_TAG, chainId, message, noSeparator), false);
    // Tags outside printable ASCII are refused even when the signature matches.
    for (const tag of ['bad\u007ftag', 'tab\there', '\u00e9t\u00e9']) {
      const signature = sign(dir, key.keyPath, handPreimage(tag, chainId, message));
      assert.equal(await s.verify(key.publicKey, tag, chainId, message, signature), false, tag);
    }
    const emptyTag = sign(dir, key.keyPath, handPreimage('', chainId, message));
    assert.equal(await s.verify(key.publicKey, '', chainId, message, emptyTag), false);
    // Wrong shapes give false, not an exception.
    const good = sign(dir, key.keyPath, handPreimage(TX_TAG, chainId, message));
    assert.equal(await s.verify(key.publicKey, TX_TAG, chainId.subarray(1), message, good), false);
    assert.equal(await s.verify(key.publicKey, TX_TAG, chainId, message, good.subarray(1)), false);
    assert.equal(await s.verify(key.publicKey.subarray(1), TX_TAG, chainId, message, good), false);
    assert.equal(await s.verify(key.publicKey, TX_TAG, chainId, message, good), true);
  });
}

test('preimage() is tag || 0x00 || chain_id || message', () => {
  const chainId = randomBytes(32, 5);
  const message = randomBytes(77, 6);
  assert.deepEqual(preimage(TX_TAG, chainId, message), handPreimage(TX_TAG, chainId, message));
  assert.throws(() => preimage('', chainId, message), TypeError);
  assert.throws(() => preimage('a\u0000b', chainId, message), TypeError);
  assert.throws(() => preimage(TX_TAG, chainId.subarray(1), message), TypeError);
  assert.equal(tagValid('govchain/prepare/1'), true);
  assert.equal(tagValid('\u0080'), false);
});

test('suite names, hex helpers', () => {
  assert.deepEqual([...SUITES], ['p256-sha256', 'sm2-sm3']);
  assert.throws(() => suite('sm2'), RangeError);
  const bytes = randomBytes(40, 8);
  assert.equal(bytesToHex(bytes), hex(bytes));
  assert.deepEqual(hexToBytes(hex(bytes).toUpperCase()), bytes);
  assert.throws(() => hexToBytes('abc'), TypeError);
  assert.throws(() => hexToBytes('zz'), TypeError);
});
