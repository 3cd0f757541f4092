// Type declarations of the ringlet package (hand-written; see js/index.js).

/** A key: a string (its UTF-8 bytes) or raw bytes. `"a"` and `Uint8Array.of(0x61)` are the same key. */
export type Key = string | Uint8Array;

/** JSON-serialisable data, stored with `JSON.stringify` and returned with `JSON.parse`. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A value: bytes come back as a `Uint8Array` (an `ArrayBuffer` too), a string as a string,
 * and other JSON data as `JSON.parse(JSON.stringify(value))`.
 */
export type Value = Uint8Array | ArrayBuffer | Json;

/** What a read returns for a value written as `Value`. */
export type StoredValue = Uint8Array | Json;

/**
 * The opaque causal context of a get (base64 of the context bytes). Pass it back with the
 * next put or delete of the key so the write supersedes exactly what was read.
 */
export type Context = string;

export type StorageKind = 'indexeddb' | 'memory';

/**
 * A storage engine written in JavaScript (the edge node's Durable Object storage,
 * `js/edge/storage.js`). Records are opaque bytes under string keys chosen by the node.
 */
export interface StorageEngine {
  /** Every stored record. */
  load(): Promise<Iterable<[string, Uint8Array | undefined]>>;
  /** Apply one batch atomically and in order (`undefined`: delete); resolve once durable. */
  apply(ops: Array<[string, Uint8Array | undefined]>): Promise<void>;
}

/**
 * A relay endpoint in this process (the edge relay's own node, `js/edge/node.js`): it speaks
 * the relay protocol without a socket.
 */
export interface RelayEndpoint {
  /** Say `hello` (the hello JSON); the relay answers through `deliver` and ends with `closed`. */
  connect(hello: string, deliver: (data: string | Uint8Array) => void, closed: (code: number, reason: string) => void): void;
  /** One BINARY frame from the node (client → relay layout). */
  send(frame: Uint8Array): boolean | void;
  close(): void;
}

