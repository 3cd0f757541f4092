// The edge relay: the native relay's protocol (docs/protocol.md, "The relay protocol"; src/relay/) in
// plain JavaScript, so a Cloudflare Durable Object can route the frames of its cluster. It
// holds no protocol logic of ringlet: payloads are opaque, membership is "who is connected".
//
// A peer is anything with `send(data)` (a string for TEXT, a Uint8Array for BINARY) and
// `close(code, reason)`: a hibernatable WebSocket of the Durable Object, or the in-process
// endpoint of the edge node (js/edge/node.js). Same messages, codes and limits as the native
// relay:
//   hello → welcome (peers sorted) and `joined` to the others; `left` when a seat ends;
//   BAD_HELLO + close 4002; NODE_ID_IN_USE + close 4009; UNKNOWN_DESTINATION,
//   MALFORMED_FRAME, FRAME_TOO_LARGE answered in TEXT with the connection kept open.

export const UNICAST = 0x01;
export const BROADCAST = 0x02;
/** Signalling (WebRTC offers, answers, candidates): routed like a unicast, counted apart. */
export const SIGNAL = 0x03;
export const MAX_NAME_LEN = 64;
/** The largest data frame routed, header included (the native relay's `--max-frame`). */
export const DEFAULT_MAX_FRAME = 1 << 20;
/** A connection that has not said hello within this is refused (BAD_HELLO, 4002). */
export const HELLO_TIMEOUT_MS = 10_000;
export const CLOSE_BAD_HELLO = 4002;
export const CLOSE_NODE_ID_IN_USE = 4009;
export const CLOSE_UNAUTHORIZED = 4001;
export const CLOSE_ORIGIN_NOT_ALLOWED = 4003;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_GOING_AWAY = 1001;

const CLUSTER_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** A node id: 1..=64 printable ASCII bytes without spaces (0x21..=0x7e). */
export function validNodeId(s) {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_NAME_LEN) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function validNodeIdBytes(bytes) {
  if (bytes.length === 0 || bytes.length > MAX_NAME_LEN) return false;
  for (const b of bytes) if (b < 0x21 || b > 0x7e) return false;
  return true;
}

const error = (code, fields) => JSON.stringify({ type: 'error', code, ...fields });

/**
 * Parse a hello; returns `{ cluster, node, raw }` or `{ error }` (the BAD_HELLO message).
 * Unknown fields are ignored (and kept in `raw`, for the authorisation hook).
 */
export function parseHello(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON: ${e.message}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v.type !== 'hello') {
    return { error: 'the first message must be {"type":"hello",...}' };
  }
  if (typeof v.cluster !== 'string' || !CLUSTER_RE.test(v.cluster)) {
    return { error: `cluster must be 1..=${MAX_NAME_LEN} characters from [A-Za-z0-9_.-]` };
  }
  if (!validNodeId(v.node)) {
    return { error: `node id must be 1..=${MAX_NAME_LEN} printable ASCII characters without spaces` };
  }
  return { cluster: v.cluster, node: v.node, raw: v };
}

/** Why a client's binary frame is malformed, or null; `to` for a unicast. */
export function parseInbound(frame) {
  if (frame.length === 0) return { malformed: 'empty frame' };
  const kind = frame[0];
  if (kind === BROADCAST) return { kind, payload: frame.subarray(1) };
  if (kind !== UNICAST && kind !== SIGNAL) {
    return { malformed: `unknown frame kind 0x${kind.toString(16).padStart(2, '0')} (expected 0x01, 0x02 or 0x03)` };
  }
  if (frame.length < 2) return { malformed: 'frame ends inside its header' };
  const len = frame[1];
  if (frame.length < 2 + len) return { malformed: 'frame ends inside its header' };
  const id = frame.subarray(2, 2 + len);
  if (!validNodeIdBytes(id)) return { malformed: 'the node id in the header is not a valid node id' };
  return { kind, to: String.fromCharCode(...id), payload: frame.subarray(2 + len) };
}

