// Type-checked (never run) by `npm test`: the published declarations (js/index.d.ts) accept
// the README's usage and reject misuse. Each `@ts-expect-error` line must be an error, so a
// declaration that grows too loose fails the check too.
import { Replica, RingletError, ErrorCode, init } from 'ringlet';
import type { GetResult, Member, ReplicaStats, RingInfo, Context, ReplicaEvents, KeyChange } from 'ringlet';

export async function usage(): Promise<void> {
  await init();
  const r: Replica = await Replica.open({ cluster: 'demo', relay: 'ws://127.0.0.1:8080/ws', storage: 'memory' });
  await r.put('cart/ada', { items: ['milk'] });
  const got: GetResult = await r.get('cart/ada', { r: 2, timeoutMs: 500 });
  const ctx: Context = got.context;
  const unsure: boolean = got.partial;
  void unsure;
  await r.put('cart/ada', { items: ['milk', 'eggs'] }, { context: ctx, w: 3, durable: false });
  await r.put(new Uint8Array([1, 2]), new Uint8Array([3]));
  await r.delete('cart/ada', { context: ctx });
  const members: Member[] = r.members();
  const ring: RingInfo | null = r.ring();
  const list: string[] = r.preflist('cart/ada');
  const stats: ReplicaStats = r.stats();
  const bytes: number = stats.wasmMemoryBytes + stats.hintsHeld + stats.keysHeld;
  r.on('siblings', (e) => { const n: number = e.count; void n; });
  r.on('*', (e) => { const t: string = e.type; void t; });
  const ev: ReplicaEvents['membership'] = await r.once('membership', (e) => e.members.length > 1);
  try {
    await r.get('x');
  } catch (e) {
    if (e instanceof RingletError && e.code === ErrorCode.QUORUM_FAILED) {
      const needed: number | undefined = e.needed;
      void needed;
    }
  }
  // Issue 12: local reads, batches, updates, watches, offline.
  const local = await r.get('cart/ada', { local: true });
  const isLocal: true = local.local;
  const notPartial: false = local.partial;
  void notPartial;
  const many = await r.getMany(['a', 'b'], { r: 1 });
  for (const m of many) if (m.error) { const c: string = m.error.code; void c; } else { const v = m.values; const p: boolean = m.partial; void v; void p; }
  const held = await r.getMany(['a', 'b'], { local: true });
  for (const h of held) if (!h.error) { const l: true = h.local; void l; }
  const puts = await r.putMany([['a', 1], { key: 'b', value: 'x', w: 1 }]);
  const c2: Context | undefined = puts[0].error ? undefined : puts[0].context;
  await r.update('likes/1', { add: 5 });
  await r.update('tags/1', { insert: ['a', { b: 1 }] });
  await r.update('tags/1', { remove: ['a'] });
  const unwatch: () => void = r.watch('cart/', (c: KeyChange) => { const o: 'local' | 'remote' = c.origin; void o; }, { prefix: true });
  unwatch();
  r.on('change', (e) => { const k = e.key; void k; });
  r.disconnect();
  await r.connect({ timeoutMs: 1000 });
  const online: boolean = r.connected;
  await Replica.open({ cluster: 'c', relay: 'ws://x', resolvers: { 'likes/': 'counter', 'tags/': 'set', 'p/': 'lww' } });
  await init({ url: '/ringlet_bg.wasm' });
  await r.close();
  void [members, ring, list, bytes, ev, r.id, r.storage, isLocal, c2, online];
  // @ts-expect-error a resolver is one of siblings, lww, counter, set
  await Replica.open({ cluster: 'c', relay: 'ws://x', resolvers: { 'a/': 'max' } });
  // @ts-expect-error an update is add, insert or remove
  await r.update('k', { multiply: 2 });
  // @ts-expect-error a local get takes no other option
  await r.get('k', { local: true, r: 2 });
  // @ts-expect-error connected is read-only
  r.connected = true;

  // @ts-expect-error a cluster is required
  await Replica.open({ relay: 'ws://127.0.0.1:8080/ws' });
  // @ts-expect-error storage is 'indexeddb' or 'memory'
  await Replica.open({ cluster: 'demo', relay: 'ws://x', storage: 'localStorage' });
  // @ts-expect-error a put needs a value
  await r.put('k');
  // @ts-expect-error there is no such event
  r.on('nosuchevent', () => {});
  // @ts-expect-error stats are read-only numbers, not promises
  const p: Promise<ReplicaStats> = r.stats();
  void p;
}