export interface OpenOptions {
  /** The cluster to join: 1 to 64 characters from [A-Za-z0-9_.-]. */
  cluster: string;
  /** The relay's WebSocket URL, e.g. `ws://127.0.0.1:8080/ws`, or an in-process endpoint. */
  relay: string | RelayEndpoint;
  /**
   * Where the node keeps its data. Default: `'indexeddb'` where IndexedDB exists (browsers,
   * or Node.js with `fake-indexeddb/auto`), else `'memory'`.
   */
  storage?: StorageKind | StorageEngine;
  /** Replicas per key (N). Default 3. Every node of a cluster must use the same N and Q. */
  n?: number;
  /** Replies a get waits for (R). Default 2 (at most N). */
  r?: number;
  /** Stores a put waits for (W). Default 2 (at most N). */
  w?: number;
  /** Partitions in the ring (a power of two). Default 64. */
  q?: number;
  /** Node ids to join through, besides the nodes the relay reports connected. */
  seeds?: string[];
  /**
   * This node's id (1 to 64 printable ASCII characters, no spaces). Default: a random id,
   * `tab-` and 32 hex digits (128 bits from `crypto.getRandomValues`), kept in IndexedDB so a
   * reloaded tab is the same node (with memory storage, `node-` and 32 hex digits, new per
   * open). Without `crypto.getRandomValues`, `open` rejects with `NO_RANDOMNESS`.
   */
  name?: string;
  /** The IndexedDB database to use (default: chosen from the cluster and `name`). */
  dbName?: string;
  /** Relative share of partitions this node claims. Default 1. */
  capacity?: number;
  /** A request ends, with a reply or a typed error, within this many ms. Default 2000. */
  timeoutMs?: number;
  /** How long `open` waits for the relay and the ring. Default 15000. */
  openTimeoutMs?: number;
  /** Largest value a put accepts, in bytes. Default 256 KiB (the relay routes frames of at most 1 MiB, and a replica message carries every sibling). */
  maxValueBytes?: number;
  /** A put that would leave more concurrent versions of a key than this is refused with TOO_MANY_SIBLINGS. Default 100. */
  maxSiblings?: number;
  /** From this many concurrent versions on, a `siblingswarning` event is emitted (0: never). Default 25. */
  warnSiblings?: number;
  /** Membership gossip period in ms. Default 1000. */
  gossipIntervalMs?: number;
  /**
   * The membership lease: a member that has been unreachable for this many ms is removed
   * from the cluster (its partitions move to live members, hints held for it go to the
   * keys' live replicas); a removed node that comes back rejoins. 0: never (an outage
   * never changes the membership). Default 7 days (604800000) with IndexedDB or a storage
   * engine object, 5 minutes (300000) with memory storage.
   */
  memberTtlMs?: number;
  /**
   * This node is a durable replica (the edge node sets it): announced to every member, and a
   * buffered put (`durable: false`) whose replicas include a durable replica is acknowledged
   * only once a durable replica stored it. Default false.
   */
  durableReplica?: boolean;
  /**
   * The join token of a relay with a secret (issued by the app's server, see
   * `ringlet/token`): a string, or a function called with `{ cluster, node }` on every
   * (re)connection that returns a fresh token or a promise of one. A refused token rejects
   * `open` with `UNAUTHORIZED`; later refusals are `refused` events.
   */
  token?: string | ((who: { cluster: string; node: string }) => string | Promise<string>);
  /**
   * WebRTC data channels to other tabs (see docs/webrtc.md). `true` (the
   * default) or `false`, or the details. Where WebRTC does not exist (Node.js) the node uses
   * the relay whatever this says.
   */
  webrtc?: boolean | WebrtcOptions;
  /**
   * A resolver per key prefix (the longest matching prefix wins; other keys keep every
   * sibling): `'counter'` (a PN-counter, changed with `update(key, { add })`), `'set'` (an
   * add-wins set, `update(key, { insert })` / `{ remove }`), `'lww'` (last writer wins:
   * concurrent writes are dropped but one) or `'siblings'`. Every node of a cluster must
   * use the same table: `open` rejects with `RESOLVERS_DIFFER` when a member's differs.
   */
  resolvers?: Record<string, ResolverName>;
}

export type ResolverName = 'siblings' | 'lww' | 'counter' | 'set';

export interface WebrtcOptions {
  /** Open data channels to the peers this node talks to. Default true. */
  enabled?: boolean;
  /** Channels open (or being opened) at once, 0 to 256; traffic to further peers goes through the relay. Default 16. */
  maxPeers?: number;
  /** STUN/TURN servers for real deployments (none needed on loopback or one LAN). */
  iceServers?: { urls: string | string[]; username?: string; credential?: string }[];
}

/** Node-to-node messages (one core message each, however many chunks or frames carried it) and their bytes. */
export interface TrafficCounter {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
}

export interface PathCounters {
  datachannel: TrafficCounter;
  relay: TrafficCounter;
}

export interface PeerTraffic extends PathCounters {
  /** How messages to this peer go now. */
  path: 'datachannel' | 'connecting' | 'relay';
}

export interface WebrtcStats {
  /** Data channels are in use: asked for, and WebRTC exists here. */
  enabled: boolean;
  /** `webrtc.enabled` as asked. */
  requested: boolean;
  maxPeers: number;
  /** Channels open now, and attempts under way. */
  open: number;
  connecting: number;
  /** Channels that opened. */
  opened: number;
  /** Open channels that closed or stalled: their traffic fell back to the relay. */
  fallbacks: number;
  /** Attempts that failed, timed out or were refused (a peer without WebRTC, or at its maximum). */
  failures: number;
  /** Messages handed to a channel that ended before they were known sent, re-sent through the relay. */
  resent: number;
  /** Messages sent through the relay because their channel's send buffer was full (backpressure). */
  spilled: number;
  signalsSent: number;
  signalsReceived: number;
  badChunks: number;
  badSignals: number;
}

