#!/usr/bin/env node
// An always-on ringlet replica in Node.js, next to the relay:
//
//   node js/replica-cli.js --relay ws://127.0.0.1:8080/ws --cluster demo [--name always-on]
//          [--storage memory] [--n 3 --r 2 --w 2] [--token TOKEN]
//
// For a relay with a secret: `--token`, or RINGLET_RELAY_SECRET in the environment (this
// process then issues itself a fresh 10-minute token on every connection).
// It joins the cluster, prints membership changes, and answers the cluster until Ctrl-C.
// Each line of standard input is a command, for scripts and tests: `put KEY JSON` (a blind
// write), `update KEY JSON` (read-modify-write: get, then put JSON with the get's context, so
// it supersedes what it read), `get KEY`, `stats`, `members`, `memory` (process and wasm
// memory); answers are one JSON line each on standard output, in the order the commands
// complete.
import { Replica } from './index.js';
import { issueToken } from './token.js';
import { createInterface } from 'node:readline';

function parseArgs(argv) {
  const opts = { relay: 'ws://127.0.0.1:8080/ws', cluster: 'demo', storage: 'memory' };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) throw new Error(`bad argument ${flag}`);
    const key = flag.slice(2);
    opts[key] = ['n', 'r', 'w', 'q', 'capacity', 'timeoutMs', 'gossipIntervalMs', 'memberTtlMs'].includes(key) ? Number(value) : value;
  }
  const secret = process.env.RINGLET_RELAY_SECRET;
  if (opts.token === undefined && secret) {
    opts.token = ({ cluster, node }) => issueToken({ secret, cluster, node, ttlSeconds: 600 });
  }
  return opts;
}

const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

let replica;
try {
  replica = await Replica.open(parseArgs(process.argv.slice(2)));
} catch (e) {
  console.error(`ringlet-replica: ${e.code ?? 'ERROR'}: ${e.message}`);
  process.exit(1);
}
say({ ready: replica.id, storage: replica.storage });
replica.on('refused', (e) => console.error(`refused by the relay: ${e.code}: ${e.message}${e.retrying ? ' (retrying)' : ''}`));
replica.on('membership', (e) => console.error(`members: ${e.members.map((m) => `${m.node}(${m.status}${m.up ? '' : ', down'})`).join(' ')}`));

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const [cmd, key, ...rest] = line.trim().split(' ');
  try {
    if (cmd === 'put') say({ ok: await replica.put(key, JSON.parse(rest.join(' '))) });
    else if (cmd === 'update') {
      const { context } = await replica.get(key);
      say({ ok: await replica.put(key, JSON.parse(rest.join(' ')), { context }) });
    } else if (cmd === 'get') say({ ok: await replica.get(key) });
    else if (cmd === 'memory') say({ ok: { ...process.memoryUsage(), wasm: replica.stats().wasmMemoryBytes } });
    else if (cmd === 'stats') say({ ok: replica.stats() });
    else if (cmd === 'members') say({ ok: replica.members() });
    else if (cmd) say({ error: 'INVALID_ARGUMENT', message: `unknown command ${cmd}` });
  } catch (e) {
    say({ error: e.code ?? 'ERROR', message: e.message });
  }
});

async function stop() {
  await replica.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
