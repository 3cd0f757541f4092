//! The WebSocket to the relay (protocol in `src/relay/mod.rs`): a JSON hello, then binary
//! frames `[0x01][dest_len][dest][payload]` (unicast) out and
//! `[0x01|0x02][src_len][src][payload]` in; signalling frames `[0x03][id_len][id][payload]`
//! both ways. In Node.js the package's entry installs
//! `globalThis.WebSocket` from the `ws` package before this runs.
//!
//! The transport knows nothing of the protocol: it turns socket callbacks into
//! [`RelayEvent`]s for the replica's run loop and node ids plus payloads into frames.

use super::transport_js::JsLink;
use super::values::describe;
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array, JSON};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, MessageEvent, WebSocket};

pub const UNICAST: u8 = 0x01;
pub const BROADCAST: u8 = 0x02;
/// Signalling (WebRTC offers, answers, candidates): addressed and forwarded like a unicast,
/// counted apart by the relay.
pub const SIGNAL: u8 = 0x03;

/// What the relay connection reports to the run loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayEvent {
    /// The relay accepted the hello; `peers` are the other nodes connected in the cluster.
    Welcome {
        peers: Vec<String>,
    },
    Joined(String),
    Left(String),
    /// The relay dropped `count` of this node's frames for `node`, for `reason`
    /// (`queue_full`: that node did not read fast enough; `left`: it left meanwhile).
    Dropped {
        node: String,
        reason: String,
        count: u64,
    },
    /// An error message from the relay (`UNKNOWN_DESTINATION`, `MALFORMED_FRAME`, ...).
    Error {
        code: String,
        message: String,
    },
    /// A data frame from node `from`.
    Frame {
        from: String,
        payload: Vec<u8>,
    },
    /// A signalling frame from node `from` (`src/link/signal.rs`).
    Signal {
        from: String,
        payload: Vec<u8>,
    },
    /// A frame that is not valid relay framing.
    BadFrame,
    /// The socket closed (`code` 1006 when it dropped; 4001, 4003, 4008, 4009 and 4029 are
    /// the relay's refusals).
    /// `opened`: the WebSocket handshake had succeeded (a relay is there).
    Closed {
        code: u16,
        reason: String,
        opened: bool,
    },
}

/// One connection to the relay: a WebSocket, or an in-process link to a relay written in JS
/// (`transport_js.rs`). Dropping it closes the connection.
pub enum Relay {
    Ws(WsRelay),
    Js(JsLink),
}

pub struct WsRelay {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(JsValue)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
}

/// The hello message: the first TEXT frame of a connection (with the join `token` a relay
/// with a secret requires).
pub fn hello(cluster: &str, node: &str, token: Option<&str>) -> String {
    let hello = Object::new();
    let _ = Reflect::set(&hello, &"type".into(), &"hello".into());
    let _ = Reflect::set(&hello, &"cluster".into(), &cluster.into());
    let _ = Reflect::set(&hello, &"node".into(), &node.into());
    if let Some(token) = token {
        let _ = Reflect::set(&hello, &"token".into(), &token.into());
    }
    JSON::stringify(&hello)
        .map(String::from)
        .unwrap_or_default()
}

thread_local! {
    /// The socket's `onerror`: a failed connection is reported by the close event that
    /// follows, but the handler must exist for the socket's whole life (Node's `ws` throws
    /// an unhandled 'error' otherwise, also after `close()`). One shared function, never freed.
    static IGNORE: JsValue = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {}).into_js_value();
}

