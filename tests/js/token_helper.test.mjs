// ringlet/token, the join-token helper for an app's server: its tokens are byte-identical
// to the relay's (src/relay/token.rs), a token the relay's CLI prints verifies here, and
// every kind of bad token is refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { issueToken, verifyToken, TokenError } from 'ringlet/token';
import { ROOT } from './support.mjs';

const secret = '0123456789abcdef-test-secret';

test('the same vector as the Rust implementation', () => {
  // src/relay/token.rs, test `a_known_token`.
  const t = issueToken({ secret, cluster: 'demo', node: 'a', ttlSeconds: 3600, now: (2_000_000_000 - 3600) * 1000 });
  assert.equal(t, 'eyJ2IjoxLCJjbHVzdGVyIjoiZGVtbyIsIm5vZGUiOiJhIiwiZXhwIjoyMDAwMDAwMDAwfQ.1xLAMiIv1rxW2A_wSZ4miAFhlQMGTF-Vj8-voo8gAQY');
  assert.deepEqual(verifyToken(t, { secret, cluster: 'demo', node: 'a', now: 0 }), { v: 1, cluster: 'demo', node: 'a', exp: 2_000_000_000 });
});

test('a token printed by `ringlet-relay token` verifies here', () => {
  const bin = path.join(ROOT, 'target', 'release', 'ringlet-relay');
  const started = Math.floor(Date.now() / 1000);
  const out = execFileSync(bin, ['token', '--cluster', 'c1', '--node', 'tab-1f2e3d4c', '--ttl', '300'], {
    env: { ...process.env, RINGLET_RELAY_SECRET: secret },
  }).toString().trim();
  const claims = verifyToken(out, { secret, cluster: 'c1', node: 'tab-1f2e3d4c' });
  const now = Math.floor(Date.now() / 1000);
  // 300 s after the moment the CLI ran, however long it took to start.
  assert.ok(claims.exp >= started + 300 && claims.exp <= now + 300, `exp ${claims.exp}, CLI run between ${started} and ${now}`);
  // And a token issued here equals the CLI's for the same claims (the expiry aside).
  const ours = issueToken({ secret, cluster: 'c1', node: 'tab-1f2e3d4c', ttlSeconds: claims.exp - now, now: now * 1000 });
  assert.equal(ours, out);
});

test('bad tokens are refused with a reason', () => {
  const now = 1_000_000 * 1000;
  const t = issueToken({ secret, cluster: 'demo', node: 'a', ttlSeconds: 60, now });
  const reason = (fn) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof TokenError);
      assert.equal(e.code, 'UNAUTHORIZED');
      return e.reason;
    }
    return 'accepted';
  };
  assert.equal(reason(() => verifyToken(t, { secret, now })), 'accepted');
  assert.equal(reason(() => verifyToken(t, { secret, now: now + 61_000 })), 'expired');
  assert.equal(reason(() => verifyToken(t, { secret, now: now + 61_000, clockSkewSeconds: 5 })), 'accepted');
  assert.equal(reason(() => verifyToken(t, { secret, now, cluster: 'other' })), 'cluster');
  assert.equal(reason(() => verifyToken(t, { secret, now, node: 'b' })), 'node');
  assert.equal(reason(() => verifyToken(t, { secret: 'another secret, long enough', now })), 'signature');
  const [payload, mac] = t.split('.');
  const edited = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('"a"', '"b"')).toString('base64url');
  assert.equal(reason(() => verifyToken(`${edited}.${mac}`, { secret, now })), 'signature');
  for (const bad of ['', 'x', `${payload}.`, `${payload}.${mac}=`, `${payload}.${mac}.x`, 'a'.repeat(2000)]) {
    assert.notEqual(reason(() => verifyToken(bad, { secret, now })), 'accepted', bad);
  }
});

test('bad arguments are refused', () => {
  assert.throws(() => issueToken({ secret: 'short', cluster: 'demo', node: 'a' }), RangeError);
  assert.throws(() => issueToken({ secret, cluster: 'de mo', node: 'a' }), TypeError);
  assert.throws(() => issueToken({ secret, cluster: 'demo', node: 'a b' }), TypeError);
  assert.throws(() => issueToken({ secret, cluster: 'demo', node: 'a', ttlSeconds: 0 }), RangeError);
  assert.throws(() => issueToken({ secret: 42, cluster: 'demo', node: 'a' }), TypeError);
});
