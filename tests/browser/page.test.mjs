// The verification page in Debian's headless Chromium, on live networks of govchain
// nodes: a valid file shows as valid with its issuer and the block it is proved as of, an
// unknown one as not found, a revoked one as revoked, one whose validity starts next year
// as not yet in force, and a receipt tampered with by a misbehaving node is refused.
// The page loads nothing from anywhere but the node, and fits a phone's screen.
//
//   GOVCHAIN=build/govchain node --test tests/browser/
//
// Needs: the govchain binary (GOVCHAIN), Debian's chromium (CHROMIUM, default
// /usr/bin/chromium) and playwright-core (npm ci in tests/browser).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, openSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { chromium } from 'playwright-core';

const govchain = process.env.GOVCHAIN;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
assert.ok(govchain, 'set GOVCHAIN to the govchain binary');

const work = mkdtempSync(join(tmpdir(), 'govchain-browser-'));
const children = [];
let browser;
let proxy;

function startNetwork(name, suite, basePort) {
  const dir = join(work, name);
  execFileSync(govchain, ['localnet', '--init', '--dir', dir, '--suite', suite,
    '--base-port', String(basePort)]);
  for (let i = 0; i < 4; i++) {
    const log = openSync(join(dir, `node${i}`, 'node.log'), 'a');
    children.push(spawn(govchain, ['node', '--home', join(dir, `node${i}`)],
      { stdio: ['ignore', log, log] }));
  }
  return { dir, api: (i) => `http://127.0.0.1:${basePort + 1000 + i}` };
}

