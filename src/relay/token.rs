//! Join tokens: what a relay with a secret asks of every hello. An app's server, which knows
//! the secret, issues a token for one node id of one cluster; the relay checks it when the
//! node joins. Pure functions (time is a parameter), so both sides and the tests share them.
//!
//! A token is `<payload>.<mac>`, both unpadded base64url: the payload is the JSON
//! `{"v":1,"cluster":"<name>","node":"<id>","exp":<unix seconds>}` and the mac is
//! HMAC-SHA256 under the secret of the payload's base64url text, exactly as sent. The JS
//! helper `ringlet/token` (`js/token.js`) builds the same tokens.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;

/// The token format this relay issues and accepts.
pub const VERSION: u32 = 1;
/// The shortest secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 16;
/// Longer tokens are refused unread.
pub const MAX_TOKEN_LEN: usize = 1024;

/// The relay's secret. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    /// At least [`MIN_SECRET_LEN`] bytes.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Secret, String> {
        let bytes = bytes.as_ref();
        if bytes.len() < MIN_SECRET_LEN {
            return Err(format!(
                "the secret must be at least {MIN_SECRET_LEN} bytes long (got {})",
                bytes.len()
            ));
        }
        Ok(Secret(Arc::from(bytes)))
    }

    fn mac(&self, data: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(data);
        mac
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// What a token grants: joining `cluster` as `node` until `exp` (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub v: u32,
    pub cluster: String,
    pub node: String,
    pub exp: u64,
}

/// Why a token was refused; its `Display` is the `message` of `UNAUTHORIZED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    Missing,
    Malformed,
    BadSignature,
    UnsupportedVersion(u32),
    Expired { exp: u64, now: u64 },
    WrongCluster { token: String },
    WrongNode { token: String },
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Missing => f.write_str("this relay requires a token in the hello"),
            TokenError::Malformed => f.write_str("the token is malformed"),
            TokenError::BadSignature => {
                f.write_str("the token's signature is not valid for this relay")
            }
            TokenError::UnsupportedVersion(v) => write!(f, "token version {v} is not supported"),
            TokenError::Expired { exp, now } => {
                write!(f, "the token expired at {exp} (now {now}, Unix seconds)")
            }
            TokenError::WrongCluster { token } => {
                write!(f, "the token is for cluster {token:?}, not this one")
            }
            TokenError::WrongNode { token } => {
                write!(f, "the token is for node {token:?}, not this one")
            }
        }
    }
}

/// A token for `cluster` and `node`, valid until `exp` (Unix seconds).
pub fn issue(secret: &Secret, cluster: &str, node: &str, exp: u64) -> String {
    let claims = Claims {
        v: VERSION,
        cluster: cluster.into(),
        node: node.into(),
        exp,
    };
    // Plain strings and numbers always serialise.
    let payload = base64url_encode(&serde_json::to_vec(&claims).unwrap_or_default());
    let mac = secret.mac(payload.as_bytes()).finalize().into_bytes();
    format!("{payload}.{}", base64url_encode(&mac))
}

/// The claims of a token signed with `secret`, if it has not expired at `now` (Unix
/// seconds; `skew` seconds of grace for clocks that disagree). Never panics.
pub fn decode(secret: &Secret, token: &str, now: u64, skew: u64) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let (payload, mac) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let mac = base64url_decode(mac).ok_or(TokenError::Malformed)?;
    // Constant time.
    secret
        .mac(payload.as_bytes())
        .verify_slice(&mac)
        .map_err(|_| TokenError::BadSignature)?;
    let json = base64url_decode(payload).ok_or(TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
    if claims.v != VERSION {
        return Err(TokenError::UnsupportedVersion(claims.v));
    }
    if now > claims.exp.saturating_add(skew) {
        return Err(TokenError::Expired {
            exp: claims.exp,
            now,
        });
    }
    Ok(claims)
}

