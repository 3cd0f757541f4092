#!/usr/bin/env node
// `npm run edge`: the edge worker (relay + edge node in a Durable Object) on workerd, locally.
//   node scripts/edge.mjs [--port 8787] [--host 127.0.0.1] [--persist .edge-state] [--cluster demo] [--www DIR]
// Tabs join with relay ws://127.0.0.1:8787/ws (cluster `demo`) or /ws?cluster=NAME.
import { startEdge } from '../js/edge/local.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const vars = {};
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('RINGLET_')) vars[k] = v;
vars.RINGLET_CLUSTER = opt('cluster', vars.RINGLET_CLUSTER ?? 'demo');
const edge = await startEdge({
  host: opt('host', '127.0.0.1'),
  port: Number(opt('port', 8787)),
  persist: opt('persist', '.edge-state'),
  ...(opt('www') ? { www: opt('www') } : {}),
  vars,
});
console.log(`ringlet edge listening on ${edge.url}/ (relay ${edge.url.replace(/^http/, 'ws')}/ws, cluster ${vars.RINGLET_CLUSTER}; Ctrl-C stops it)`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await edge.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