export interface GetOptions {
  /** Replies to wait for (1..N); default the cluster's R. */
  r?: number;
  timeoutMs?: number;
}

/** A local get: what this node holds, no network; no other option. */
export interface LocalGetOptions {
  local: true;
}

export interface LocalGetResult extends GetResult {
  partial: false;
  local: true;
}

/** One entry of `putMany`: `[key, value]` or `{ key, value, ...PutOptions }`. */
export type PutManyEntry = [Key, Value] | ({ key: Key; value: Value } & PutOptions);

/** One result of `getMany` or `putMany`: the call's result, or its typed error. */
export type ManyResult<T> = ({ key: Key; error?: undefined } & T) | { key: Key; error: RingletError };

/** A counter (`add`, negative subtracts) or add-wins set (`insert`, `remove`) operation. */
export type UpdateOp = { add: number } | { insert: Value[] } | { remove: Value[] };

export interface UpdateOptions {
  w?: number;
  durable?: boolean;
  timeoutMs?: number;
}

/** What a watch listener (and a `change` listener) is given. */
export interface KeyChange {
  key: Key;
  /** The key's values after its resolver (siblings by default), as a get returns them. */
  values: StoredValue[];
  context: Context;
  /** `'local'` while a write of the key by this node is in flight, else `'remote'`. */
  origin: 'local' | 'remote';
}

export interface WatchOptions {
  /** Watch every key that starts with `keyOrPrefix`. Default false. */
  prefix?: boolean;
}

export interface ConnectOptions {
  /** Reject with `TIMEOUT` after this long (the node keeps trying). Default 15,000. */
  timeoutMs?: number;
}

export interface PutOptions {
  /** The context of the get this write replaces; none: a blind write. */
  context?: Context | Uint8Array;
  /** Stores to wait for (1..N); default the cluster's W. */
  w?: number;
  /** `false`: the write buffer (replicas ack from memory; one store is durable). Default true. */
  durable?: boolean;
  timeoutMs?: number;
}

export interface DeleteOptions extends PutOptions {}

export interface GetResult {
  /** Every concurrent value (siblings), in a stable order; empty when the key is absent. */
  values: StoredValue[];
  /** Pass back with the next put or delete of this key. */
  context: Context;
  /**
   * `true` when R was reached only by counting answers of nodes that are no authority on the
   * key (fallbacks without a hint, owners whose partition is still arriving), because nobody
   * else was left to ask: `values` may lack what the key's primaries hold, and an empty
   * `values` does not mean the key is absent. `false` otherwise, and for a local get.
   */
  partial: boolean;
}

export interface PutResult {
  /** The context of exactly the version written. */
  context: Context;
}

export type MemberStatus = 'joining' | 'valid' | 'leaving' | 'exiting' | 'down';

export interface Member {
  node: string;
  status: MemberStatus;
  capacity: number;
  /** False while this node's failure detector believes it down. */
  up: boolean;
  /** A durable replica (an always-on edge node, `durableReplica`). */
  durable: boolean;
  /** True for this node. */
  self: boolean;
}

export interface RingInfo {
  /** Increases each time the claimant installs a new ring. */
  epoch: number;
  /** Number of partitions. */
  q: number;
  /** `owners[p]` owns partition p. */
  owners: string[];
  /** Partitions owned per node. */
  partitions: Record<string, number>;
}

