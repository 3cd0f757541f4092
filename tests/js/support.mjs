// Shared by the JS tests and the e2e tests: start and stop a real ringlet-relay on a fixed
// 127.0.0.1 port, and wait for conditions.
//
// No test waits for wall-clock progress: each one waits for the state it asserts (`waitFor`),
// with a generous overall timeout that costs nothing when the state arrives early, so the
// suite stays green on a machine whose cores are all busy.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import net from 'node:net';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Start `target/release/ringlet-relay` (built by `npm test`) and wait until it listens.
 * `args` are further flags; `env` is added to the environment (e.g. `RINGLET_RELAY_SECRET`).
 */
export async function startRelay(port, { www = path.join(ROOT, 'www'), args = [], env = {} } = {}) {
  const bin = path.join(ROOT, 'target', 'release', 'ringlet-relay');
  const base = { ...process.env };
  delete base.RINGLET_RELAY_SECRET;
  delete base.RINGLET_RELAY_ALLOW_ORIGIN;
  const child = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--www', www, '--pkg', path.join(ROOT, 'pkg'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...base, ...env },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const running = () => child.exitCode === null && child.signalCode === null;
  // Its own "listening" line, not just a connectable port: a relay of an earlier test that is
  // still shutting down on the same port must not pass for this one.
  const deadline = Date.now() + 60_000;
  while (!output.includes('listening on') || !(await canConnect(port))) {
    if (!running()) throw new Error(`the relay exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`the relay did not listen on ${port}: ${output}`);
    await sleep(50);
  }
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    http: `http://127.0.0.1:${port}`,
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      let timer;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 30_000); })]);
      clearTimeout(timer);
      if (running()) child.kill('SIGKILL');
      await exited; // the port is free once it returns
    },
    async stats() {
      const res = await fetch(`http://127.0.0.1:${port}/stats`);
      return res.json();
    },
  };
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The overall timeout of a wait when a test names none: generous, see the top of this file. */
export const PATIENCE_MS = 60_000;

/**
 * Poll `check` (sync or async) until it returns a truthy value, and return that value; fail
 * after `ms`. Give a generous `ms` (60-120 s): a wait costs nothing when the state is early.
 */
export async function waitFor(check, ms = PATIENCE_MS, what = 'a condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Poll `read()` (sync or async) until `accept(value)` holds, and return that value; on timeout
 * the error names the last value read, so a failure shows the state that was there instead.
 */
export async function waitForValue(read, accept, ms = PATIENCE_MS, what = 'a value') {
  let last;
  const deadline = Date.now() + ms;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on now (for scripts that run beside the tests). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** True when every replica sees every node of `ids` as a valid member, and all rings agree. */
export function converged(replicas, ids) {
  const epochs = new Set();
  for (const r of replicas) {
    const valid = r.members().filter((m) => m.status === 'valid').map((m) => m.node);
    if (!ids.every((id) => valid.includes(id))) return false;
    const ring = r.ring();
    if (!ring || !ids.every((id) => ring.owners.includes(id))) return false;
    epochs.add(`${ring.epoch}:${ring.owners.join(',')}`);
  }
  return epochs.size === 1;
}

/** Expect `promise` to reject with a RingletError of `code`. */
export async function rejectsWith(promise, code) {
  try {
    await promise;
  } catch (e) {
    if (e?.code !== code) throw new Error(`expected ${code}, got ${e?.code}: ${e?.message}`);
    if (!(e instanceof Error)) throw new Error('not an Error');
    return e;
  }
  throw new Error(`expected a rejection with ${code}, but it resolved`);
}

/**
 * Every page in `names` sees exactly `ids` as valid members, all owning partitions of one
 * ring. `inPage(name, fn)` evaluates `fn` in that page (a tab's `page.evaluate`).
 */
export async function waitPagesConverged(inPage, names, ids, ms = 120_000) {
  await waitFor(async () => {
    const views = await Promise.all(names.map((n) => inPage(n, () => ({ m: window.replica.members(), r: window.replica.ring() }))));
    const rings = new Set();
    for (const { m, r } of views) {
      const valid = m.filter((x) => x.status === 'valid').map((x) => x.node).sort();
      if (JSON.stringify(valid) !== JSON.stringify([...ids].sort())) return false;
      if (!r || !ids.every((id) => r.owners.includes(id))) return false;
      rings.add(`${r.epoch}/${r.owners.join(',')}`);
    }
    return rings.size === 1;
  }, ms, `${names.join(',')} to converge on ${ids.join(',')}`);
}
