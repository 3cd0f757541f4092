// The churn soak, short: 8 Chromium tabs (IndexedDB) and a Node.js node under a
// read-modify-write workload while a random tab is closed or reloaded every 3 s; every
// acknowledged write must still be readable at the end. The long run is
// `node scripts/soak.mjs --seconds 1800` (docs/simulation.md, "Soak"). RINGLET_SOAK_SECONDS sets this one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak } from '../../scripts/soak.mjs';

const SECONDS = Number(process.env.RINGLET_SOAK_SECONDS ?? 40);

// The churn and the writes it must survive are counted, not timed: the soak runs at least
// SECONDS, and on a busy machine on until this much happened (MAX_SECONDS at most).
const MIN_CHURNS = Math.floor(SECONDS / 3) - 3;
const MIN_ACKED = SECONDS * 20;
const MAX_SECONDS = SECONDS * 10;

test(`soak: 8 tabs + a Node.js node, a tab killed or reloaded every 3 s for ${SECONDS} s, no acknowledged write lost`, { timeout: (MAX_SECONDS + 300) * 1000 }, async () => {
  const report = await soak({
    seconds: SECONDS, tabs: 8, churnMs: 3000, keys: 32, port: 8107, seed: 7, minChurns: MIN_CHURNS, minAcked: MIN_ACKED, maxSeconds: MAX_SECONDS,
  });
  assert.deepEqual(report.violations, []);
  assert.equal(report.keysChecked, 9 * 32, 'every writer wrote every one of its keys');
  assert.ok(report.kills + report.reloads >= MIN_CHURNS, `${report.kills} kills and ${report.reloads} reloads`);
  assert.ok(report.acked >= MIN_ACKED, `${report.acked} acknowledged writes`);
  assert.ok(report.samples.length >= 10, 'memory sampled over time');
  assert.ok(report.samples.every((s) => s.nodeWasm > 0 && s.nodeHeap > 0), 'memory figures are real');
});