export interface ReplicaStats {
  node: string;
  storage: StorageKind | 'js';
  /** Connected to the relay. */
  connected: boolean;
  gets: number;
  puts: number;
  forwarded: number;
  quorumFailures: number;
  readRepairs: number;
  hintsStored: number;
  hintsDelivered: number;
  /** Hinted replicas this node holds now for unreachable nodes. */
  hintsHeld: number;
  /** Keys this node holds as a replica. */
  keysHeld: number;
  keysTransferred: number;
  messagesIn: number;
  persistBatches: number;
  requestsInFlight: number;
  /** Calls waiting for admission into the node: a burst is admitted a slice (about 8 ms of work) per task, in order; a request's timeout starts when it is admitted. */
  requestsQueued: number;
  /** Times this node was called back late (a throttled tab, a long task): it then listens before it blames any peer. */
  stalls: number;
  /** Stored records that failed their checksum (or did not decode) at load: reported with a `corruptrecord` event, never served, fetched again from the other replicas. */
  corruptRecords: number;
  /** Puts refused with TOO_MANY_SIBLINGS. */
  siblingLimitRefusals: number;
  framesIn: number;
  framesOut: number;
  /** Messages sent to peers, alone or bundled (`framesOut` counts the frames they left in). */
  messagesOut: number;
  /** Messages that left inside one frame with others for the same peer (everything a JS task sends one peer leaves as one frame). */
  messagesBundled: number;
  /** Messages not sent because the relay connection was down. */
  framesUnsent: number;
  /** Frames from the relay that were not valid framing or did not decode: dropped. */
  badFrames: number;
  /** Error messages from the relay (unknown destination, malformed frame, ...). */
  relayErrors: number;
  /**
   * This node's frames the relay reported it did not deliver: `dropped` notices (the
   * destination's queue stayed full, or it left meanwhile) and refused data frames (unknown
   * destination, malformed, too large). Each report is also a `relaydrop` event. A relay
   * with default settings slows a fast node down instead of dropping its frames, so this
   * stays 0 for a healthy cluster.
   */
  relayDrops: number;
  reconnects: number;
  persistFailures: number;
  /** Size of the wasm module's linear memory (shared by every replica of the page or process). */
  wasmMemoryBytes: number;
  webrtc: WebrtcStats;
  /** Node-to-node traffic per path. */
  paths: PathCounters;
  /** Node-to-node traffic per peer and path, with the path in use now. */
  peers: Record<string, PeerTraffic>;
  /** Watches: subscriptions held here for watchers, targets this node watches, their TTL. */
  watch: { subscribers: number; watching: number; ttlMs: number };
}

export interface ReplicaEvents {
  /** The membership view changed. */
  membership: { type: 'membership'; members: Member[] };
  /** A new ring was installed. */
  ring: { type: 'ring'; epoch: number };
  /** A get found concurrent versions. */
  siblings: { type: 'siblings'; key: Key; count: number };
  /** The failure detector sees `node` answer again. */
  nodeup: { type: 'nodeup'; node: string };
  /** The failure detector suspects `node`. */
  nodedown: { type: 'nodedown'; node: string };
  /** Read repair sent newer versions to `to`. */
  readrepair: { type: 'readrepair'; key: Key; to: string[] };
  /** This node holds a hinted replica of `key` for `node`. */
  hintstored: { type: 'hintstored'; key: Key; node: string };
  /** A hinted replica of `key` reached `node` and was dropped here. */
  hintdelivered: { type: 'hintdelivered'; key: Key; node: string };
  /** The relay connection is back. */
  connected: { type: 'connected' };
  /** The relay connection dropped; the node reconnects by itself. */
  disconnected: { type: 'disconnected' };
  /** A node connected to the relay in this cluster. */
  peerjoined: { type: 'peerjoined'; node: string };
  /** A node's relay connection ended. */
  peerleft: { type: 'peerleft'; node: string };
  /**
   * The relay refused this node after it had joined (on a reconnection, or it closed the
   * connection). `retrying`: the node reconnects by itself (after the longest backoff);
   * otherwise it stays offline until closed and opened again.
   */
  refused: {
    type: 'refused';
    code: 'UNAUTHORIZED' | 'ORIGIN_NOT_ALLOWED' | 'CLUSTER_FULL' | 'RATE_LIMITED';
    message: string;
    retrying: boolean;
  };
  /**
   * The relay did not deliver `count` of this node's frames (counted in `stats().relayDrops`).
   * `reason`: `queue_full` (`node` did not read fast enough: its queue at the relay stayed
   * full for the relay's longest wait), `left` (`node` left while the frames waited),
   * `unknown_destination` (no `node` connected), `malformed` or `too_large` (`node` null).
   * Requests that needed those frames time out or are retried as usual.
   */
  relaydrop: {
    type: 'relaydrop';
    node: string | null;
    reason: 'queue_full' | 'left' | 'unknown_destination' | 'malformed' | 'too_large';
    count: number;
  };
  /** A put or get saw `count` (at least `warnSiblings`) concurrent versions of `key`: reconcile it. */
  siblingswarning: { type: 'siblingswarning'; key: Key; count: number };
  /**
   * A stored record failed verification when the node loaded (`store`: objects, hints, meta or
   * membership; `key` when known). It is not served; the key is fetched again from the other
   * replicas. Emitted while the node opens: delivered to listeners added right after `open`.
   */
  corruptrecord: { type: 'corruptrecord'; store: 'objects' | 'hints' | 'meta' | 'membership' | 'fallbacks' | 'forwards'; key: Key | null };
  /** This node stored a new version of `key` (as a replica or a hint). */
  change: { type: 'change' } & KeyChange;
  /** Any other event of the core, described. */
  other: { type: 'other'; detail: string };
}

