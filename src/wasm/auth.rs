//! The `token` option of `Replica.open` (a relay with a secret needs a join token in the
//! hello), and what the relay's refusals mean for the host.

use super::errors::{self, invalid, js_error};
use super::values::describe;
use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What the timer rejects the race with.
const TIMED_OUT: &str = "ringlet: the token function timed out";

/// The longest token accepted (the relay refuses longer ones too).
const MAX_TOKEN_LEN: usize = 1024;

/// Where the join token comes from.
#[derive(Clone)]
pub enum TokenSource {
    /// An open relay: no token.
    None,
    /// The same token on every connection.
    Fixed(String),
    /// `token({ cluster, node })`, a string or a promise of one, called on every
    /// (re)connection so that each gets a fresh token.
    Call(Function),
}

impl TokenSource {
    /// The `token` option: absent, a string, or a function.
    pub fn from_option(v: &JsValue) -> Result<TokenSource, JsValue> {
        if v.is_undefined() || v.is_null() {
            return Ok(TokenSource::None);
        }
        if let Some(f) = v.dyn_ref::<Function>() {
            return Ok(TokenSource::Call(f.clone()));
        }
        match v.as_string() {
            Some(t) => check(t).map(TokenSource::Fixed).map_err(invalid),
            None => Err(invalid(
                "`token` must be a string or a function returning one (or a promise of one)",
            )),
        }
    }

    pub fn is_call(&self) -> bool {
        matches!(self, TokenSource::Call(_))
    }

    /// The token for the next connection. A function that throws, rejects or returns
    /// something else than a token is an `UNAUTHORIZED` error; one that has not settled
    /// within `within_ms` is a `TIMEOUT`.
    pub async fn fetch(
        &self,
        cluster: &str,
        node: &str,
        within_ms: u64,
    ) -> Result<Option<String>, JsValue> {
        let f = match self {
            TokenSource::None => return Ok(None),
            TokenSource::Fixed(t) => return Ok(Some(t.clone())),
            TokenSource::Call(f) => f.clone(),
        };
        let fail =
            |why: String| js_error(errors::UNAUTHORIZED, format!("the token function {why}"));
        let arg = Object::new();
        let _ = Reflect::set(&arg, &"cluster".into(), &cluster.into());
        let _ = Reflect::set(&arg, &"node".into(), &node.into());
        let returned = f
            .call1(&JsValue::NULL, &arg)
            .map_err(|e| fail(format!("threw: {}", describe(&e))))?;
        // Race the function's promise against a timer, cancelled (dropped) once settled, so
        // that it does not keep a Node.js process alive.
        let mut give_up = None;
        let timer = Promise::new(&mut |_, reject| give_up = Some(reject));
        let expired = JsValue::from_str(TIMED_OUT);
        let _timeout = give_up.map(|reject| {
            let expired = expired.clone();
            Timeout::new(within_ms.min(u64::from(u32::MAX)) as u32, move || {
                let _ = reject.call1(&JsValue::NULL, &expired);
            })
        });
        let raced = Promise::race(&Array::of2(&Promise::resolve(&returned), &timer));
        let value = JsFuture::from(raced).await.map_err(|e| {
            if e == expired {
                js_error(
                    errors::TIMEOUT,
                    format!("the token function gave no token within {within_ms} ms"),
                )
            } else {
                fail(format!("rejected: {}", describe(&e)))
            }
        })?;
        let token = value
            .as_string()
            .ok_or_else(|| fail("did not return a string".into()))?;
        check(token).map(Some).map_err(fail)
    }
}

fn check(token: String) -> Result<String, String> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(format!(
            "returned a token that is empty or longer than {MAX_TOKEN_LEN} characters"
        ));
    }
    Ok(token)
}

/// A relay refusal by close code: the error code the app sees, and whether reconnecting
/// later may succeed (`None` for codes that are not refusals).
pub fn refusal(close_code: u16, tokens_refresh: bool) -> Option<(&'static str, bool)> {
    match close_code {
        // A fresh token may be accepted; the same one never will be.
        4001 => Some((errors::UNAUTHORIZED, tokens_refresh)),
        4003 => Some((errors::ORIGIN_NOT_ALLOWED, false)),
        4008 => Some((errors::RATE_LIMITED, true)),
        4029 => Some((errors::CLUSTER_FULL, true)),
        _ => None,
    }
}
