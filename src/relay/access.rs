//! Who may connect and join: the browser origin allowlist (checked on the upgrade request)
//! and the join token (checked on the hello). Pure: the caller passes the time.

use super::frame::Hello;
use super::token::{self, Secret, TokenError};

/// The access settings, from [`super::Config`].
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// With a secret every hello needs a valid token; without, the relay is open.
    pub secret: Option<Secret>,
    /// Seconds of grace after a token's expiry, for clocks that disagree.
    pub clock_skew_s: u64,
    /// Origins allowed to open a WebSocket (`https://app.example`), compared ignoring ASCII
    /// case. Empty: any origin, and requests without one.
    pub allowed_origins: Vec<String>,
    /// With an allowlist: whether a request without an `Origin` header (not a browser:
    /// Node.js, a native client) is allowed.
    pub allow_no_origin: bool,
}

impl Access {
    /// Whether a WebSocket upgrade with this `Origin` header (if any) is allowed.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        if self.allowed_origins.is_empty() {
            return true;
        }
        match origin {
            None => self.allow_no_origin,
            Some(origin) => {
                let origin = origin.trim_end_matches('/');
                self.allowed_origins
                    .iter()
                    .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
            }
        }
    }

    /// Whether `hello` may join, at `now` (Unix seconds).
    pub fn authorize(&self, hello: &Hello, now: u64) -> Result<(), TokenError> {
        let Some(secret) = &self.secret else {
            return Ok(());
        };
        token::verify(
            secret,
            hello.token.as_deref(),
            hello.cluster.as_str(),
            hello.node.as_str(),
            now,
            self.clock_skew_s,
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let open = Access::default();
        assert!(open.origin_allowed(None));
        assert!(open.origin_allowed(Some("https://evil.example")));
        let list = Access {
            allowed_origins: vec![
                "https://app.example".into(),
                "http://127.0.0.1:8080/".into(),
            ],
            ..Access::default()
        };
        assert!(list.origin_allowed(Some("https://app.example")));
        assert!(list.origin_allowed(Some("HTTPS://APP.example")));
        assert!(list.origin_allowed(Some("http://127.0.0.1:8080")));
        assert!(!list.origin_allowed(Some("https://app.example.evil")));
        assert!(!list.origin_allowed(Some("http://app.example")));
        assert!(!list.origin_allowed(Some("null")));
        assert!(!list.origin_allowed(None));
        let with_native = Access {
            allow_no_origin: true,
            ..list
        };
        assert!(with_native.origin_allowed(None));
        assert!(!with_native.origin_allowed(Some("https://evil.example")));
    }
}