export type ReplicaEventType = keyof ReplicaEvents;
export type ReplicaEvent = ReplicaEvents[ReplicaEventType];

export type ErrorCodeName =
  | 'QUORUM_FAILED'
  | 'TIMEOUT'
  | 'INVALID_ARGUMENT'
  | 'VALUE_TOO_LARGE'
  | 'QUOTA_EXCEEDED'
  | 'STORAGE_FAILED'
  | 'CORRUPT'
  | 'TOO_MANY_SIBLINGS'
  | 'CLOSED'
  | 'NOT_READY'
  | 'RELAY_FAILED'
  | 'NODE_ID_IN_USE'
  | 'UNAUTHORIZED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'CLUSTER_FULL'
  | 'RATE_LIMITED'
  | 'NO_RANDOMNESS'
  | 'NOT_HELD'
  | 'RESOLVERS_DIFFER'
  | 'WASM_LOAD_FAILED';

export declare const ErrorCode: { readonly [K in ErrorCodeName]: K };

/** Every error ringlet rejects with. */
export declare class RingletError extends Error {
  constructor(code: ErrorCodeName, message: string, details?: Partial<Pick<RingletError, 'needed' | 'got' | 'size' | 'max' | 'count' | 'afterMs' | 'ambiguous'>>);
  readonly name: 'RingletError';
  readonly code: ErrorCodeName;
  /** QUORUM_FAILED: replicas needed and replicas that answered. */
  readonly needed?: number;
  readonly got?: number;
  /** VALUE_TOO_LARGE: the value's size and the maximum, in bytes (`max` also of TOO_MANY_SIBLINGS). */
  readonly size?: number;
  readonly max?: number;
  /** TOO_MANY_SIBLINGS: the concurrent versions the write would have left. */
  readonly count?: number;
  /** TIMEOUT of a forwarded request. */
  readonly afterMs?: number;
  /**
   * TIMEOUT: `true` when the write may have been applied (a coordinator may have taken it);
   * it is never applied twice by ringlet. Read the key before writing it again.
   */
  readonly ambiguous?: boolean;
}

/**
 * Load the wasm module (optional: `Replica.open` does it). `module`: a compiled module
 * (Cloudflare Workers); `url`: where the `.wasm` is served, for bundlers that move the JS
 * away from it. Rejects with `WASM_LOAD_FAILED`.
 */
export declare function init(options?: { module?: WebAssembly.Module; url?: string | URL }): Promise<void>;

/** One node of a ringlet cluster, running in this page or process. */
/** One message seen by `Replica.trace`. */
export interface TraceMessage {
  /** `'out'`: this node sent it; `'in'`: it received it. */
  dir: 'in' | 'out';
  /** The other node's id. */
  peer: string;
  /** `put`, `put-ack`, `get`, `get-reply`, `forward`, `read-repair`, `merkle`, `gossip`, ... */
  kind: string;
  /** The key it is about (UTF-8 text, else hex), if any. */
  key: string | null;
  /** The clocks of the versions it carries, in the paper's notation (`[(A,2),(B,1)]`). */
  versions: string[];
}

