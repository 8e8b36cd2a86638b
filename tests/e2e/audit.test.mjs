// The regulators' tools against live networks of govchain nodes (processes on
// loopback): replaying a live node matches it; a tampered block in a served history is
// caught at its height; a checkpoint verifies against the chain grown longer and fails
// against a fork of it; an observer stays within a block of the validators under load
// and after its own restart, and leaves a source that is stale or floods it; the audit
// lists what a department did.
//
//   GOVCHAIN=build/govchain node --test tests/e2e/audit.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, openSync, rmSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const govchain = process.env.GOVCHAIN;
assert.ok(govchain, 'set GOVCHAIN to the govchain binary');
const work = mkdtempSync(join(tmpdir(), 'govchain-audit-'));
const base = 27000 + (process.pid % 150) * 10; // below the ephemeral range (32768 on)
const processes = new Map(); // name -> child

function portsOf(netBase) {
  return { p2p: (i) => netBase + i, api: (i) => netBase + 1000 + i };
}

function startNode(name, home, env = {}) {
  const log = openSync(join(home, 'node.log'), 'a');
  const child = spawn(govchain, ['node', '--home', home],
    { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  processes.set(name, child);
  return child;
}

async function stopNode(name) {
  const child = processes.get(name);
  processes.delete(name);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

// Starts the four validators of dir on the ports of netBase (overriding the config).
function startNetwork(prefix, dir, netBase) {
  const ports = portsOf(netBase);
  for (let i = 0; i < 4; i++) {
    const env = {
      GOVCHAIN_NETWORK_LISTEN: `127.0.0.1:${ports.p2p(i)}`,
      GOVCHAIN_API_LISTEN: `127.0.0.1:${ports.api(i)}`,
    };
    for (let j = 0; j < 4; j++) {
      if (j !== i) env[`GOVCHAIN_NETWORK_PEER_${j}`] = `127.0.0.1:${ports.p2p(j)}`;
    }
    startNode(`${prefix}${i}`, join(dir, `node${i}`), env);
  }
  return { dir, api: (i) => `http://127.0.0.1:${ports.api(i)}` };
}

async function json(url) {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

async function waitFor(what, predicate, seconds = 30) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const height = async (url) => (await json(`${url}/v1/status`)).body.height;

let serial = 0;
function issue(net, node, dir = net.dir) {
  const file = join(work, `doc-${serial++}.txt`);
  writeFileSync(file, `record ${serial} ${process.pid} ${Date.now()}\n`);
  execFileSync(govchain, ['submit', 'issue', '--node', net.api(node), '--key',
    join(dir, 'keys', 'market-regulation.pem'), '--department', 'market-regulation', '--file',
    file, '--type', 'business-licence', '--subject-ref', '05'.repeat(32), '--wait'],
  { stdio: 'pipe' });
}

function run(args) {
  const result = spawnSync(govchain, args, { encoding: 'utf8' });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

// The same without blocking this process's event loop (a proxy here must keep serving).
function runAsync(args) {
  return new Promise((resolve) => {
    const child = spawn(govchain, args);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.stderr.on('data', (chunk) => { err += chunk; });
    child.on('close', (status) => resolve({ status, out, err }));
  });
}

let a; // the network
let b; // a fork of it: the same genesis and first blocks, then its own
let observerHome;

before(async () => {
  const dirA = join(work, 'a');
  execFileSync(govchain, ['localnet', '--init', '--dir', dirA, '--base-port', String(base)]);
  a = startNetwork('a', dirA, base);
  for (let i = 0; i < 4; i++) await waitFor(`node a${i}`, async () => (await fetch(`${a.api(i)}/healthz`)).ok);
  for (let i = 0; i < 3; i++) issue(a, i);
  // Fork: stop the network, copy it whole, and run both copies apart from here on.
  for (let i = 0; i < 4; i++) await stopNode(`a${i}`);
  const dirB = join(work, 'b');
  cpSync(dirA, dirB, { recursive: true });
  a = startNetwork('a', dirA, base);
  b = startNetwork('b', dirB, base + 100);
  for (let i = 0; i < 4; i++) {
    await waitFor(`node a${i}`, async () => (await fetch(`${a.api(i)}/healthz`)).ok);
    await waitFor(`node b${i}`, async () => (await fetch(`${b.api(i)}/healthz`)).ok);
  }
  issue(a, 0);
  issue(b, 1);
  observerHome = join(work, 'observer');
  mkdirSync(observerHome);
  writeFileSync(join(observerHome, 'config.ini'), [
    '[node]', 'role = observer', `genesis = ${join(dirA, 'genesis.json')}`,
    '[api]', `listen = 127.0.0.1:${base + 500}`,
    '[observer]', `source.0 = ${a.api(0)}`, `source.1 = ${a.api(1)}`, ''].join('\n'));
  startNode('observer', observerHome);
  await waitFor('the observer', async () => (await fetch(`http://127.0.0.1:${base + 500}/healthz`)).ok);
});

after(async () => {
  for (const child of processes.values()) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

test('a replay of a live node matches it', async () => {
  const r = run(['replay', '--from', a.api(2), '--genesis', join(a.dir, 'genesis.json')]);
  assert.equal(r.status, 0, r.err);
  const status = (await json(`${a.api(2)}/v1/status`)).body;
  assert.match(r.out, new RegExp(`height: ${status.height}\\b`));
  assert.match(r.out, new RegExp(`block hash: ${status.head_hash}`));
  assert.match(r.out, /every certificate, signature and root re-verified/);
});

test('a tampered block in a served history is caught at its height', async () => {
  // A node that serves block 3 with one byte of a transaction changed.
  const target = new URL(a.api(1));
  const proxy = http.createServer((request, response) => {
    http.get({ host: target.hostname, port: target.port, path: request.url }, (answer) => {
      const chunks = [];
      answer.on('data', (c) => chunks.push(c));
      answer.on('end', () => {
        let body = Buffer.concat(chunks);
        if (request.url.startsWith('/v1/blocks/raw')) {
          const page = JSON.parse(body);
          for (const block of page.blocks) {
            if (block.height === 3) {
              const at = block.record.length - 200; // inside the last transaction
              block.record = block.record.slice(0, at) +
                (block.record[at] === '0' ? '1' : '0') + block.record.slice(at + 1);
            }
          }
          body = Buffer.from(JSON.stringify(page));
        }
        response.writeHead(answer.statusCode, { 'content-type': 'application/json',
          'content-length': body.length });
        response.end(body);
      });
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const r = await runAsync(['replay', '--from', `http://127.0.0.1:${proxy.address().port}`,
    '--genesis', join(a.dir, 'genesis.json')]);
  proxy.close();
  assert.equal(r.status, 1, r.out);
  assert.match(r.err, /stopped after 2 good blocks: height 3:/);
});

test('a checkpoint verifies against the chain grown longer and fails against a fork', async () => {
  const early = join(work, 'checkpoint-early.json');
  const late = join(work, 'checkpoint-late.json');
  // Height 3 is shared by both copies; the newest block of a is not.
  let r = run(['checkpoint', '--node', a.api(0), '--out', late]);
  assert.equal(r.status, 0, r.err);
  issue(a, 2);
  issue(a, 3);
  r = run(['checkpoint', 'verify', '--node', a.api(1), '--genesis', join(a.dir, 'genesis.json'),
    '--checkpoint', late]);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /extends the checkpoint/);
  r = run(['checkpoint', 'verify', '--node', b.api(1), '--genesis', join(a.dir, 'genesis.json'),
    '--checkpoint', late]);
  assert.equal(r.status, 1, r.out);
  assert.match(r.err, /history was rewritten|shorter than the checkpoint/);
  // A checkpoint from before the fork holds on both.
  const proof = await json(`${a.api(0)}/v1/proofs/consistency?from=3&to=3`);
  writeFileSync(early, JSON.stringify({ format: 'govchain-checkpoint/1', height: 3,
    header: proof.body.from.header, commit_cert: proof.body.from.commit_cert }));
  for (const net of [a, b]) {
    r = run(['checkpoint', 'verify', '--node', net.api(2), '--genesis',
      join(a.dir, 'genesis.json'), '--checkpoint', early]);
    assert.equal(r.status, 0, r.err);
  }
});

test('an observer stays within one block of the validators, under load and after a restart', async () => {
  const observer = `http://127.0.0.1:${base + 500}`;
  await waitFor('the observer to catch up', async () => (await height(observer)) === (await height(a.api(0))));
  let maxLag = 0;
  const sample = async () => {
    const validators = await height(a.api(0));
    await new Promise((resolve) => setTimeout(resolve, 150)); // time for one block to travel
    maxLag = Math.max(maxLag, validators - (await height(observer)));
  };
  for (let round = 0; round < 8; round++) {
    const load = [];
    for (let i = 0; i < 4; i++) load.push(new Promise((resolve) => { issue(a, i); resolve(); }));
    await Promise.all(load);
    await sample();
  }
  assert.ok(maxLag <= 1, `the observer fell ${maxLag} blocks behind`);
  await stopNode('observer');
  issue(a, 1);
  issue(a, 2);
  startNode('observer', observerHome);
  await waitFor('the restarted observer to catch up',
    async () => (await height(observer)) === (await height(a.api(0))), 20);
  const status = (await json(`${observer}/v1/status`)).body;
  assert.equal(status.role, 'observer');
  const submitted = await fetch(`${observer}/v1/txs`, { method: 'POST',
    headers: { 'content-type': 'application/json' }, body: '{"tx":"00"}' });
  assert.equal(submitted.status, 403, 'an observer takes no transactions');
});

// A source that keeps no protocol: its status says height 0, and it answers every long
// poll at once with no block (or with `page`, when given).
async function hostileSource(page) {
  const source = { requests: 0 };
  source.server = http.createServer((request, response) => {
    source.requests++;
    const body = request.url.startsWith('/v1/status')
      ? JSON.stringify({ height: page ? 5 : 0, head_hash: '00'.repeat(32) })
      : page || JSON.stringify({ head: 0, blocks: [] });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(body);
  });
  await new Promise((resolve) => source.server.listen(0, '127.0.0.1', resolve));
  source.url = `http://127.0.0.1:${source.server.address().port}`;
  return source;
}

test('an observer leaves a stale source for the next, without flooding it', async () => {
  const stale = await hostileSource();
  const home = join(work, 'observer-stale');
  mkdirSync(home);
  writeFileSync(join(home, 'config.ini'), [
    '[node]', 'role = observer', `genesis = ${join(a.dir, 'genesis.json')}`,
    '[api]', `listen = 127.0.0.1:${base + 501}`,
    '[observer]', `source.0 = ${stale.url}`, `source.1 = ${a.api(2)}`, ''].join('\n'));
  const started = Date.now();
  startNode('observer-stale', home);
  const observer = `http://127.0.0.1:${base + 501}`;
  await waitFor('the observer to leave the stale source and catch up',
    async () => (await height(observer)) === (await height(a.api(0))), 40);
  const seconds = (Date.now() - started) / 1000;
  await stopNode('observer-stale');
  stale.server.close();
  assert.match(readFileSync(join(home, 'node.log'), 'utf8'),
    new RegExp(`source ${stale.url} brought no block for 10 s and ${a.api(2)} is ahead`));
  // A long poll answered at once is followed by a pause, not another poll at once.
  assert.ok(stale.requests <= 4 * seconds + 10,
    `the stale source got ${stale.requests} requests in ${seconds} s`);
});

test('a source answering with a flood of JSON values is refused before parsing', async () => {
  const flood = await hostileSource(`{"head":5,"blocks":[${'0,'.repeat(500000)}0]}`);
  const r = await runAsync(['replay', '--from', flood.url, '--genesis', join(a.dir, 'genesis.json')]);
  flood.server.close();
  assert.equal(r.status, 1, r.out);
  assert.match(r.err, /more JSON values than any answer of blocks has/);
});

test('the audit lists what a department did, as JSON Lines and CSV', async () => {
  let r = run(['audit', '--node', a.api(3), '--department', 'market-regulation']);
  assert.equal(r.status, 0, r.err);
  const lines = r.out.trim().split('\n').map((line) => JSON.parse(line));
  assert.ok(lines.length >= 4);
  assert.ok(lines.every((line) => line.tx.department === 'market-regulation'));
  assert.ok(lines.every((line, i) => i === 0 || line.height >= lines[i - 1].height));
  r = run(['audit', '--node', a.api(3), '--department', 'market-regulation', '--from', '2',
    '--to', '3', '--format', 'csv']);
  assert.equal(r.status, 0, r.err);
  const rows = r.out.trim().split('\n');
  assert.equal(rows[0], 'height,index,block_time_ms,kind,doc_hash,tx_id');
  assert.deepEqual(rows.slice(1).map((row) => row.split(',')[0]), ['2', '3']);
  r = run(['audit', '--node', a.api(3), '--department', 'no-such-department']);
  assert.equal(r.status, 1);
  assert.match(r.err, /no such department/);
});
