// Who may join through the edge relay: the native relay's join tokens and origin allowlist
// (docs/security.md, "Authentication and limits"), for a Durable Object. Tokens are checked with
// WebCrypto (HMAC-SHA256), byte-compatible with `ringlet/token` and src/relay/token.rs.
//
// Worker variables (secrets: `wrangler secret put RINGLET_RELAY_SECRET`):
//   RINGLET_RELAY_SECRET           the HMAC key of join tokens (at least 16 bytes); unset: open
//   RINGLET_RELAY_CLOCK_SKEW       grace after a token's expiry, seconds (default 60)
//   RINGLET_RELAY_ALLOW_ORIGIN     comma-separated browser origins; unset: any origin
//   RINGLET_RELAY_ALLOW_NO_ORIGIN  "1": with an allowlist, also admit clients without Origin

const TOKEN_VERSION = 1;
const MAX_TOKEN_LENGTH = 1024;
const MIN_SECRET_BYTES = 16;

/** The access settings of the worker's environment. */
export function accessFromEnv(env = {}) {
  const secret = env.RINGLET_RELAY_SECRET ? new TextEncoder().encode(env.RINGLET_RELAY_SECRET) : null;
  if (secret && secret.length < MIN_SECRET_BYTES) {
    throw new Error(`RINGLET_RELAY_SECRET must be at least ${MIN_SECRET_BYTES} bytes long`);
  }
  const origins = (env.RINGLET_RELAY_ALLOW_ORIGIN ?? '').split(',').map((o) => o.trim().toLowerCase()).filter(Boolean);
  return {
    secret,
    clockSkewSeconds: Number(env.RINGLET_RELAY_CLOCK_SKEW ?? 60),
    allowOrigins: origins.length ? new Set(origins) : null,
    allowNoOrigin: env.RINGLET_RELAY_ALLOW_NO_ORIGIN === '1' || env.RINGLET_RELAY_ALLOW_NO_ORIGIN === 'true',
    key: null,
  };
}

/** May a WebSocket upgrade with this `Origin` header (or null) connect? */
export function originAllowed(access, origin) {
  if (!access.allowOrigins) return true;
  if (origin === null || origin === undefined) return access.allowNoOrigin;
  return access.allowOrigins.has(String(origin).toLowerCase());
}

/**
 * Check the join token of a hello (its raw text). `{ ok: true }` when the relay is open, or
 * when the hello is not JSON (the relay then refuses it as BAD_HELLO); otherwise whether the
 * token is valid for the hello's cluster and node, with the reason when not.
 */
export async function checkHelloToken(access, text, now = Date.now()) {
  if (!access.secret) return { ok: true };
  let hello;
  try {
    hello = JSON.parse(text);
  } catch {
    return { ok: true };
  }
  if (hello === null || typeof hello !== 'object') return { ok: true };
  const token = hello.token;
  if (typeof token !== 'string') return { ok: false, message: 'this relay requires a token in the hello' };
  const bad = (why) => ({ ok: false, message: `the token is not valid: ${why}` });
  if (token.length > MAX_TOKEN_LENGTH) return bad('malformed');
  const dot = token.indexOf('.');
  if (dot < 0) return bad('malformed');
  const payload = token.slice(0, dot);
  const given = fromBase64url(token.slice(dot + 1));
  const claimsBytes = fromBase64url(payload);
  if (!given || !claimsBytes) return bad('malformed');
  access.key ??= await crypto.subtle.importKey('raw', access.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  // WebCrypto's verify compares in constant time.
  const valid = await crypto.subtle.verify('HMAC', access.key, given, new TextEncoder().encode(payload));
  if (!valid) return bad("its signature is not valid for this relay's secret");
  let claims;
  try {
    claims = JSON.parse(new TextDecoder().decode(claimsBytes));
  } catch {
    return bad('malformed');
  }
  if (typeof claims?.cluster !== 'string' || typeof claims?.node !== 'string' || !Number.isSafeInteger(claims?.exp)) return bad('malformed');
  if (claims.v !== TOKEN_VERSION) return bad(`version ${claims.v} is not supported`);
  if (Math.floor(now / 1000) > claims.exp + access.clockSkewSeconds) return bad('expired');
  if (claims.cluster !== hello.cluster) return bad(`it is for cluster ${JSON.stringify(claims.cluster)}`);
  if (claims.node !== hello.node) return bad(`it is for node ${JSON.stringify(claims.node)}`);
  return { ok: true };
}

function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
