// Bad input gets the same typed errors from the edge relay (a Durable Object on workerd) as
// from the native relay: every case runs against both, and both must give the documented
// answer (error code, close code, connection kept or not), with the same counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNativeAndEdge, waitFor, sleep, rawClient } from './support.mjs';

const NATIVE_PORT = 8184;
const EDGE_PORT = 8185;
const CLUSTER = 'bad';
const MIB = 1 << 20;
const env = withNativeAndEdge(NATIVE_PORT, EDGE_PORT);

const codes = (c) => c.messages.filter((m) => m.type === 'error').map((m) => m.node ? `${m.code}:${m.node}` : m.code);

async function settled(c) {
  await waitFor(() => c.closed !== null || c.messages.some((m) => m.type === 'error'), 10_000, 'an answer');
  await sleep(100);
}

async function join(url, node) {
  const c = rawClient(url);
  await c.open;
  c.ws.send(JSON.stringify({ type: 'hello', cluster: CLUSTER, node }));
  await waitFor(() => c.messages.some((m) => m.type === 'welcome') || c.closed !== null, 10_000, `${node}'s welcome`);
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
    await settled(c);
    await waitFor(() => c.closed !== null, 5_000, 'the close');
    out[`hello: ${name}`] = { errors: codes(c), closed: c.closed };
  }
  {
    const c = rawClient(url);
    await c.open;
    c.ws.send(Uint8Array.of(2, 1, 2, 3));
    await settled(c);
    await waitFor(() => c.closed !== null, 5_000, 'the close');
    out['binary before hello'] = { errors: codes(c), closed: c.closed };
  }
  const a = await join(url, 'a');
  const b = await join(url, 'b');
  {
    const dup = await join(url, 'a');
    await waitFor(() => dup.closed !== null, 5_000, 'the close');
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
    await waitFor(() => b.messages.some((m) => m instanceof Uint8Array), 5_000, `b to hear a after "${name}"`);
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
    await waitFor(() => a.closed !== null, 10_000, 'the close after an oversize frame');
    out['frame: over twice the maximum'] = { errors: codes(a), closed: a.closed };
  }
  await waitFor(() => b.messages.some((m) => m.type === 'left' && m.node === 'a'), 5_000, 'b to hear that a left');
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
