//! An in-process link to a relay written in JavaScript: the edge relay's own node is a member
//! of the room it relays, so it speaks the relay protocol without a socket. The endpoint is
//! any object with
//!
//! - `connect(hello, deliver, closed)`: `hello` is the hello message (JSON text, exactly what
//!   a WebSocket client sends first); the relay answers through `deliver(data)` with what it
//!   would send down a socket (TEXT as a string, BINARY as a `Uint8Array`), and calls
//!   `closed(code, reason)` when it ends the connection;
//! - `send(frame)`: one BINARY frame from the node (`Uint8Array`, the client → relay layout);
//! - `close()`: the node leaves (the relay announces `left`).
//!
//! Deliveries are handed to the node in a later microtask, in order, so the relay may call
//! `deliver` from inside `send` without re-entering the node.

use super::transport::{parse_control, parse_frame, RelayEvent};
use js_sys::{Function, Reflect, Uint8Array};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;

pub struct JsLink {
    endpoint: JsValue,
    send: Function,
    close: Function,
    open: Rc<Cell<bool>>,
    _deliver: Closure<dyn FnMut(JsValue)>,
    _closed: Closure<dyn FnMut(JsValue, JsValue)>,
}

impl JsLink {
    /// Connect through `endpoint` and say hello; events go to `sink`.
    pub fn connect(
        endpoint: &JsValue,
        hello: &str,
        sink: Rc<dyn Fn(RelayEvent)>,
    ) -> Result<JsLink, String> {
        let method = |name: &str| {
            Reflect::get(endpoint, &name.into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .ok_or_else(|| format!("a relay endpoint needs a `{name}` method"))
        };
        let (connect, send, close) = (method("connect")?, method("send")?, method("close")?);
        let open = Rc::new(Cell::new(true));
        let (o, s) = (open.clone(), sink.clone());
        let deliver = Closure::<dyn FnMut(JsValue)>::new(move |data: JsValue| {
            if !o.get() {
                return;
            }
            let event = match data.as_string() {
                Some(text) => parse_control(&text),
                None if data.is_instance_of::<Uint8Array>() => {
                    parse_frame(&Uint8Array::new(&data).to_vec())
                }
                None => Some(RelayEvent::BadFrame),
            };
            if let Some(e) = event {
                let s = s.clone();
                spawn_local(async move { s(e) });
            }
        });
        let o = open.clone();
        let closed =
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |code: JsValue, reason: JsValue| {
                if !o.replace(false) {
                    return;
                }
                let event = RelayEvent::Closed {
                    code: code.as_f64().unwrap_or(1006.0) as u16,
                    reason: reason.as_string().unwrap_or_default(),
                    opened: true,
                };
                let s = sink.clone();
                spawn_local(async move { s(event) });
            });
        connect
            .call3(
                endpoint,
                &hello.into(),
                deliver.as_ref().unchecked_ref(),
                closed.as_ref().unchecked_ref(),
            )
            .map_err(|e| super::values::describe(&e))?;
        Ok(JsLink {
            endpoint: endpoint.clone(),
            send,
            close,
            open,
            _deliver: deliver,
            _closed: closed,
        })
    }

    pub fn send_raw(&self, frame: &[u8]) -> bool {
        if !self.open.get() {
            return false;
        }
        let copy = Uint8Array::from(frame);
        match self.send.call1(&self.endpoint, &copy) {
            Ok(v) => v.as_bool() != Some(false),
            Err(_) => false,
        }
    }

    pub fn is_open(&self) -> bool {
        self.open.get()
    }

    pub fn close(&self) {
        if self.open.replace(false) {
            let _ = self.close.call0(&self.endpoint);
        }
    }
}
