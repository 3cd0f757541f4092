//! One `RTCPeerConnection` with one data channel: negotiated (both sides create it with id 0,
//! so no `ondatachannel` is needed), ordered and reliable, carrying binary chunks. Its
//! callbacks become [`PeerEvent`]s for the link manager (`mod.rs`); it knows nothing of
//! sessions, policy or the core.

use js_sys::{ArrayBuffer, Uint8Array};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    MessageEvent, RtcConfiguration, RtcDataChannel, RtcDataChannelInit, RtcIceCandidateInit,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcSessionDescriptionInit,
};

/// A string property of a JS object (`readyState`, `connectionState`): read through
/// `Reflect` rather than web-sys' enum conversions, which keeps the wasm smaller.
fn string_prop(o: &JsValue, k: &str) -> Option<String> {
    js_sys::Reflect::get(o, &k.into()).ok()?.as_string()
}

/// What a peer connection reports.
#[derive(Debug)]
pub enum PeerEvent {
    /// The local offer (or answer) is set: send it to the other side.
    Description { offer: bool, sdp: String },
    /// A local ICE candidate to trickle to the other side.
    Candidate {
        candidate: String,
        mid: Option<String>,
        line: Option<u16>,
    },
    /// The data channel opened.
    Open,
    /// One chunk arrived on the data channel.
    Chunk(Vec<u8>),
    /// The data channel closed.
    Closed,
    /// Negotiation or ICE failed.
    Failed,
}

pub type Sink = Rc<dyn Fn(PeerEvent)>;

pub struct Peer {
    pc: RtcPeerConnection,
    dc: RtcDataChannel,
    /// The remote description is set: remote candidates can be added.
    remote_set: Rc<Cell<bool>>,
    pending: Rc<RefCell<Vec<RtcIceCandidateInit>>>,
    sink: Sink,
    _on_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_state: Closure<dyn FnMut(JsValue)>,
    _on_open: Closure<dyn FnMut(JsValue)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

thread_local! {
    /// Swallows a rejected `addIceCandidate`: a candidate the browser refuses is not fatal
    /// (others may work). One shared function, never freed.
    static IGNORE: Closure<dyn FnMut(JsValue)> = Closure::new(|_: JsValue| {});
}

fn add_candidate(pc: &RtcPeerConnection, c: &RtcIceCandidateInit) {
    let p = pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(c));
    IGNORE.with(|f| {
        let _ = p.catch(f);
    });
}

/// True where this JS environment has WebRTC (browsers; not Node.js).
pub fn supported() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &"RTCPeerConnection".into()).unwrap_or(false)
}

