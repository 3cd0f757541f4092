// A burst: 10,000 puts issued at once from one task, on default settings, all succeed (issue
// 14). The node admits requests into its core in bounded slices, so acks and timers are never
// starved by the burst itself, and its failure detector does not blame its peers for a stall
// of its own. Every value is then read back with R = 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from 'ringlet';
import { startRelay, waitFor, converged } from './support.mjs';

const PORT = 8141;
const COUNT = Number(process.env.RINGLET_BURST || 10_000);
let relay;
before(async () => { relay = await startRelay(PORT, { args: (process.env.RELAY_ARGS || "").split(" ").filter(Boolean) }); });
after(async () => { await relay.stop(); });

test(`${COUNT} concurrent puts from one task all succeed on default settings`, async () => {
  const opts = { cluster: 'burst', relay: relay.url, storage: 'memory' };
  const rs = [];
  for (const name of ['a', 'b', 'c']) rs.push(await Replica.open({ ...opts, name }));
  const [a, b] = rs;
  try {
    await waitFor(() => converged(rs, ['a', 'b', 'c']), 60_000, 'the ring');
    const down = [];
    a.on('nodedown', (e) => down.push(e.node));
    const keys = Array.from({ length: COUNT }, (_, i) => `burst/${i}`);
    const results = await Promise.allSettled(keys.map((k, i) => a.put(k, { i })));
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(failed.length, 0, `${failed.length} of ${COUNT} puts failed, first: ${failed[0]?.reason?.code} ${failed[0]?.reason?.message}`);
    assert.deepEqual(down, [], 'the burst made the node blame its peers');
    const got = await b.getMany(keys);
    const missing = got.filter((g, i) => g.error || g.values.length !== 1 || g.values[0].i !== i);
    assert.equal(missing.length, 0, `${missing.length} values not read back, first: ${JSON.stringify(missing[0])}`);
  } finally {
    await Promise.all(rs.map((r) => r.close()));
  }
});
