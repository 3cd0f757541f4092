// A relay that requires join tokens, checks origins or limits a cluster: Node.js replicas
// join with a token (a string, or a function called on every connection), and every
// refusal reaches the app as a typed error from `open` or a `refused` event, after one
// attempt: never a silent reconnect loop. Relays on 127.0.0.1:8101-8103.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { issueToken } from 'ringlet/token';
import { startRelay, waitFor, waitForValue, converged, rejectsWith } from './support.mjs';

const SECRET = 'the secret of the test relay';
const fast = { gossipIntervalMs: 100, storage: 'memory' };

test('with a valid token a replica joins; a missing, wrong or expired one rejects open with UNAUTHORIZED', async () => {
  const relay = await startRelay(8101, { env: { RINGLET_RELAY_SECRET: SECRET } });
  const rs = [];
  try {
    const base = { cluster: 'auth', relay: relay.url, ...fast };
    rs.push(await Replica.open({ ...base, name: 'a', token: issueToken({ secret: SECRET, cluster: 'auth', node: 'a' }) }));
    const asked = [];
    const token = async (who) => {
      asked.push(who);
      return issueToken({ secret: SECRET, ...who, ttlSeconds: 60 });
    };
    rs.push(await Replica.open({ ...base, name: 'b', token }));
    assert.deepEqual(asked, [{ cluster: 'auth', node: 'b' }]);
    await waitFor(() => converged(rs, ['a', 'b']), 60_000, 'a and b to converge');
    await rs[0].put('k', 'v');
    assert.deepEqual((await rs[1].get('k')).values, ['v']);

    const refusals = async () => (await relay.stats()).refused.unauthorized;
    const cases = [
      [{}, 'requires a token'],
      [{ token: issueToken({ secret: SECRET, cluster: 'auth', node: 'someone-else' }) }, 'not this one'],
      [{ token: issueToken({ secret: SECRET, cluster: 'other', node: 'c' }) }, 'not this one'],
      [{ token: issueToken({ secret: SECRET, cluster: 'auth', node: 'c', ttlSeconds: 1, now: Date.now() - 3_600_000 }) }, 'expired'],
      [{ token: issueToken({ secret: 'not the secret of this relay', cluster: 'auth', node: 'c' }) }, 'signature'],
    ];
    const first = await refusals();
    for (const [extra, why] of cases) {
      const before = await refusals();
      // A refusal is an answer, not a timeout: the open timeout only bounds a relay that hangs.
      const e = await rejectsWith(Replica.open({ ...base, name: 'c', openTimeoutMs: 60_000, ...extra }), 'UNAUTHORIZED');
      assert.match(e.message, new RegExp(why), e.message);
      const after = await waitForValue(refusals, (n) => n >= before + 1, 60_000, `the relay to count the refusal (${why})`);
      assert.equal(after, before + 1, `one attempt (${why})`);
    }
    // A function that fails is the same error, and the relay never hears of it. Nor does it
    // hear again of the refused opens above: the count stays at one per case until the end,
    // after the 300 ms open timeout below (an open that was refused never tries again).
    const before = await refusals();
    assert.equal(before, first + cases.length);
    const e = await rejectsWith(Replica.open({ ...base, name: 'c', token: () => { throw new Error('auth server down'); } }), 'UNAUTHORIZED');
    assert.match(e.message, /auth server down/);
    await rejectsWith(Replica.open({ ...base, name: 'c', token: async () => 42 }), 'UNAUTHORIZED');
    // One that never answers cannot hang open: TIMEOUT at the open timeout.
    await rejectsWith(Replica.open({ ...base, name: 'c', openTimeoutMs: 300, token: () => new Promise(() => {}) }), 'TIMEOUT');
    await rejectsWith(Replica.open({ ...base, name: 'c', token: 7 }), 'INVALID_ARGUMENT');
    assert.equal(await refusals(), before, 'no retries, and no attempt for a token that could not be had');
  } finally {
    await Promise.all(rs.map((r) => r.close()));
    await relay.stop();
  }
});

