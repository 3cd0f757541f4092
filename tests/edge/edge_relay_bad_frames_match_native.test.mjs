// Bad input gets the same typed errors from the edge relay (a Durable Object on workerd) as
// from the native relay: every case runs against both, and both must give the documented
// answer (error code, close code, connection kept or not), with the same counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNativeAndEdge, waitFor, rawClient, PATIENCE_MS } from './support.mjs';

const NATIVE_PORT = 8184;
const EDGE_PORT = 8185;
const CLUSTER = 'bad';
const MIB = 1 << 20;
const env = withNativeAndEdge(NATIVE_PORT, EDGE_PORT);

const codes = (c) => c.messages.filter((m) => m.type === 'error').map((m) => m.node ? `${m.code}:${m.node}` : m.code);

/** Wait until the relay closed `c`: every message it sent before the close has arrived. */
const closed = (c) => waitFor(() => c.closed !== null, PATIENCE_MS, 'the close');

/**
 * Wait until everything the relay answered to what `c` sent so far has arrived: `c` sends
 * itself a unicast (which a relay delivers, stamped, to its sender too) and waits for it, or
 * for the close. The relay answers a connection's frames in order on one socket, so any
 * error it sent for an earlier frame arrived before this marker.
 */
let markers = 0;
async function settled(c) {
  const text = `marker ${++markers}`;
  c.ws.send(Uint8Array.of(1, c.node.length, ...Buffer.from(c.node), ...Buffer.from(text)));
  await waitFor(() => c.closed !== null || c.messages.some((m) => m instanceof Uint8Array && Buffer.from(m).toString('latin1').endsWith(text)),
    PATIENCE_MS, 'the answers to arrive');
}

async function join(url, node) {
  const c = rawClient(url);
  c.node = node;
  await c.open;
  c.ws.send(JSON.stringify({ type: 'hello', cluster: CLUSTER, node }));
  await waitFor(() => c.messages.some((m) => m.type === 'welcome') || c.closed !== null, PATIENCE_MS, `${node}'s welcome`);
  return c;
}

