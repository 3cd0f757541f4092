// ringlet/token: join tokens for a relay that requires them (`ringlet-relay` with a secret).
// For an app's server, never a browser: whoever holds the secret can join any cluster as
// any node. Node.js (node:crypto). The relay's verifier is src/relay/token.rs; both build
// byte-identical tokens.
//
//   import { issueToken } from 'ringlet/token';
//   const token = issueToken({ secret: process.env.RINGLET_RELAY_SECRET, cluster: 'demo', node: 'tab-1f2e3d4c5b6a79881f2e3d4c5b6a7988', ttlSeconds: 600 });
//
// A token is `<payload>.<mac>`, both unpadded base64url: the payload is the JSON
// {"v":1,"cluster":"<name>","node":"<id>","exp":<unix seconds>} and the mac is HMAC-SHA256
// under the secret of the payload's base64url text.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const TOKEN_VERSION = 1;
const MIN_SECRET_BYTES = 16;
const MAX_TOKEN_LENGTH = 1024;
const CLUSTER = /^[A-Za-z0-9_.-]{1,64}$/;
const NODE = /^[\x21-\x7e]{1,64}$/;

function key(secret) {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? Buffer.from(secret) : null;
  if (!bytes) throw new TypeError('`secret` must be a string or a Uint8Array');
  if (bytes.length < MIN_SECRET_BYTES) throw new RangeError(`\`secret\` must be at least ${MIN_SECRET_BYTES} bytes long`);
  return bytes;
}

const mac = (secret, payload) => createHmac('sha256', key(secret)).update(payload, 'utf8').digest();

/**
 * A token that lets node `node` join cluster `cluster` for `ttlSeconds` (default one hour).
 * `now` (milliseconds, default `Date.now()`) is for tests.
 */
export function issueToken({ secret, cluster, node, ttlSeconds = 3600, now = Date.now() } = {}) {
  if (typeof cluster !== 'string' || !CLUSTER.test(cluster)) throw new TypeError('`cluster` must be 1 to 64 characters from [A-Za-z0-9_.-]');
  if (typeof node !== 'string' || !NODE.test(node)) throw new TypeError('`node` must be 1 to 64 printable ASCII characters without spaces');
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError('`ttlSeconds` must be a positive integer');
  const exp = Math.floor(now / 1000) + ttlSeconds;
  const payload = Buffer.from(JSON.stringify({ v: TOKEN_VERSION, cluster, node, exp })).toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** Thrown by `verifyToken`: `code` is `'UNAUTHORIZED'`, `reason` says why. */
export class TokenError extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'TokenError';
    this.code = 'UNAUTHORIZED';
    this.reason = reason;
  }
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function decode(text) {
  if (!B64URL.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  // Only the canonical spelling, as the relay requires.
  return bytes.toString('base64url') === text ? bytes : null;
}

/**
 * The claims `{ v, cluster, node, exp }` of a token signed with `secret`, checked as the
 * relay checks it: signature, version, expiry (with `clockSkewSeconds` of grace) and, when
 * given, `cluster` and `node`. Throws a `TokenError` otherwise.
 */
export function verifyToken(token, { secret, cluster, node, now = Date.now(), clockSkewSeconds = 0 } = {}) {
  const malformed = () => new TokenError('malformed', 'the token is malformed');
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw malformed();
  const dot = token.indexOf('.');
  if (dot < 0) throw malformed();
  const payload = token.slice(0, dot);
  const given = decode(token.slice(dot + 1));
  if (!given) throw malformed();
  const expected = mac(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TokenError('signature', "the token's signature is not valid for this secret");
  }
  const json = decode(payload);
  let claims;
  try {
    claims = JSON.parse(json?.toString('utf8'));
  } catch {
    throw malformed();
  }
  const { v, exp } = claims ?? {};
  if (typeof claims?.cluster !== 'string' || typeof claims?.node !== 'string' || !Number.isSafeInteger(exp) || exp < 0 || !Number.isInteger(v)) throw malformed();
  if (v !== TOKEN_VERSION) throw new TokenError('version', `token version ${v} is not supported`);
  const nowS = Math.floor(now / 1000);
  if (nowS > exp + clockSkewSeconds) throw new TokenError('expired', `the token expired at ${exp} (now ${nowS}, Unix seconds)`);
  if (cluster !== undefined && claims.cluster !== cluster) throw new TokenError('cluster', `the token is for cluster ${JSON.stringify(claims.cluster)}`);
  if (node !== undefined && claims.node !== node) throw new TokenError('node', `the token is for node ${JSON.stringify(claims.node)}`);
  return { v, cluster: claims.cluster, node: claims.node, exp };
}