test('reconnections ask the token function again; a refused reconnection is a refused event', async () => {
  const port = 8102;
  let relay = await startRelay(port, { env: { RINGLET_RELAY_SECRET: SECRET } });
  const rs = [];
  try {
    let calls = 0;
    let onCall = null; // runs before the function answers, so before the attempt it is for
    const token = async (who) => {
      calls += 1;
      if (onCall) await onCall();
      return issueToken({ secret: SECRET, ...who, ttlSeconds: 60 });
    };
    const base = { cluster: 'again', relay: relay.url, ...fast };
    rs.push(await Replica.open({ ...base, name: 'f', token }));
    rs.push(await Replica.open({ ...base, name: 's', token: issueToken({ secret: SECRET, cluster: 'again', node: 's' }) }));
    assert.equal(calls, 1);

    // Same secret after a restart: both come back, the function was asked again.
    let back = Promise.all(rs.map((r) => r.once('connected')));
    await relay.stop();
    relay = await startRelay(port, { env: { RINGLET_RELAY_SECRET: SECRET } });
    await back;
    assert.ok(calls >= 2, `calls ${calls}`);

    // A new secret: the relay refuses both; the fixed token will never do, the function may.
    const refused = rs.map((r) => r.once('refused').then((e) => Object.assign(e, { seenAt: Date.now() })));
    await relay.stop();
    relay = await startRelay(port, { env: { RINGLET_RELAY_SECRET: 'a rotated secret, also long' } });
    const [f, s] = await Promise.all(refused);
    assert.deepEqual([f.code, f.retrying], ['UNAUTHORIZED', true]);
    assert.deepEqual([s.code, s.retrying], ['UNAUTHORIZED', false]);
    assert.match(s.message, /signature/);
    assert.ok(rs.every((r) => !r.stats().connected));
    // One refusal each, then no reconnection loop: `s` gave up, and `f` waits the longest
    // backoff (10 s) before it asks its function again. Shown by f's next attempt itself: when
    // the function is asked, at least 10 s later (a busy machine only makes it later), the
    // relay has still seen only the two refusals.
    const retry = new Promise((resolve, reject) => {
      onCall = async () => {
        onCall = null;
        try {
          resolve({ at: Date.now(), refusals: (await relay.stats()).refused.unauthorized, connected: rs.map((r) => r.stats().connected) });
        } catch (e) { reject(e); }
      };
    });
    const next = await retry;
    assert.ok(next.at - f.seenAt >= 9_900, `f tried again ${next.at - f.seenAt} ms after its refusal`);
    assert.equal(next.refusals, 2, 'one refusal each until then');
    assert.deepEqual(next.connected, [false, false]);
  } finally {
    await Promise.all(rs.map((r) => r.close()));
    await relay.stop();
  }
});

test('an origin allowlist and a full cluster are typed errors too', async () => {
  const relay = await startRelay(8103, { args: ['--allow-origin', 'https://app.example', '--max-cluster-connections', '1'] });
  const rs = [];
  try {
    // Node.js sends no Origin header: refused unless --allow-no-origin.
    const e = await rejectsWith(Replica.open({ cluster: 'o', relay: relay.url, name: 'n', ...fast }), 'ORIGIN_NOT_ALLOWED');
    assert.match(e.message, /no Origin header/);
    assert.equal(await waitForValue(async () => (await relay.stats()).refused.origin_not_allowed, (n) => n >= 1, 60_000, 'the refusal counted'), 1);
  } finally {
    await relay.stop();
  }
  const full = await startRelay(8103, { args: ['--max-cluster-connections', '1'] });
  try {
    rs.push(await Replica.open({ cluster: 'full', relay: full.url, name: 'first', ...fast }));
    await rejectsWith(Replica.open({ cluster: 'full', relay: full.url, name: 'second', ...fast }), 'CLUSTER_FULL');
    rs.push(await Replica.open({ cluster: 'other', relay: full.url, name: 'second', ...fast }));
    assert.equal(await waitForValue(async () => (await full.stats()).refused.cluster_full, (n) => n >= 1, 60_000, 'the refusal counted'), 1);
  } finally {
    await Promise.all(rs.map((r) => r.close()));
    await full.stop();
  }
});