/** Every case against the relay at `url`; the outcome of each, comparable across relays. */
async function outcomes(url) {
  const out = {};
  const long = 'n'.repeat(65);
  const hellos = {
    'not json': 'not json',
    'empty object': '{}',
    'wrong type': '{"type":"welcome","node":"x","peers":[]}',
    'no node': `{"type":"hello","cluster":"${CLUSTER}"}`,
    'bad cluster': '{"type":"hello","cluster":"de/mo","node":"x"}',
    'empty cluster': '{"type":"hello","cluster":"","node":"x"}',
    'space in node': `{"type":"hello","cluster":"${CLUSTER}","node":"has space"}`,
    'empty node': `{"type":"hello","cluster":"${CLUSTER}","node":""}`,
    'long node': `{"type":"hello","cluster":"${CLUSTER}","node":"${long}"}`,
    'numeric node': `{"type":"hello","cluster":"${CLUSTER}","node":1}`,
  };
  for (const [name, hello] of Object.entries(hellos)) {
    const c = rawClient(url);
    await c.open;
    c.ws.send(hello);
    await closed(c);
    out[`hello: ${name}`] = { errors: codes(c), closed: c.closed };
  }
  {
    const c = rawClient(url);
    await c.open;
    c.ws.send(Uint8Array.of(2, 1, 2, 3));
    await closed(c);
    out['binary before hello'] = { errors: codes(c), closed: c.closed };
  }
  const a = await join(url, 'a');
  const b = await join(url, 'b');
  {
    const dup = await join(url, 'a');
    await closed(dup);
    out['duplicate node id'] = { errors: codes(dup), closed: dup.closed };
  }
  const frames = {
    empty: new Uint8Array(0),
    'unknown kind': Uint8Array.of(7, 1),
    'no id length': Uint8Array.of(1),
    'id cut short': Uint8Array.of(1, 3, 0x61),
    'empty id': Uint8Array.of(1, 0, 5),
    'space in id': Uint8Array.of(1, 1, 0x20),
    'unknown destination': Uint8Array.of(1, 6, ...Buffer.from('nobody'), 9),
    'one byte over the maximum': (() => { const f = new Uint8Array(MIB + 1); f.set([1, 1, 0x62]); return f; })(),
    'TEXT after hello': 'hello again',
  };
  for (const [name, frame] of Object.entries(frames)) {
    a.messages.length = 0;
    b.messages.length = 0;
    a.ws.send(frame);
    await settled(a);
    // The connection stays: a unicast still reaches b, stamped with a's id.
    a.ws.send(Uint8Array.of(1, 1, 0x62, ...Buffer.from('still here')));
    await waitFor(() => b.messages.some((m) => m instanceof Uint8Array), PATIENCE_MS, `b to hear a after "${name}"`);
    const data = b.messages.filter((m) => m instanceof Uint8Array).map((m) => Buffer.from(m).toString('latin1'));
    out[`frame: ${name}`] = { errors: codes(a), closed: a.closed, b: data };
  }
  const stats = (await fetch(url.replace(/^ws/, 'http').replace('/ws', '/stats') + (url.includes('?') ? '' : '')).then((r) => r.json())).clusters[CLUSTER];
  out.counters = {
    malformed: stats.malformed, dropped: stats.dropped, unknown_destination: stats.unknown_destination,
    too_large: stats.too_large, signal_frames_in: stats.signal_frames_in,
  };
  {
    // Above twice the maximum: refused before it is buffered, and the connection ends (1009).
    const big = new Uint8Array(2 * MIB + 1);
    big.set([1, 1, 0x62]);
    a.messages.length = 0;
    a.ws.send(big);
    await waitFor(() => a.closed !== null, PATIENCE_MS, 'the close after an oversize frame');
    out['frame: over twice the maximum'] = { errors: codes(a), closed: a.closed };
  }
  await waitFor(() => b.messages.some((m) => m.type === 'left' && m.node === 'a'), PATIENCE_MS, 'b to hear that a left');
  a.ws.close();
  b.ws.close();
  return out;
}

const EXPECTED_HELLO = { errors: ['BAD_HELLO'], closed: 4002 };
const KEPT = (error) => ({ errors: [error], closed: null, b: ['\u0001\u0001astill here'] });

test('the edge relay answers bad hellos and bad frames exactly like the native relay', async () => {
  const fromNative = await outcomes(env.native.url + '');
  const fromEdge = await outcomes(`${env.edge.url}?cluster=${CLUSTER}`);
  assert.deepEqual(fromEdge, fromNative);
  // ...and both give the documented answers.
  for (const [name, o] of Object.entries(fromNative)) {
    if (name.startsWith('hello:') || name === 'binary before hello') assert.deepEqual(o, EXPECTED_HELLO, name);
  }
  assert.deepEqual(fromNative['duplicate node id'], { errors: ['NODE_ID_IN_USE:a'], closed: 4009 });
  for (const f of ['empty', 'unknown kind', 'no id length', 'id cut short', 'empty id', 'space in id', 'TEXT after hello']) {
    assert.deepEqual(fromNative[`frame: ${f}`], KEPT('MALFORMED_FRAME'), f);
  }
  assert.deepEqual(fromNative['frame: unknown destination'], KEPT('UNKNOWN_DESTINATION:nobody'));
  assert.deepEqual(fromNative['frame: one byte over the maximum'], KEPT('FRAME_TOO_LARGE'));
  assert.deepEqual(fromNative.counters, { malformed: 7, dropped: 2, unknown_destination: 1, too_large: 1, signal_frames_in: 0 });
  assert.deepEqual(fromNative['frame: over twice the maximum'], { errors: ['FRAME_TOO_LARGE'], closed: 1009 });
});
