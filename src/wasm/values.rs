//! JavaScript values, keys and contexts to and from the bytes the core stores (§4.1: the
//! core treats values and keys as opaque bytes; the context is opaque to the client).
//!
//! A value is stored as one tag byte and its bytes, so it comes back as the type it was
//! given:
//!
//! | JS value | stored | comes back as |
//! | --- | --- | --- |
//! | `Uint8Array` (also a Node `Buffer`), `ArrayBuffer` | `0xB0` + bytes | `Uint8Array` |
//! | string | `0xB1` + UTF-8 | string |
//! | other JSON-serialisable data (objects, arrays, numbers, booleans, `null`) | `0xB2` + `JSON.stringify` | `JSON.parse` of it |
//!
//! Bytes without a known tag (written by another kind of client) come back as a
//! `Uint8Array` of all the bytes. `undefined`, functions, symbols, `BigInt`s and typed arrays
//! other than `Uint8Array` are refused with `INVALID_ARGUMENT`.
//!
//! A key is a string (its UTF-8 bytes) or a `Uint8Array` (its bytes), so `"a"` and
//! `Uint8Array.of(0x61)` name the same key. A context is handed out as a base64 string and
//! accepted as that string or as its bytes in a `Uint8Array`.

use super::errors::invalid;
use crate::core::context::Context;
use crate::core::Bytes;
use js_sys::{ArrayBuffer, Uint8Array, JSON};
use wasm_bindgen::{JsCast, JsValue};

pub const TAG_BYTES: u8 = 0xB0;
pub const TAG_STRING: u8 = 0xB1;
pub const TAG_JSON: u8 = 0xB2;

/// The longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 64 * 1024;

/// A value to its stored bytes (tag + payload).
pub fn value_to_bytes(v: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(tagged(TAG_STRING, s.as_bytes()));
    }
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(tagged(TAG_BYTES, &a.to_vec()));
    }
    if let Some(b) = v.dyn_ref::<ArrayBuffer>() {
        return Ok(tagged(TAG_BYTES, &Uint8Array::new(b).to_vec()));
    }
    if ArrayBuffer::is_view(v) {
        return Err(invalid(
            "values may be a Uint8Array, an ArrayBuffer, a string or JSON data; other typed arrays are not accepted",
        ));
    }
    if v.is_undefined() || v.is_function() || v.is_symbol() || v.is_bigint() {
        return Err(invalid(format!(
            "a value of type {} cannot be stored (use a Uint8Array, a string or JSON data)",
            v.js_typeof().as_string().unwrap_or_default()
        )));
    }
    let json = JSON::stringify(v).map_err(|e| {
        invalid(format!(
            "the value is not JSON-serialisable: {}",
            describe(&e)
        ))
    })?;
    match json.as_string() {
        Some(text) => Ok(tagged(TAG_JSON, text.as_bytes())),
        None => Err(invalid("the value is not JSON-serialisable")),
    }
}

/// Stored bytes back to the value that was written.
pub fn value_from_bytes(b: &[u8]) -> JsValue {
    let raw = || Uint8Array::from(b).into();
    match b.split_first() {
        Some((&TAG_BYTES, rest)) => Uint8Array::from(rest).into(),
        Some((&TAG_STRING, rest)) => match std::str::from_utf8(rest) {
            Ok(s) => JsValue::from_str(s),
            Err(_) => raw(),
        },
        Some((&TAG_JSON, rest)) => std::str::from_utf8(rest)
            .ok()
            .and_then(|s| JSON::parse(s).ok())
            .unwrap_or_else(raw),
        _ => raw(),
    }
}

/// A key (string or `Uint8Array`) to its bytes.
pub fn key_to_bytes(k: &JsValue) -> Result<Bytes, JsValue> {
    let bytes = if let Some(s) = k.as_string() {
        s.into_bytes()
    } else if let Some(a) = k.dyn_ref::<Uint8Array>() {
        a.to_vec()
    } else {
        return Err(invalid("a key must be a string or a Uint8Array"));
    };
    if bytes.is_empty() {
        return Err(invalid("a key must not be empty"));
    }
    if bytes.len() > MAX_KEY_BYTES {
        return Err(invalid(format!(
            "a key must be at most {MAX_KEY_BYTES} bytes, got {}",
            bytes.len()
        )));
    }
    Ok(Bytes::new(&bytes))
}

/// A key for events and listings: a string when it is UTF-8, else a `Uint8Array`.
pub fn key_to_js(k: &[u8]) -> JsValue {
    match std::str::from_utf8(k) {
        Ok(s) => JsValue::from_str(s),
        Err(_) => Uint8Array::from(k).into(),
    }
}

/// The opaque context a get returns: base64 of the core's canonical context bytes.
pub fn context_to_js(c: &Context) -> JsValue {
    JsValue::from_str(&base64_encode(&c.to_bytes()))
}

/// A context passed back by the app: `undefined`/`null` (none: a blind write), a base64
/// string or a `Uint8Array`.
pub fn context_from_js(v: &JsValue) -> Result<Option<Context>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let bytes = if let Some(s) = v.as_string() {
        base64_decode(&s).ok_or_else(|| invalid("the context is not a base64 string"))?
    } else if let Some(a) = v.dyn_ref::<Uint8Array>() {
        a.to_vec()
    } else {
        return Err(invalid(
            "a context must be the string (or Uint8Array) a get returned",
        ));
    };
    Context::from_bytes(&bytes)
        .map(Some)
        .map_err(|e| invalid(format!("the context is not valid: {e}")))
}

fn tagged(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 1);
    v.push(tag);
    v.extend_from_slice(payload);
    v
}

/// The message of a thrown JS value.
pub(crate) fn describe(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode standard base64 (padding optional); `None` on any other character.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone sextet cannot end a valid encoding.
    (bits < 6).then_some(out)
}
