#!/usr/bin/env node
// The teaching page's frame times (a benchmark, not a timed test): www/index.html in headless
// Chromium with 16 nodes, 256 partitions and 8 clients, gossip shown in the log, played at
// x0.1, x0.4 and x2 for a few seconds each. It prints the interval between animation frames
// and the page's own JS work per frame (p50, p95, p99, max) as a table, and what that means
// for a 60 Hz display. Speed targets live here, not in tests/e2e/page_quality.mjs (which only
// checks that such a page runs); on a busy machine the figures are worse, and no exit code
// depends on them.
//
//   node scripts/bench-page.mjs [--seconds 6] [--warmup 1.5]      (npm run bench:page)
//
// It starts its own relay (target/release/ringlet-relay, serving www/ and pkg/) on a free
// port of 127.0.0.1, so it can run beside the tests.
import { cpus } from 'node:os';
import { chromium } from 'playwright-core';
import { startRelay, freePort, sleep } from '../tests/js/support.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 6);
const WARMUP_S = arg('warmup', 1.5);
const SPEEDS = [100, 400, 2000];
const BROWSER_ARGS = [
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] : NaN;
};
const summary = (xs) => ({
  frames: xs.length, p50: pct(xs, 0.5), p95: pct(xs, 0.95), p99: pct(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN,
});

/** Frame statistics over `SECONDS` of real time at `speed` (virtual ms per real second). */
async function measure(page, speed) {
  await page.selectOption('#speed', String(speed));
  await sleep(WARMUP_S * 1000);
  await page.evaluate(() => window.ringletPage.engine.takeFrameStats());
  const before = await page.evaluate(() => ({ messages: window.ringletPage.sim.state().messages, vt: window.ringletPage.engine.vt }));
  await sleep(SECONDS * 1000);
  const { work, gaps } = await page.evaluate(() => window.ringletPage.engine.takeFrameStats());
  const after = await page.evaluate(() => ({ messages: window.ringletPage.sim.state().messages, vt: window.ringletPage.engine.vt }));
  return {
    speed, gaps: summary(gaps), work: summary(work),
    messages: after.messages - before.messages, virtualSeconds: (after.vt - before.vt) / 1000,
  };
}

const port = await freePort();
const relay = await startRelay(port);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: BROWSER_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(120_000);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(`${relay.http}/`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  await page.evaluate(() => window.ringletPage.newCluster({ nodes: 16, q: 256, n: 3, r: 2, w: 2, clients: 8, seed: 3 }));
  await page.check('#log-background');
  await page.click('#btn-play');
  const results = [];
  for (const speed of SPEEDS) results.push(await measure(page, speed));
  await page.click('#btn-play');

  const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  const version = browser.version();
  console.log(`\nteaching page, 16 nodes, Q=256, N=3 R=2 W=2, 8 clients, gossip shown in the log; ${SECONDS} s per speed`
    + ` after ${WARMUP_S} s of warm-up; ${cpus().length} cores, Chromium ${version} (headless, software compositing),`
    + ` ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| speed | frames | frame interval p50 / p95 / p99 / max (ms) | JS work per frame p50 / p95 / p99 / max (ms) | messages | virtual s |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(`| x${r.speed / 1000} | ${r.gaps.frames} | ${f(r.gaps.p50)} / ${f(r.gaps.p95)} / ${f(r.gaps.p99)} / ${f(r.gaps.max)}`
      + ` | ${f(r.work.p50)} / ${f(r.work.p95)} / ${f(r.work.p99)} / ${f(r.work.max)} | ${r.messages} | ${r.virtualSeconds.toFixed(1)} |`);
  }
  // The targets (what the frame-time test used to assert): at the animation speeds (x0.1,
  // x0.4) frames come at the display rate (median interval <= 20 ms) and the page's own work
  // stays inside a 60 Hz budget (95th percentile <= 16 ms). At x2 the figures are reported only.
  console.log('');
  for (const r of results.filter((x) => x.speed <= 400)) {
    const ok = r.gaps.p50 <= 20 && r.work.p95 <= 16;
    console.log(`x${r.speed / 1000}: median frame interval ${f(r.gaps.p50)} ms (target <= 20), 95th percentile of work per frame`
      + ` ${f(r.work.p95)} ms (target <= 16): ${ok ? 'within' : 'OUTSIDE'} the 60 Hz targets`);
  }
  if (problems.length) console.log(`\nconsole problems during the run:\n${problems.join('\n')}`);
} finally {
  await browser.close();
  await relay.stop();
}
