// ringlet/token: join tokens for a relay with a secret. For an app's server (Node.js),
// never a browser: whoever holds the secret can join any cluster as any node.

export declare const TOKEN_VERSION: 1;

export interface IssueTokenOptions {
  /** The relay's secret (`RINGLET_RELAY_SECRET`), at least 16 bytes. */
  secret: string | Uint8Array;
  /** The cluster the token admits to (`Replica.open`'s `cluster`). */
  cluster: string;
  /** The node id the token admits (`Replica.open`'s `name`, or the id the replica reports). */
  node: string;
  /** Seconds until the token expires; default 3600. The relay checks it when a node joins. */
  ttlSeconds?: number;
  /** Milliseconds since the epoch; default `Date.now()` (for tests). */
  now?: number;
}

/** A token `<payload>.<mac>` (base64url): HMAC-SHA256 over `{"v":1,"cluster","node","exp"}`. */
export declare function issueToken(options: IssueTokenOptions): string;

export interface TokenClaims {
  v: 1;
  cluster: string;
  node: string;
  /** Expiry, Unix seconds. */
  exp: number;
}

export interface VerifyTokenOptions {
  secret: string | Uint8Array;
  /** When given, the token must be for this cluster. */
  cluster?: string;
  /** When given, the token must be for this node id. */
  node?: string;
  now?: number;
  /** Seconds of grace after expiry; default 0. */
  clockSkewSeconds?: number;
}

export declare class TokenError extends Error {
  name: 'TokenError';
  code: 'UNAUTHORIZED';
  reason: 'malformed' | 'signature' | 'version' | 'expired' | 'cluster' | 'node';
}

/** The claims of a token signed with `secret`, checked as the relay checks it; throws `TokenError`. */
export declare function verifyToken(token: string, options: VerifyTokenOptions): TokenClaims;