impl Peer {
    /// A new connection with `ice_servers` (an array of `RTCIceServer`s, or undefined).
    pub fn new(ice_servers: &JsValue, sink: Sink) -> Option<Peer> {
        let config = RtcConfiguration::new();
        if !ice_servers.is_undefined() && !ice_servers.is_null() {
            config.set_ice_servers(ice_servers);
        }
        let pc = RtcPeerConnection::new_with_configuration(&config).ok()?;
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(0);
        init.set_ordered(true);
        let dc = pc.create_data_channel_with_data_channel_dict("ringlet", &init);
        let _ = js_sys::Reflect::set(&dc, &"binaryType".into(), &"arraybuffer".into());

        let s = sink.clone();
        let on_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
            move |ev: RtcPeerConnectionIceEvent| {
                if let Some(c) = ev.candidate() {
                    let candidate = c.candidate();
                    if !candidate.is_empty() {
                        s(PeerEvent::Candidate {
                            candidate,
                            mid: c.sdp_mid(),
                            line: c.sdp_m_line_index(),
                        });
                    }
                }
            },
        );
        let s = sink.clone();
        let conn = pc.clone();
        let on_state = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            match string_prop(&conn, "connectionState").as_deref() {
                Some("failed") => s(PeerEvent::Failed),
                Some("closed") => s(PeerEvent::Closed),
                _ => {}
            }
        });
        let s = sink.clone();
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| s(PeerEvent::Open));
        let s = sink.clone();
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| s(PeerEvent::Closed));
        let s = sink.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            match ev.data().dyn_ref::<ArrayBuffer>() {
                Some(buf) => s(PeerEvent::Chunk(Uint8Array::new(buf).to_vec())),
                // Text is not part of this protocol: an empty chunk is refused as such.
                None => s(PeerEvent::Chunk(Vec::new())),
            }
        });
        pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        dc.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        dc.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        dc.set_onerror(Some(on_close.as_ref().unchecked_ref()));
        dc.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(Peer {
            pc,
            dc,
            remote_set: Rc::new(Cell::new(false)),
            pending: Rc::new(RefCell::new(Vec::new())),
            sink,
            _on_candidate: on_candidate,
            _on_state: on_state,
            _on_open: on_open,
            _on_close: on_close,
            _on_message: on_message,
        })
    }

    /// Create and set the local offer; reports `Description { offer: true }`.
    pub fn offer(&self) {
        self.negotiate(None, Some(true));
    }

    /// Apply the remote offer, then create and set the answer; reports
    /// `Description { offer: false }`.
    pub fn answer(&self, sdp: &str) {
        self.negotiate(Some(("offer", sdp)), Some(false));
    }

    /// Apply the remote answer.
    pub fn accept_answer(&self, sdp: &str) {
        self.negotiate(Some(("answer", sdp)), None);
    }

    /// Apply `remote` (then add the candidates queued for it), then create and set a local
    /// offer (`Some(true)`) or answer (`Some(false)`) and report it. One future for every
    /// step of the negotiation; any failure reports `Failed`.
    fn negotiate(&self, remote: Option<(&str, &str)>, create_offer: Option<bool>) {
        // `{ type, sdp }` as a plain object (no web-sys enum conversion: a smaller wasm).
        let remote = remote.map(|(kind, sdp)| {
            let desc = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&desc, &"type".into(), &kind.into());
            let _ = js_sys::Reflect::set(&desc, &"sdp".into(), &sdp.into());
            desc.unchecked_into::<RtcSessionDescriptionInit>()
        });
        let pc = self.pc.clone();
        let sink = self.sink.clone();
        let remote_set = self.remote_set.clone();
        let pending = self.pending.clone();
        spawn_local(async move {
            let r = async {
                if let Some(desc) = remote {
                    JsFuture::from(pc.set_remote_description(&desc)).await?;
                    remote_set.set(true);
                    for c in pending.borrow_mut().drain(..) {
                        add_candidate(&pc, &c);
                    }
                }
                let Some(offer) = create_offer else {
                    return Ok(None);
                };
                let local = if offer {
                    pc.create_offer()
                } else {
                    pc.create_answer()
                };
                let local = JsFuture::from(local).await?;
                JsFuture::from(pc.set_local_description(local.unchecked_ref())).await?;
                let local = js_sys::Reflect::get(&pc, &"localDescription".into())?;
                let sdp = string_prop(&local, "sdp").unwrap_or_default();
                Ok::<_, JsValue>(Some((offer, sdp)))
            };
            match r.await {
                Ok(Some((offer, sdp))) => sink(PeerEvent::Description { offer, sdp }),
                Ok(None) => {}
                Err(_) => sink(PeerEvent::Failed),
            }
        });
    }

    /// A remote ICE candidate (queued until the remote description is set).
    pub fn add_candidate(&self, candidate: &str, mid: Option<&str>, line: Option<u16>) {
        let init = RtcIceCandidateInit::new(candidate);
        init.set_sdp_mid(mid);
        init.set_sdp_m_line_index(line);
        if self.remote_set.get() {
            add_candidate(&self.pc, &init);
        } else {
            self.pending.borrow_mut().push(init);
        }
    }

    pub fn is_open(&self) -> bool {
        string_prop(&self.dc, "readyState").as_deref() == Some("open")
    }

    /// Bytes handed to the channel and not sent yet.
    pub fn buffered(&self) -> u32 {
        self.dc.buffered_amount()
    }

    /// Send one chunk; false when the channel refused it (not open, or its buffer is full).
    pub fn send(&self, chunk: &[u8]) -> bool {
        self.is_open() && self.dc.send_with_u8_array(chunk).is_ok()
    }

    /// Start closing the data channel gracefully: it still delivers what the other side
    /// already sent, then reports `Closed`.
    pub fn close_channel(&self) {
        self.dc.close();
    }

    /// Close the channel and the connection; no event is reported after this.
    pub fn close(&self) {
        self.pc.set_onicecandidate(None);
        self.pc.set_onconnectionstatechange(None);
        self.dc.set_onopen(None);
        self.dc.set_onclose(None);
        self.dc.set_onerror(None);
        self.dc.set_onmessage(None);
        self.dc.close();
        self.pc.close();
    }
}