/** Relay → client: `[kind][src_len][src][payload]`. */
export function delivery(kind, from, payload) {
  const out = new Uint8Array(2 + from.length + payload.length);
  out[0] = kind;
  out[1] = from.length;
  for (let i = 0; i < from.length; i++) out[2 + i] = from.charCodeAt(i);
  out.set(payload, 2 + from.length);
  return out;
}

function emptyStats() {
  return {
    connections: 0, frames_in: 0, bytes_in: 0, frames_out: 0, bytes_out: 0, dropped: 0, malformed: 0,
    unknown_destination: 0, too_large: 0, queue_full: 0, rate_limited: 0, signal_frames_in: 0, signal_frames_out: 0,
  };
}

/**
 * AUTHORISATION HOOK. Called with the parsed hello and the connection's context before a node
 * takes its seat: `{ websocket: true, origin, auth }` for a WebSocket (`auth`: the join-token
 * check of `access.js`, made by the worker before, as it is asynchronous), `{ local: true }`
 * for the edge node. Return null to admit, or `{ code, message, close }` to refuse. The origin
 * allowlist is checked earlier, at the upgrade, as by the native relay.
 */
export function authorizeHello(_hello, context) {
  if (context?.auth && !context.auth.ok) {
    return { code: 'UNAUTHORIZED', message: context.auth.message, close: CLOSE_UNAUTHORIZED, reason: 'unauthorized' };
  }
  return null;
}

/** Every cluster's room: who is connected, and the routing between them. */
export class Rooms {
  constructor({ maxFrame = DEFAULT_MAX_FRAME, authorize = authorizeHello } = {}) {
    this.maxFrame = maxFrame;
    this.authorize = authorize;
    this.clusters = new Map();
    this.started = Date.now();
  }

