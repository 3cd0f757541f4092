// A Node.js node (no WebRTC there) and browser tabs share one cluster: the tabs talk to
// each other over data channels and to the Node.js node through the relay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startCluster, waitConverged, waitChannels, workload, waitFor, ROOT, PATIENCE_MS } from './webrtc_support.mjs';

const PORT = 8114;
const CLUSTER = 'rtc-node';
const NAMES = ['n1', 'n2', 'n3'];
// A 5 s request timeout (default 2 s): the machine running the tests may be busy.
const COMMON = { cluster: CLUSTER, n: 3, r: 2, w: 2, gossipIntervalMs: 250, timeoutMs: 5000 };
let c;
let child;

before(async () => { c = await startCluster(PORT); });
after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  await c?.stop();
});

test('a Node.js node and WebRTC tabs in one cluster', async () => {
  for (const n of NAMES) await c.open(n, COMMON);
  child = spawn(process.execPath, [path.join(ROOT, 'js', 'replica-cli.js'), '--relay', c.relay.url, '--cluster', CLUSTER,
    '--name', 'nodejs', '--n', '3', '--r', '2', '--w', '2', '--gossipIntervalMs', '250', '--timeoutMs', '5000'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = [];
  createInterface({ input: child.stdout }).on('line', (l) => answers.push(JSON.parse(l)));
  const ask = async (line) => {
    const at = answers.length;
    child.stdin.write(`${line}\n`);
    await waitFor(() => answers.length > at, PATIENCE_MS, `an answer to ${line}`);
    return answers[at];
  };
  await waitFor(() => answers.some((a) => a.ready === 'nodejs'), PATIENCE_MS, 'the Node.js replica');
  const all = [...NAMES, 'nodejs'];
  await waitConverged(c, NAMES, all);

  const failures = (await Promise.all(NAMES.map((n) => workload(c, n, `t/${n}`, 20)))).flat();
  assert.deepEqual(failures, []);
  await waitChannels(c, NAMES);
  for (let i = 0; i < 10; i++) {
    const w = await ask(`put node/${i} {"from":"node","i":${i}}`);
    assert.ok(w.ok?.context, JSON.stringify(w));
  }
  for (let i = 0; i < 10; i++) {
    const got = await c.in(NAMES[i % 3], (k) => window.replica.get(k), `node/${i}`);
    assert.deepEqual(got.values, [{ from: 'node', i }]);
  }
  const r = await ask('get t/n2/5');
  assert.deepEqual(r.ok.values, [{ i: 5, prefix: 't/n2' }]);

  const node = (await ask('stats')).ok;
  assert.equal(node.webrtc.enabled, false, 'Node.js has no RTCPeerConnection');
  assert.equal(node.webrtc.requested, true);
  assert.equal(node.paths.datachannel.messagesSent + node.paths.datachannel.messagesReceived, 0);
  assert.ok(node.paths.relay.messagesSent > 0);
  for (const n of NAMES) {
    const s = await c.stats(n);
    assert.equal(s.peers.nodejs.path, 'relay');
    assert.ok(s.peers.nodejs.relay.messagesSent > 0);
    for (const o of NAMES) if (o !== n) assert.equal(s.peers[o].path, 'datachannel');
  }
});