/// [`decode`], then the token must name exactly this cluster and node.
pub fn verify(
    secret: &Secret,
    token: Option<&str>,
    cluster: &str,
    node: &str,
    now: u64,
    skew: u64,
) -> Result<Claims, TokenError> {
    let claims = decode(secret, token.ok_or(TokenError::Missing)?, now, skew)?;
    if claims.cluster != cluster {
        return Err(TokenError::WrongCluster {
            token: claims.cluster,
        });
    }
    if claims.node != node {
        return Err(TokenError::WrongNode { token: claims.node });
    }
    Ok(claims)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 §5).
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// The bytes of unpadded base64url text; `None` for anything else, including a
/// non-canonical spelling (so every token has exactly one spelling).
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let sextet = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32);
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        out.extend((0..bytes).map(|i| (n >> (16 - 8 * i)) as u8));
        // The bits past the last byte must be zero.
        if n & (0xff_ffff >> (8 * bytes)) != 0 {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secret() -> Secret {
        Secret::new("0123456789abcdef-test-secret").unwrap()
    }

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url_encode(raw.as_bytes()), enc);
            assert_eq!(base64url_decode(enc).as_deref(), Some(raw.as_bytes()));
        }
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        for bad in ["Z", "Zh", "Zm9=", "Zm+v", "Zm/v", "Zm9v Yg"] {
            assert_eq!(base64url_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_known_token() {
        // The same vector is checked by the JS helper's test (tests/js/token.test.mjs).
        let token = issue(&secret(), "demo", "a", 2_000_000_000);
        assert_eq!(
            token,
            "eyJ2IjoxLCJjbHVzdGVyIjoiZGVtbyIsIm5vZGUiOiJhIiwiZXhwIjoyMDAwMDAwMDAwfQ.\
             1xLAMiIv1rxW2A_wSZ4miAFhlQMGTF-Vj8-voo8gAQY"
        );
    }

    #[test]
    fn tokens_are_checked() {
        let s = secret();
        let t = issue(&s, "demo", "a", 1000);
        let ok = verify(&s, Some(&t), "demo", "a", 1000, 0).unwrap();
        assert_eq!(
            (ok.cluster.as_str(), ok.node.as_str(), ok.exp),
            ("demo", "a", 1000)
        );
        assert!(verify(&s, Some(&t), "demo", "a", 1030, 60).is_ok());
        assert_eq!(
            verify(&s, Some(&t), "demo", "a", 1061, 60),
            Err(TokenError::Expired {
                exp: 1000,
                now: 1061
            })
        );
        assert_eq!(
            verify(&s, Some(&t), "other", "a", 0, 0),
            Err(TokenError::WrongCluster {
                token: "demo".into()
            })
        );
        assert_eq!(
            verify(&s, Some(&t), "demo", "b", 0, 0),
            Err(TokenError::WrongNode { token: "a".into() })
        );
        assert_eq!(
            verify(&s, None, "demo", "a", 0, 0),
            Err(TokenError::Missing)
        );
        let other = Secret::new("another secret of enough length").unwrap();
        assert_eq!(
            verify(&other, Some(&t), "demo", "a", 0, 0),
            Err(TokenError::BadSignature)
        );
        // A payload edited to another node keeps the old mac: refused.
        let (_, mac) = t.split_once('.').unwrap();
        let forged = issue(&other, "demo", "b", 1000);
        let (payload, _) = forged.split_once('.').unwrap();
        assert_eq!(
            verify(&s, Some(&format!("{payload}.{mac}")), "demo", "b", 0, 0),
            Err(TokenError::BadSignature)
        );
        for bad in ["", "x", "a.b.c", ".", &"a".repeat(2000)] {
            assert!(verify(&s, Some(bad), "demo", "a", 0, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_other_than_1_are_refused() {
        let s = secret();
        let payload = base64url_encode(br#"{"v":2,"cluster":"demo","node":"a","exp":9}"#);
        let mac = base64url_encode(&s.mac(payload.as_bytes()).finalize().into_bytes());
        assert_eq!(
            decode(&s, &format!("{payload}.{mac}"), 0, 0),
            Err(TokenError::UnsupportedVersion(2))
        );
    }

    #[test]
    fn short_secrets_are_refused_and_never_printed() {
        assert!(Secret::new("short").is_err());
        assert_eq!(format!("{:?}", secret()), "Secret(..)");
    }

    proptest! {
        #[test]
        fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base64url_decode(&base64url_encode(&bytes)), Some(bytes));
        }

        #[test]
        fn arbitrary_tokens_never_panic(text in ".{0,300}") {
            let _ = decode(&secret(), &text, 0, 0);
            let _ = base64url_decode(&text);
        }
    }
}