  #room(cluster) {
    let room = this.clusters.get(cluster);
    if (!room) {
      room = { peers: new Map(), stats: emptyStats() };
      this.clusters.set(cluster, room);
    }
    return room;
  }

  #push(room, peer, data) {
    try {
      peer.send(data);
      if (typeof data !== 'string' && data[0] === SIGNAL) {
        room.stats.signal_frames_out += 1;
      } else if (typeof data !== 'string') {
        room.stats.frames_out += 1;
        room.stats.bytes_out += data.length;
      }
    } catch {
      room.stats.dropped += 1;
      room.stats.queue_full += 1;
    }
  }

  /**
   * A connection's first TEXT frame. Returns its seat, or null after refusing it (the error
   * message and the close were sent to `peer`).
   */
  hello(text, peer, context = {}) {
    const h = typeof text === 'string' ? parseHello(text) : { error: 'data before hello: the first frame must be a TEXT hello' };
    if (h.error) {
      this.refuse(peer, error('BAD_HELLO', { message: h.error }), CLOSE_BAD_HELLO, 'bad hello');
      return null;
    }
    const denied = this.authorize(h, context);
    if (denied) {
      this.refuse(peer, error(denied.code, { message: denied.message }), denied.close ?? CLOSE_BAD_HELLO, denied.reason ?? denied.code);
      return null;
    }
    const room = this.#room(h.cluster);
    if (room.peers.has(h.node)) {
      this.refuse(peer, error('NODE_ID_IN_USE', { node: h.node, message: 'node id in use' }), CLOSE_NODE_ID_IN_USE, 'node id in use');
      return null;
    }
    return this.seat(h.cluster, h.node, peer, { announce: true });
  }

  /** Seat `node` (after a valid hello, or again after the object woke from hibernation). */
  seat(cluster, node, peer, { announce }) {
    const room = this.#room(cluster);
    if (announce) {
      const peers = [...room.peers.keys()].sort();
      this.#push(room, peer, JSON.stringify({ type: 'welcome', node, peers }));
      const joined = JSON.stringify({ type: 'joined', node });
      for (const other of room.peers.values()) this.#push(room, other, joined);
    }
    room.peers.set(node, peer);
    room.stats.connections += 1;
    return new Seat(this, cluster, node, peer);
  }

  refuse(peer, message, code, reason) {
    try {
      peer.send(message);
    } catch {
      // The peer is gone already.
    }
    try {
      peer.close(code, reason);
    } catch {
      // Closed already.
    }
  }

  /** `GET /stats`: the native relay's JSON. */
  stats() {
    const clusters = {};
    let connections = 0;
    for (const [name, room] of this.clusters) {
      clusters[name] = { ...room.stats };
      connections += room.stats.connections;
    }
    return { clusters, connections, uptime_s: Math.floor((Date.now() - this.started) / 1000) };
  }

  /** A data frame from `seat`. */
  forward(seat, frame) {
    const room = this.clusters.get(seat.cluster);
    if (!room) return;
    if (frame[0] === SIGNAL) {
      room.stats.signal_frames_in += 1;
    } else {
      room.stats.frames_in += 1;
      room.stats.bytes_in += frame.length;
    }
    if (frame.length > this.maxFrame) {
      room.stats.dropped += 1;
      room.stats.too_large += 1;
      this.#push(room, seat.peer, error('FRAME_TOO_LARGE', {
        message: `frame of ${frame.length} bytes exceeds the maximum of ${this.maxFrame} bytes`,
      }));
      return;
    }
    const f = parseInbound(frame);
    if (f.malformed) {
      room.stats.malformed += 1;
      this.#push(room, seat.peer, error('MALFORMED_FRAME', { message: f.malformed }));
      return;
    }
    if (f.kind === UNICAST || f.kind === SIGNAL) {
      const to = room.peers.get(f.to);
      if (!to) {
        room.stats.dropped += 1;
        room.stats.unknown_destination += 1;
        this.#push(room, seat.peer, error('UNKNOWN_DESTINATION', { node: f.to }));
        return;
      }
      this.#push(room, to, delivery(f.kind, seat.node, f.payload));
    } else {
      const data = delivery(BROADCAST, seat.node, f.payload);
      for (const [name, other] of room.peers) if (name !== seat.node) this.#push(room, other, data);
    }
  }

  /** A TEXT frame after hello. */
  text(seat) {
    const room = this.clusters.get(seat.cluster);
    if (!room) return;
    room.stats.malformed += 1;
    this.#push(room, seat.peer, error('MALFORMED_FRAME', { message: 'TEXT frames after hello are not part of the protocol' }));
  }

  /** A frame the transport refused as too large before reading it (then close 1009). */
  oversize(seat, size) {
    const room = this.clusters.get(seat.cluster);
    if (room) {
      room.stats.dropped += 1;
      room.stats.too_large += 1;
    }
    this.refuse(seat.peer, error('FRAME_TOO_LARGE', {
      message: `frame of ${size} bytes exceeds the maximum of ${this.maxFrame} bytes`,
    }), CLOSE_TOO_BIG, 'frame too large');
  }

  /** The seat's connection ended: the others get `left`. */
  leave(seat) {
    const room = this.clusters.get(seat.cluster);
    if (!room || room.peers.get(seat.node) !== seat.peer) return;
    room.peers.delete(seat.node);
    room.stats.connections -= 1;
    const left = JSON.stringify({ type: 'left', node: seat.node });
    for (const other of room.peers.values()) this.#push(room, other, left);
    if (room.peers.size === 0) this.clusters.delete(seat.cluster);
  }
}

/** One node's place in its cluster's room. */
export class Seat {
  constructor(rooms, cluster, node, peer) {
    this.rooms = rooms;
    this.cluster = cluster;
    this.node = node;
    this.peer = peer;
  }

  forward(frame) { this.rooms.forward(this, frame); }
  text() { this.rooms.text(this); }
  leave() { this.rooms.leave(this); }
}
