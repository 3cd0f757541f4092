// putMany / getMany: one crossing into the node, one result (value or typed error) per entry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica, RingletError } from 'ringlet';
import { startRelay, rejectsWith } from './support.mjs';

const PORT = 8133;
let relay;
before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

test('putMany and getMany give one result per entry, errors typed in place', async () => {
  const r = await Replica.open({ cluster: 'many', relay: relay.url, storage: 'memory', n: 1, r: 1, w: 1, maxValueBytes: 1024 });
  try {
    const put = await r.putMany([
      ['a', 1],
      { key: 'b', value: { two: 2 } },
      { key: 'c', value: 'x'.repeat(4096) },
      { key: 'd', value: undefined },
      { key: 'e', value: 'e', w: 7 },
    ]);
    assert.equal(put.length, 5);
    assert.deepEqual(put.map((p) => p.key), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(typeof put[0].context, 'string');
    assert.equal(typeof put[1].context, 'string');
    assert.ok(put[2].error instanceof RingletError);
    assert.equal(put[2].error.code, 'VALUE_TOO_LARGE');
    assert.equal(put[3].error.code, 'INVALID_ARGUMENT');
    assert.equal(put[4].error.code, 'INVALID_ARGUMENT');
    const got = await r.getMany(['a', 'b', 'c', 7]);
    assert.deepEqual(got.slice(0, 3).map((g) => g.values), [[1], [{ two: 2 }], []]);
    assert.equal(got[3].error.code, 'INVALID_ARGUMENT');
    // A context from getMany writes back like any other.
    const [b] = await r.putMany([{ key: 'b', value: 'B', context: got[1].context }]);
    assert.equal(b.error, undefined);
    assert.deepEqual((await r.get('b')).values, ['B']);
    assert.deepEqual(await r.getMany([]), []);
    await rejectsWith(r.getMany('a'), 'INVALID_ARGUMENT');
    await rejectsWith(r.putMany({ a: 1 }), 'INVALID_ARGUMENT');
    await rejectsWith(r.getMany(['a'], { w: 1 }), 'INVALID_ARGUMENT');
  } finally {
    await r.close();
  }
});