export declare class Replica {
  private constructor();
  /**
   * Open a node and join the cluster; resolves once the node owns partitions of the ring
   * (or, if the cluster cannot add it yet, knows the ring after half of `openTimeoutMs`).
   */
  static open(options: OpenOptions): Promise<Replica>;
  readonly id: string;
  readonly storage: StorageKind | 'js';
  /**
   * Opt-in message trace (off by default, free when off): `listener` gets every message this
   * node sends or receives; `null` turns it off.
   */
  trace(listener: ((message: TraceMessage) => void) | null): this;
  /** When the node next needs its timers run (ms since the epoch), or undefined. */
  nextDeadline(): number | undefined;
  /** Run the node's timers now (a host's wake-up, e.g. a Durable Object alarm). */
  tick(): void;
  /** `{ local: true }`: what this node holds (replica, hint or watched copy); `NOT_HELD` if nothing. */
  get(key: Key, options: LocalGetOptions): Promise<LocalGetResult>;
  get(key: Key, options?: GetOptions): Promise<GetResult>;
  put(key: Key, value: Value, options?: PutOptions): Promise<PutResult>;
  delete(key: Key, options?: DeleteOptions): Promise<PutResult>;
  /** Many gets in one call: one result (or typed error) per key, in order. */
  getMany(keys: Key[], options?: GetOptions): Promise<Array<ManyResult<GetResult>>>;
  /** Many local gets: what this node holds of each key (`NOT_HELD` per key it holds nothing of). */
  getMany(keys: Key[], options: LocalGetOptions): Promise<Array<ManyResult<LocalGetResult>>>;
  /** Many puts in one call: one result (or typed error) per entry, in order. */
  putMany(entries: PutManyEntry[]): Promise<Array<ManyResult<PutResult>>>;
  /** A counter or set operation (the key's prefix needs a `counter` or `set` resolver). */
  update(key: Key, op: UpdateOp, options?: UpdateOptions): Promise<PutResult>;
  /**
   * Call `listener` whenever the key (or, with `{ prefix: true }`, any key starting with
   * it) changes anywhere in the cluster; it is also given the current value once at the
   * start and after each reconnection. Returns `unwatch()`.
   */
  watch(keyOrPrefix: Key, listener: (change: KeyChange) => void, options?: WatchOptions): () => void;
  /** Stop talking to the relay and the data channels; all state is kept. */
  disconnect(): void;
  /** Resume after `disconnect()`; resolves once the relay welcomed the node again. */
  connect(options?: ConnectOptions): Promise<void>;
  /** Connected to the relay (false after `disconnect()` and while reconnecting). */
  readonly connected: boolean;
  /**
   * Leave the cluster for good. Resolves once the node has exited: every key it held is
   * durably stored by its new primaries (every transfer acknowledged). Rejects with `TIMEOUT`
   * after 2 minutes; the node keeps leaving. Resolves at once if it already exited.
   */
  leave(): Promise<void>;
  /** The members this node knows; one seen exiting or down for an hour is no longer listed. */
  members(): Member[];
  ring(): RingInfo | null;
  preflist(key: Key): string[];
  stats(): ReplicaStats;
  on<T extends ReplicaEventType>(type: T, listener: (event: ReplicaEvents[T]) => void): this;
  on(type: '*', listener: (event: ReplicaEvent) => void): this;
  off<T extends ReplicaEventType>(type: T, listener: (event: ReplicaEvents[T]) => void): this;
  off(type: '*', listener: (event: ReplicaEvent) => void): this;
  once<T extends ReplicaEventType>(type: T, filter?: (event: ReplicaEvents[T]) => boolean): Promise<ReplicaEvents[T]>;
  close(): Promise<void>;
}
