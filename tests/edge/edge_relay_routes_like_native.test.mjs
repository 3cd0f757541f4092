// The edge relay routes like the native relay: the welcome lists the peers (sorted), the
// others hear `joined` and `left` (also when a node drops without closing), a unicast
// reaches its node stamped with the sender, a broadcast reaches every other node of the
// cluster, a unicast to oneself is delivered, and clusters are isolated. The same script
// runs against both relays and must see the same frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNativeAndEdge, waitFor, rawClient, PATIENCE_MS } from './support.mjs';

const NATIVE_PORT = 8186;
const EDGE_PORT = 8187;
const env = withNativeAndEdge(NATIVE_PORT, EDGE_PORT);

const MARKER = 'end of the script';
/** What a client received, in a comparable form (the closing marker left out). */
const seen = (c) => c.messages.map((m) => (m instanceof Uint8Array ? `bin ${Buffer.from(m).toString('latin1')}` : JSON.stringify(m)))
  .filter((m) => !m.endsWith(MARKER));

async function join(url, cluster, node) {
  const c = rawClient(url);
  await c.open;
  c.ws.send(JSON.stringify({ type: 'hello', cluster, node, extra: 'ignored' }));
  await waitFor(() => c.messages.length > 0, PATIENCE_MS, `${node}'s welcome`);
  c.node = node;
  return c;
}

const frame = (kind, to, text) => Buffer.concat([Buffer.from([kind]), to ? Buffer.from([to.length, ...Buffer.from(to)]) : Buffer.alloc(0), Buffer.from(text)]);

async function script(url) {
  const c = await join(url, 'c1', 'Sc');
  const a = await join(url, 'c1', 'Sa');
  const b = await join(url, 'c1', 'Sb');
  const other = await join(url, 'c2', 'Sa'); // the same id in another cluster is fine
  a.ws.send(frame(1, 'Sb', 'to b'));
  a.ws.send(frame(3, 'Sb', 'signal for b'));
  a.ws.send(frame(2, null, 'to all'));
  a.ws.send(frame(1, 'Sa', 'to myself'));
  other.ws.send(frame(2, null, 'c2 only'));
  await waitFor(() => b.messages.length >= 4 && c.messages.length >= 4 && a.messages.length >= 3, PATIENCE_MS, 'the frames');
  // Whatever else a client was sent arrives before a unicast it then sends itself (one
  // socket, in order): each one's list is complete once its marker is back.
  const complete = (x) => waitFor(() => x.messages.some((m) => m instanceof Uint8Array && Buffer.from(m).toString('latin1').endsWith(MARKER)),
    PATIENCE_MS, `${x.node}'s marker`);
  const mark = (x) => x.ws.send(frame(1, x.node, MARKER));
  mark(b);
  await complete(b);
  // Sb drops without a close handshake: the others hear `left`.
  b.ws.terminate();
  await waitFor(() => c.messages.some((m) => m.type === 'left') && a.messages.some((m) => m.type === 'left'), PATIENCE_MS, 'left after a drop');
  for (const x of [a, c, other]) mark(x);
  await Promise.all([a, c, other].map(complete));
  const out = { a: seen(a), b: seen(b), c: seen(c), other: seen(other) };
  for (const x of [a, c, other]) x.ws.close();
  return out;
}

test('unicast, signalling, broadcast, joined/left and cluster isolation are the same on both relays', async () => {
  const fromNative = await script(env.native.url);
  const fromEdge = await script(`${env.edge.url}?cluster=routing`);
  assert.deepEqual(fromEdge, fromNative);
  assert.deepEqual(fromNative, {
    a: [
      '{"type":"welcome","node":"Sa","peers":["Sc"]}',
      '{"type":"joined","node":"Sb"}',
      'bin \u0001\u0002Sato myself',
      '{"type":"left","node":"Sb"}',
    ],
    b: [
      '{"type":"welcome","node":"Sb","peers":["Sa","Sc"]}',
      'bin \u0001\u0002Sato b',
      'bin \u0003\u0002Sasignal for b',
      'bin \u0002\u0002Sato all',
    ],
    c: [
      '{"type":"welcome","node":"Sc","peers":[]}',
      '{"type":"joined","node":"Sa"}',
      '{"type":"joined","node":"Sb"}',
      'bin \u0002\u0002Sato all',
      '{"type":"left","node":"Sb"}',
    ],
    other: ['{"type":"welcome","node":"Sa","peers":[]}'],
  });
});