impl Relay {
    /// Connect to `url` and say hello as `node` of `cluster` (with the join `token` a relay
    /// with a secret requires); events go to `sink`.
    pub fn connect(
        url: &str,
        cluster: &str,
        node: &str,
        token: Option<&str>,
        sink: Rc<dyn Fn(RelayEvent)>,
    ) -> Result<Relay, String> {
        let ws = WebSocket::new(url).map_err(|e| describe(&e))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let hello = hello(cluster, node, token);
        let sock = ws.clone();
        let opened = Rc::new(Cell::new(false));
        let was_opened = opened.clone();
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            was_opened.set(true);
            let _ = sock.send_with_str(&hello);
        });
        let s = sink.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            let event = match data.as_string() {
                Some(text) => parse_control(&text),
                None => match data.dyn_ref::<ArrayBuffer>() {
                    Some(buf) => parse_frame(&Uint8Array::new(buf).to_vec()),
                    None => Some(RelayEvent::BadFrame),
                },
            };
            if let Some(e) = event {
                s(e);
            }
        });
        let s = sink;
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let code = Reflect::get(&ev, &"code".into())
                .ok()
                .and_then(|c| c.as_f64())
                .unwrap_or(1006.0) as u16;
            let reason = Reflect::get(&ev, &"reason".into())
                .ok()
                .and_then(|r| r.as_string())
                .unwrap_or_default();
            s(RelayEvent::Closed {
                code,
                reason,
                opened: opened.get(),
            });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        IGNORE.with(|f| ws.set_onerror(Some(f.unchecked_ref())));
        Ok(Relay::Ws(WsRelay {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        }))
    }

    /// Join through a relay endpoint written in JS, in this process (`transport_js.rs`).
    pub fn connect_js(
        endpoint: &JsValue,
        cluster: &str,
        node: &str,
        sink: Rc<dyn Fn(RelayEvent)>,
    ) -> Result<Relay, String> {
        JsLink::connect(endpoint, &hello(cluster, node, None), sink).map(Relay::Js)
    }

    /// Send `payload` to node `to`. False when the socket is not open or `to` cannot be
    /// framed (an id longer than 255 bytes).
    pub fn send_to(&self, to: &str, payload: &[u8]) -> bool {
        self.send_addressed(UNICAST, to, payload)
    }

    /// Send a signalling `payload` to node `to`.
    pub fn send_signal(&self, to: &str, payload: &[u8]) -> bool {
        self.send_addressed(SIGNAL, to, payload)
    }

    fn send_addressed(&self, kind: u8, to: &str, payload: &[u8]) -> bool {
        if !self.is_open() || to.len() > 255 {
            return false;
        }
        let mut frame = Vec::with_capacity(2 + to.len() + payload.len());
        frame.push(kind);
        frame.push(to.len() as u8);
        frame.extend_from_slice(to.as_bytes());
        frame.extend_from_slice(payload);
        self.send_raw(&frame)
    }

    /// Send raw bytes as one binary frame (tests use it for malformed frames).
    pub fn send_raw(&self, frame: &[u8]) -> bool {
        // A copy owned by JS: `ws` in Node.js may keep the buffer until the socket drains,
        // and a view into wasm memory would change under it.
        match self {
            Relay::Ws(r) => {
                let copy = Uint8Array::from(frame);
                r.ws.send_with_array_buffer(&copy.buffer()).is_ok()
            }
            Relay::Js(link) => link.send_raw(frame),
        }
    }

    pub fn is_open(&self) -> bool {
        match self {
            Relay::Ws(r) => r.ws.ready_state() == WebSocket::OPEN,
            Relay::Js(link) => link.is_open(),
        }
    }

    /// Bytes queued in the socket and not yet sent.
    pub fn buffered(&self) -> u32 {
        match self {
            Relay::Ws(r) => r.ws.buffered_amount(),
            Relay::Js(_) => 0,
        }
    }

    pub fn close(&self) {
        match self {
            Relay::Ws(r) => {
                r.ws.set_onopen(None);
                r.ws.set_onmessage(None);
                r.ws.set_onclose(None);
                let _ = r.ws.close_with_code(1000);
            }
            Relay::Js(link) => link.close(),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.close();
    }
}

/// A binary frame from the relay: `[kind][src_len][src][payload]`.
pub fn parse_frame(b: &[u8]) -> Option<RelayEvent> {
    let bad = Some(RelayEvent::BadFrame);
    let (&kind, rest) = match b.split_first() {
        Some(x) => x,
        None => return bad,
    };
    if kind != UNICAST && kind != BROADCAST && kind != SIGNAL {
        return bad;
    }
    let Some((&len, rest)) = rest.split_first() else {
        return bad;
    };
    let len = len as usize;
    if len == 0 || rest.len() < len {
        return bad;
    }
    let from = match std::str::from_utf8(&rest[..len]) {
        Ok(from) => from.to_string(),
        Err(_) => return bad,
    };
    let payload = rest[len..].to_vec();
    Some(if kind == SIGNAL {
        RelayEvent::Signal { from, payload }
    } else {
        RelayEvent::Frame { from, payload }
    })
}

/// A JSON text message from the relay. Unknown types are ignored.
pub fn parse_control(text: &str) -> Option<RelayEvent> {
    let v = JSON::parse(text).ok()?;
    let get = |k: &str| Reflect::get(&v, &k.into()).ok().and_then(|x| x.as_string());
    match get("type")?.as_str() {
        "welcome" => {
            let peers = Reflect::get(&v, &"peers".into()).ok()?;
            let peers = peers
                .dyn_ref::<Array>()
                .map(|a| a.iter().filter_map(|p| p.as_string()).collect())
                .unwrap_or_default();
            Some(RelayEvent::Welcome { peers })
        }
        "joined" => get("node").map(RelayEvent::Joined),
        "left" => get("node").map(RelayEvent::Left),
        "dropped" => Some(RelayEvent::Dropped {
            node: get("node").unwrap_or_default(),
            reason: get("reason").unwrap_or_default(),
            count: Reflect::get(&v, &"count".into())
                .ok()
                .and_then(|c| c.as_f64())
                .filter(|c| *c >= 1.0)
                .map_or(1, |c| c as u64),
        }),
        "error" => Some(RelayEvent::Error {
            code: get("code").unwrap_or_default(),
            message: get("message").or_else(|| get("node")).unwrap_or_default(),
        }),
        _ => None,
    }
}