async function waitHealthy(url) {
  for (let tries = 0; tries < 150; tries++) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not start`);
}

function document(name, text) {
  const path = join(work, name);
  writeFileSync(path, `${text}\n${process.pid} ${Date.now()}\n`);
  return path;
}

function submit(net, node, kind, department, file, extra = []) {
  execFileSync(govchain, ['submit', kind, '--node', net.api(node), '--key',
    join(net.dir, 'keys', `${department}.pem`), '--department', department, '--file', file,
    '--wait', ...extra], { stdio: 'pipe' });
}

function issueLicence(net, node, file) {
  submit(net, node, 'issue', 'market-regulation', file,
    ['--type', 'business-licence', '--subject-ref', '07'.repeat(32)]);
}

const base = 10000 + (process.pid % 200) * 10; // below the ephemeral range (32768 on)
let p256;
let sm2;
const files = {};

before(async () => {
  p256 = startNetwork('p256', 'p256-sha256', base);
  sm2 = startNetwork('sm2', 'sm2-sm3', base + 5000);
  for (let i = 0; i < 4; i++) {
    await waitHealthy(p256.api(i));
    await waitHealthy(sm2.api(i));
  }
  files.valid = document('licence.txt', 'Business licence GX-001');
  issueLicence(p256, 0, files.valid);
  submit(p256, 1, 'endorse', 'tax', files.valid);
  submit(p256, 2, 'endorse', 'public-security', files.valid);
  files.revoked = document('revoked.txt', 'Business licence GX-002');
  issueLicence(p256, 3, files.revoked);
  submit(p256, 0, 'revoke', 'market-regulation', files.revoked, ['--reason', 'closed']);
  files.future = document('future.txt', 'Business licence GX-003, in force next year');
  submit(p256, 2, 'issue', 'market-regulation', files.future,
    ['--type', 'business-licence', '--subject-ref', '07'.repeat(32),
      '--valid-from', String(Date.now() + 365 * 86400000)]);
  files.unknown = document('unknown.txt', 'Never issued');
  files.sm2 = document('sm2-licence.txt', 'Business licence GX-SM2');
  issueLicence(sm2, 1, files.sm2);

  // A misbehaving node: it serves the page and the API of node 0, but changes one hex
  // digit of the document state in every receipt.
  const target = new URL(p256.api(0));
  proxy = http.createServer((request, response) => {
    const forward = http.request({ host: target.hostname, port: target.port, path: request.url,
      method: request.method, headers: request.headers }, (answer) => {
      const chunks = [];
      answer.on('data', (chunk) => chunks.push(chunk));
      answer.on('end', () => {
        let body = Buffer.concat(chunks);
        if (request.url.endsWith('/receipt') && answer.statusCode === 200) {
          const receipt = JSON.parse(body.toString());
          const hex = receipt.state.document;
          const at = 40; // inside the issuer's name
          receipt.state.document = hex.slice(0, at) + (hex[at] === '6' ? '7' : '6') + hex.slice(at + 1);
          receipt.display.status = 'valid';
          body = Buffer.from(JSON.stringify(receipt));
        }
        const headers = { ...answer.headers, 'content-length': String(body.length) };
        response.writeHead(answer.statusCode, headers);
        response.end(body);
      });
    });
    request.pipe(forward);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));

  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  if (proxy) proxy.close();
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

// Opens the page at url, picks file, and returns what the page says.
async function verifyIn(url, file, viewport) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  const origins = new Set();
  page.on('request', (request) => origins.add(new URL(request.url()).origin));
  await page.goto(`${url}/`);
  await page.waitForFunction(() => document.getElementById('chain').textContent.includes('localnet'));
  await page.setInputFiles('[data-testid=file]', file);
  await page.waitForSelector('[data-testid=status][data-state]');
  const read = async (selector) => (await page.locator(selector).count())
    ? (await page.locator(selector).first().textContent()) : null;
  const result = {
    state: await page.getAttribute('[data-testid=status]', 'data-state'),
    status: await read('[data-testid=status]'),
    issuer: await read('[data-testid=issuer]'),
    endorsers: await read('[data-testid=endorsers]'),
    recognised: await read('[data-testid=recognised]'),
    reason: await read('[data-testid=reason]'),
    asOf: await read('[data-testid=as-of]'),
    stale: await read('[data-testid=stale]'),
    origins: [...origins],
    overflow: await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth),
  };
  await context.close();
  return result;
}

test('a valid, endorsed licence shows as valid, with its issuer and recognition', async () => {
  const r = await verifyIn(p256.api(1), files.valid);
  assert.equal(r.state, 'ok', JSON.stringify(r));
  assert.match(r.status, /有效/);
  assert.match(r.status, /Valid/);
  assert.match(r.issuer, /market-regulation/);
  assert.match(r.endorsers, /tax/);
  assert.match(r.endorsers, /public-security/);
  assert.match(r.recognised, /yes/);
  assert.match(r.asOf, /block \d+, \d+ (s|min) ago/, 'it says which block it is proved as of');
  assert.equal(r.stale, null, 'a fresh proof carries no caution');
  assert.deepEqual(r.origins, [new URL(p256.api(1)).origin], 'the page loads nothing from elsewhere');
});

test('a file never issued shows as not found', async () => {
  const r = await verifyIn(p256.api(2), files.unknown);
  assert.equal(r.state, 'none', JSON.stringify(r));
  assert.match(r.status, /未找到/);
  assert.match(r.status, /Not found/);
  assert.match(r.asOf, /block \d+/);
});

test('a licence whose validity starts next year shows as not yet in force', async () => {
  const r = await verifyIn(p256.api(1), files.future);
  assert.equal(r.state, 'warn', JSON.stringify(r));
  assert.match(r.status, /尚未生效/);
  assert.match(r.status, /Not yet in force/);
  assert.match(r.issuer, /market-regulation/);
});

test('a revoked licence shows as revoked', async () => {
  const r = await verifyIn(p256.api(3), files.revoked);
  assert.equal(r.state, 'bad', JSON.stringify(r));
  assert.match(r.status, /已撤销/);
  assert.match(r.status, /Revoked/);
  assert.match(r.issuer, /market-regulation/);
});

test('a receipt tampered with by a misbehaving node is refused', async () => {
  const r = await verifyIn(`http://127.0.0.1:${proxy.address().port}`, files.valid);
  assert.equal(r.state, 'bad', JSON.stringify(r));
  assert.match(r.status, /核验失败/);
  assert.match(r.status, /Verification failed/);
  assert.ok(r.reason && r.reason.length > 0);
  assert.equal(r.issuer, null, 'nothing from the tampered receipt is shown as fact');
});

