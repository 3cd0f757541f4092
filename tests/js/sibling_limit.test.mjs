// The sibling limit through the JS API: `maxSiblings` refuses a put that would leave more
// concurrent versions (TOO_MANY_SIBLINGS, with `count` and `max`), `warnSiblings` emits a
// `siblingswarning` event, and a put with the read's context reconciles them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Replica, RingletError } from 'ringlet';
import { startRelay, waitFor, rejectsWith } from './support.mjs';

const PORT = 8097;
let relay;

before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

test('maxSiblings refuses, warnSiblings warns, a reconciling put is accepted', async () => {
  const r = await Replica.open({
    cluster: 'siblings', relay: relay.url, storage: 'memory', n: 1, r: 1, w: 1,
    maxSiblings: 2, warnSiblings: 2,
  });
  try {
    const warnings = [];
    r.on('siblingswarning', (e) => warnings.push(e));
    await r.put('k', 'one');
    await r.put('k', 'two');
    await waitFor(() => warnings.length === 1, 60_000, 'the warning');
    assert.deepEqual({ ...warnings[0] }, { type: 'siblingswarning', key: 'k', count: 2 });

    const err = await rejectsWith(r.put('k', 'three'), 'TOO_MANY_SIBLINGS');
    assert.ok(err instanceof RingletError);
    assert.equal(err.count, 3);
    assert.equal(err.max, 2);
    assert.equal(r.stats().siblingLimitRefusals, 1);

    const { values, context } = await r.get('k');
    assert.deepEqual([...values].sort(), ['one', 'two']);
    await r.put('k', 'merged', { context });
    assert.deepEqual((await r.get('k')).values, ['merged']);
  } finally {
    await r.close();
  }
});

test('the options are checked', async () => {
  for (const bad of [{ maxSiblings: 0 }, { warnSiblings: -1 }, { maxSiblings: 'x' }]) {
    await rejectsWith(
      Replica.open({ cluster: 'siblings-bad', relay: relay.url, storage: 'memory', ...bad }),
      'INVALID_ARGUMENT',
    );
  }
});
