// The edge relay checks join tokens and browser origins exactly like the native relay when
// given the same secret and allowlist (docs/security.md, "Authentication and limits"): every case runs
// against both, and both must give the documented answer (error code and close code, or a
// welcome).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { issueToken } from '../../js/token.js';
import { withNativeAndEdge, waitFor, PATIENCE_MS } from './support.mjs';

const SECRET = 'edge-and-native-share-this-secret';
const ALLOWED = 'http://app.example';
const env = withNativeAndEdge(8188, 8189, {
  relay: { args: ['--allow-origin', ALLOWED, '--allow-no-origin'], env: { RINGLET_RELAY_SECRET: SECRET } },
  vars: { RINGLET_RELAY_SECRET: SECRET, RINGLET_RELAY_ALLOW_ORIGIN: ALLOWED, RINGLET_RELAY_ALLOW_NO_ORIGIN: '1' },
});

/** Connect with `origin` (none: no header), say hello, and report the answer. */
async function attempt(url, { cluster, node, token, origin }) {
  const ws = new WebSocket(url, origin ? { origin } : {});
  const got = { errors: [], closed: null, welcome: false };
  ws.on('message', (data, binary) => {
    if (binary) return;
    const m = JSON.parse(String(data));
    if (m.type === 'error') got.errors.push(m.code);
    if (m.type === 'welcome') got.welcome = true;
  });
  ws.on('close', (code) => { got.closed = code; });
  ws.on('error', () => {});
  await new Promise((resolve) => { ws.once('open', resolve); ws.once('close', resolve); });
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'hello', cluster, node, ...(token ? { token } : {}) }));
  await waitFor(() => got.welcome || got.closed !== null, PATIENCE_MS, `an answer for ${node}`);
  const answer = { ...got, errors: [...got.errors] };
  ws.close();
  return answer;
}

const hour = 3600 * 1000;
const cases = (cluster) => ({
  'no token': { cluster, node: 'n1' },
  'valid token, no origin': { cluster, node: 'n2', token: issueToken({ secret: SECRET, cluster, node: 'n2', ttlSeconds: 600 }) },
  'valid token, allowed origin': { cluster, node: 'n3', origin: ALLOWED, token: issueToken({ secret: SECRET, cluster, node: 'n3', ttlSeconds: 600 }) },
  'valid token, another origin': { cluster, node: 'n4', origin: 'http://evil.example', token: issueToken({ secret: SECRET, cluster, node: 'n4', ttlSeconds: 600 }) },
  'another secret': { cluster, node: 'n5', token: issueToken({ secret: 'not-the-relays-secret!', cluster, node: 'n5', ttlSeconds: 600 }) },
  'token of another node': { cluster, node: 'n6', token: issueToken({ secret: SECRET, cluster, node: 'n7', ttlSeconds: 600 }) },
  'token of another cluster': { cluster, node: 'n8', token: issueToken({ secret: SECRET, cluster: 'other', node: 'n8', ttlSeconds: 600 }) },
  'expired an hour ago': { cluster, node: 'n9', token: issueToken({ secret: SECRET, cluster, node: 'n9', ttlSeconds: 60, now: Date.now() - hour }) },
  'malformed token': { cluster, node: 'n10', token: 'not.a.token' },
});

async function outcomes(url, cluster) {
  const out = {};
  for (const [name, c] of Object.entries(cases(cluster))) out[name] = await attempt(url, c);
  return out;
}

test('the edge relay refuses and admits exactly as the native relay does with the same secret and allowlist', async () => {
  const fromNative = await outcomes(env.native.url, 'auth');
  const fromEdge = await outcomes(`${env.edge.url}?cluster=auth`, 'auth');
  assert.deepEqual(fromEdge, fromNative);
  const refused = (code, close) => ({ errors: [code], closed: close, welcome: false });
  const admitted = { errors: [], closed: null, welcome: true };
  assert.deepEqual(fromNative, {
    'no token': refused('UNAUTHORIZED', 4001),
    'valid token, no origin': admitted,
    'valid token, allowed origin': admitted,
    'valid token, another origin': refused('ORIGIN_NOT_ALLOWED', 4003),
    'another secret': refused('UNAUTHORIZED', 4001),
    'token of another node': refused('UNAUTHORIZED', 4001),
    'token of another cluster': refused('UNAUTHORIZED', 4001),
    'expired an hour ago': refused('UNAUTHORIZED', 4001),
    'malformed token': refused('UNAUTHORIZED', 4001),
  });
});