test('an sm2-sm3 chain verifies in the page (SM3 and SM2 in JavaScript)', async () => {
  const r = await verifyIn(sm2.api(0), files.sm2);
  assert.equal(r.state, 'ok', JSON.stringify(r));
  assert.match(r.issuer, /market-regulation/);
});

test('the page fits a phone-sized screen', async () => {
  const r = await verifyIn(p256.api(0), files.valid, { width: 360, height: 740 });
  assert.equal(r.state, 'ok');
  assert.equal(r.overflow, false, 'no horizontal scrolling at 360 px');
});

// The page's verifier (web/js/receipt.js) run directly, in Node, against a live receipt:
// changing any hex digit of its proof-carrying part, or any index, must be refused.
test("the page's verifier refuses every single change of a receipt", async () => {
  const { suite } = await import('../../web/js/suite.js');
  const { readGenesis, verifyReceipt, hexToBytes } = await import('../../web/js/receipt.js');
  const s = suite('p256-sha256');
  const genesisBody = await (await fetch(`${p256.api(0)}/v1/genesis`)).json();
  const genesis = await readGenesis(s, hexToBytes(genesisBody.encoding));
  const docHash = await s.hash(new Uint8Array(readFileSync(files.valid)));
  const hex = Buffer.from(docHash).toString('hex');
  const original = await (await fetch(`${p256.api(0)}/v1/docs/${hex}/receipt`)).json();
  await verifyReceipt(s, genesis, original, docHash, Date.now()); // the untouched one holds

  let mutations = 0;
  const walk = async (node, path) => {
    for (const [key, value] of Object.entries(node)) {
      if (path === '' && key === 'display') continue;
      if (value !== null && typeof value === 'object') {
        await walk(value, `${path}.${key}`);
      } else if (typeof value === 'number') {
        node[key] = value + 1;
        await assert.rejects(verifyReceipt(s, genesis, original, docHash, Date.now()),
          undefined, `${path}.${key} + 1 was accepted`);
        node[key] = value;
        mutations++;
      } else if (typeof value === 'string' && /^[0-9a-f]+$/.test(value)) {
        const step = value.length <= 64 ? 1 : 7;
        for (let i = 0; i < value.length; i += step) {
          node[key] = value.slice(0, i) + (value[i] === '0' ? '1' : '0') + value.slice(i + 1);
          await assert.rejects(verifyReceipt(s, genesis, original, docHash, Date.now()),
            undefined, `${path}.${key} digit ${i} was accepted`);
          mutations++;
        }
        node[key] = value;
      }
    }
  };
  await walk(original, '');
  assert.ok(mutations > 300, `only ${mutations} mutations`);

  // Encodings must be canonical, as govchain's C decoders require: the certificate's view
  // written in a longer form than needed, or as nil, is refused.
  const cert = original.state.commit_cert;
  assert.equal(cert.slice(0, 2), '94');
  assert.ok(parseInt(cert.slice(2, 4), 16) < 0x80, 'the view is a one-byte integer');
  for (const [changed, what] of [[`94cc${cert.slice(2)}`, 'a non-shortest view'],
    [`94c0${cert.slice(4)}`, 'a nil view']]) {
    original.state.commit_cert = changed;
    await assert.rejects(verifyReceipt(s, genesis, original, docHash, Date.now()),
      undefined, `${what} was accepted`);
  }
  original.state.commit_cert = cert;
  await verifyReceipt(s, genesis, original, docHash, Date.now());
});
