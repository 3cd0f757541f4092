//! The relay's wire format, as pure functions: the binary data frames and the JSON control
//! messages (see the protocol in [`crate::relay`]). No IO here; both the relay and a client
//! (the tests, a native host) parse and build frames with it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// First byte of a unicast frame (client → relay: to one node; relay → client: from one node).
pub const UNICAST: u8 = 0x01;
/// First byte of a broadcast frame (to, or from, every other node of the cluster).
pub const BROADCAST: u8 = 0x02;
/// First byte of a signalling frame: addressed like a unicast, forwarded like one, counted
/// apart in `/stats` (WebRTC offers, answers and ICE candidates between two nodes).
pub const SIGNAL: u8 = 0x03;
/// The longest cluster name and node id, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Close code when the relay requires a token and the hello's is missing or not valid.
pub const CLOSE_UNAUTHORIZED: u16 = 4001;
/// Close code after a refused hello.
pub const CLOSE_BAD_HELLO: u16 = 4002;
/// Close code when the upgrade request's `Origin` is not on the relay's allowlist.
pub const CLOSE_ORIGIN_NOT_ALLOWED: u16 = 4003;
/// Close code for a connection that kept sending above its message rate.
pub const CLOSE_RATE_LIMITED: u16 = 4008;
/// Close code when the hello claims a node id that is live in the cluster.
pub const CLOSE_NODE_ID_IN_USE: u16 = 4009;
/// Close code when the cluster already has the most connections the relay allows.
pub const CLOSE_CLUSTER_FULL: u16 = 4029;
/// Close code for a frame larger than the WebSocket layer accepts (RFC 6455 "message too big").
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code when the relay shuts down, or drops a peer that stopped answering pings.
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// A cluster name: 1..=64 characters from `[A-Za-z0-9_.-]`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterName(Arc<str>);

/// A node id as the relay sees it: 1..=64 printable ASCII characters, no spaces
/// (bytes `0x21..=0x7e`). It is the core's `NodeId` of the node behind the connection.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeName(Arc<str>);

impl ClusterName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
        if s.is_empty() || s.len() > MAX_NAME_LEN || !s.bytes().all(ok) {
            return Err(format!(
                "cluster must be 1..={MAX_NAME_LEN} characters from [A-Za-z0-9_.-]"
            ));
        }
        Ok(ClusterName(Arc::from(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl NodeName {
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::from_bytes(s.as_bytes()).ok_or_else(|| {
            format!("node id must be 1..={MAX_NAME_LEN} printable ASCII characters without spaces")
        })
    }

    /// The node id spelled by `bytes`, if they are a valid one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let valid = !bytes.is_empty()
            && bytes.len() <= MAX_NAME_LEN
            && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
        // Printable ASCII is valid UTF-8.
        valid.then(|| NodeName(Arc::from(std::str::from_utf8(bytes).unwrap_or_default())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_like {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }
    };
}
string_like!(ClusterName);
string_like!(NodeName);

/// Unicast or broadcast: the first byte of every data frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Unicast,
    Broadcast,
    Signal,
}

impl Kind {
    pub fn byte(self) -> u8 {
        match self {
            Kind::Unicast => UNICAST,
            Kind::Broadcast => BROADCAST,
            Kind::Signal => SIGNAL,
        }
    }
}

/// Why a binary frame was not accepted. Its `Display` is the `message` of `MALFORMED_FRAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Malformed {
    Empty,
    UnknownKind(u8),
    /// The frame ends inside its header (the id length byte or the id).
    Truncated,
    /// The id in the header is not a valid node id.
    BadNodeId,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Empty => f.write_str("empty frame"),
            Malformed::UnknownKind(b) => {
                write!(
                    f,
                    "unknown frame kind 0x{b:02x} (expected 0x01, 0x02 or 0x03)"
                )
            }
            Malformed::Truncated => f.write_str("frame ends inside its header"),
            Malformed::BadNodeId => f.write_str("the node id in the header is not a valid node id"),
        }
    }
}

/// A data frame a client sent to the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// `[0x01][dest_len][dest][payload]`
    Unicast { to: NodeName, payload: &'a [u8] },
    /// `[0x02][payload]`
    Broadcast { payload: &'a [u8] },
    /// `[0x03][dest_len][dest][payload]`
    Signal { to: NodeName, payload: &'a [u8] },
}

/// Parses a client's data frame. Never panics, whatever the bytes.
pub fn parse_inbound(frame: &[u8]) -> Result<Inbound<'_>, Malformed> {
    match frame.first() {
        None => Err(Malformed::Empty),
        Some(&UNICAST) => {
            let (to, payload) = split_addressed(frame)?;
            Ok(Inbound::Unicast { to, payload })
        }
        Some(&BROADCAST) => Ok(Inbound::Broadcast {
            payload: &frame[1..],
        }),
        Some(&SIGNAL) => {
            let (to, payload) = split_addressed(frame)?;
            Ok(Inbound::Signal { to, payload })
        }
        Some(&other) => Err(Malformed::UnknownKind(other)),
    }
}

/// A data frame the relay delivered to a client, with the sender it stamped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery<'a> {
    pub kind: Kind,
    pub from: NodeName,
    pub payload: &'a [u8],
}

/// Parses a data frame the relay delivered (`[kind][src_len][src][payload]`). Never panics.
pub fn parse_delivery(frame: &[u8]) -> Result<Delivery<'_>, Malformed> {
    let kind = match frame.first() {
        None => return Err(Malformed::Empty),
        Some(&UNICAST) => Kind::Unicast,
        Some(&BROADCAST) => Kind::Broadcast,
        Some(&SIGNAL) => Kind::Signal,
        Some(&other) => return Err(Malformed::UnknownKind(other)),
    };
    let (from, payload) = split_addressed(frame)?;
    Ok(Delivery {
        kind,
        from,
        payload,
    })
}

/// `[kind][len][id: len bytes][rest]` → `(id, rest)`.
fn split_addressed(frame: &[u8]) -> Result<(NodeName, &[u8]), Malformed> {
    let len = usize::from(*frame.get(1).ok_or(Malformed::Truncated)?);
    let id = frame.get(2..2 + len).ok_or(Malformed::Truncated)?;
    let name = NodeName::from_bytes(id).ok_or(Malformed::BadNodeId)?;
    Ok((name, &frame[2 + len..]))
}

fn addressed(kind: Kind, id: &NodeName, payload: &[u8]) -> Vec<u8> {
    let id = id.as_str().as_bytes();
    let mut out = Vec::with_capacity(2 + id.len() + payload.len());
    out.push(kind.byte());
    // A NodeName is at most 64 bytes long.
    out.push(id.len() as u8);
    out.extend_from_slice(id);
    out.extend_from_slice(payload);
    out
}

/// Client → relay: `payload` for node `to`.
pub fn unicast(to: &NodeName, payload: &[u8]) -> Vec<u8> {
    addressed(Kind::Unicast, to, payload)
}

/// Client → relay: signalling `payload` for node `to`.
pub fn signal(to: &NodeName, payload: &[u8]) -> Vec<u8> {
    addressed(Kind::Signal, to, payload)
}

/// Client → relay: `payload` for every other node of the cluster.
pub fn broadcast(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + payload.len());
    out.push(BROADCAST);
    out.extend_from_slice(payload);
    out
}

/// Relay → client: `payload`, sent by `from`, delivered as `kind`.
pub fn delivery(kind: Kind, from: &NodeName, payload: &[u8]) -> Vec<u8> {
    addressed(kind, from, payload)
}

/// The stable error codes of `{"type":"error"}` control messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadHello,
    NodeIdInUse,
    UnknownDestination,
    MalformedFrame,
    FrameTooLarge,
    Unauthorized,
    OriginNotAllowed,
    ClusterFull,
    RateLimited,
}

/// The JSON control messages, carried in TEXT frames. `hello` goes client → relay; the
/// others relay → client. Unknown fields are ignored, so later versions can add some.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Control {
    Hello {
        cluster: String,
        node: String,
        /// The join token, when the relay requires one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    Welcome {
        node: String,
        peers: Vec<String>,
    },
    Joined {
        node: String,
    },
    Left {
        node: String,
    },
    Error {
        code: ErrorCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// Relay → the sender: `count` of its data frames for `node` were not delivered, for
    /// `reason`. Sent for every frame the relay drops after accepting it (the refusals that
    /// have an error message of their own, such as `UNKNOWN_DESTINATION`, are not repeated).
    Dropped {
        node: String,
        reason: DropReason,
        count: u64,
    },
}

/// Why the relay dropped frames it had accepted (the `reason` of a `dropped` notice).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The destination's outbound queue stayed full for the longest wait (`--queue-wait-ms`):
    /// it does not read fast enough.
    QueueFull,
    /// The destination left while the frame waited for room in its queue.
    Left,
}

impl Control {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Control {
        Control::Error {
            code,
            node: None,
            message: Some(message.into()),
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising these plain enums and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Control, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// A valid hello: the cluster to join, the node id to join as, and the join token if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    pub cluster: ClusterName,
    pub node: NodeName,
    pub token: Option<String>,
}

/// Parses a client's first TEXT frame; the error is the `message` of `BAD_HELLO`.
pub fn parse_hello(text: &str) -> Result<Hello, String> {
    match Control::from_json(text)? {
        Control::Hello {
            cluster,
            node,
            token,
        } => Ok(Hello {
            cluster: ClusterName::parse(&cluster)?,
            node: NodeName::parse(&node)?,
            token,
        }),
        _ => Err("the first message must be {\"type\":\"hello\",...}".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(s: &str) -> NodeName {
        NodeName::parse(s).unwrap()
    }

    #[test]
    fn names_follow_the_documented_rules() {
        assert!(ClusterName::parse("demo-1_a.b").is_ok());
        assert!(ClusterName::parse(&"c".repeat(64)).is_ok());
        for bad in ["", "a b", "a/b", "é", &"c".repeat(65)] {
            assert!(ClusterName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(NodeName::parse("Sx@3~!").is_ok());
        assert!(NodeName::parse(&"n".repeat(64)).is_ok());
        for bad in ["", "a b", "tab\t", "é", "\u{7f}", &"n".repeat(65)] {
            assert!(NodeName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn inbound_frames_parse() {
        assert_eq!(
            parse_inbound(&[1, 2, b'S', b'y', 9, 9]),
            Ok(Inbound::Unicast {
                to: name("Sy"),
                payload: &[9, 9]
            })
        );
        assert_eq!(parse_inbound(&[2]), Ok(Inbound::Broadcast { payload: &[] }));
        assert_eq!(parse_inbound(&[]), Err(Malformed::Empty));
        assert_eq!(parse_inbound(&[7, 1]), Err(Malformed::UnknownKind(7)));
        assert_eq!(parse_inbound(&[1]), Err(Malformed::Truncated));
        assert_eq!(parse_inbound(&[1, 3, b'a']), Err(Malformed::Truncated));
        assert_eq!(parse_inbound(&[1, 0, 5]), Err(Malformed::BadNodeId));
        assert_eq!(parse_inbound(&[1, 1, b' ']), Err(Malformed::BadNodeId));
    }

    #[test]
    fn deliveries_stamp_the_sender() {
        let frame = delivery(Kind::Broadcast, &name("Sx"), b"hi");
        assert_eq!(frame, [2, 2, b'S', b'x', b'h', b'i']);
        let d = parse_delivery(&frame).unwrap();
        assert_eq!(
            (d.kind, d.from.as_str(), d.payload),
            (Kind::Broadcast, "Sx", &b"hi"[..])
        );
    }

    #[test]
    fn control_messages_have_the_documented_json() {
        let cases = [
            (
                Control::Welcome {
                    node: "a".into(),
                    peers: vec!["b".into()],
                },
                r#"{"type":"welcome","node":"a","peers":["b"]}"#,
            ),
            (
                Control::Joined { node: "a".into() },
                r#"{"type":"joined","node":"a"}"#,
            ),
            (
                Control::Left { node: "a".into() },
                r#"{"type":"left","node":"a"}"#,
            ),
            (
                Control::Error {
                    code: ErrorCode::UnknownDestination,
                    node: Some("z".into()),
                    message: None,
                },
                r#"{"type":"error","code":"UNKNOWN_DESTINATION","node":"z"}"#,
            ),
            (
                Control::error(ErrorCode::BadHello, "no"),
                r#"{"type":"error","code":"BAD_HELLO","message":"no"}"#,
            ),
            (
                Control::Dropped {
                    node: "b".into(),
                    reason: DropReason::QueueFull,
                    count: 3,
                },
                r#"{"type":"dropped","node":"b","reason":"queue_full","count":3}"#,
            ),
        ];
        for (control, json) in cases {
            assert_eq!(control.to_json(), json);
            assert_eq!(Control::from_json(json), Ok(control));
        }
    }

    #[test]
    fn hello_is_validated() {
        let ok = parse_hello(r#"{"type":"hello","cluster":"demo","node":"Sx","extra":1}"#);
        assert_eq!(ok.unwrap().node.as_str(), "Sx");
        let with_token =
            parse_hello(r#"{"type":"hello","cluster":"demo","node":"Sx","token":"t.m"}"#);
        assert_eq!(with_token.unwrap().token.as_deref(), Some("t.m"));
        for bad in [
            "",
            "hello",
            "{}",
            r#"{"type":"joined","node":"Sx"}"#,
            r#"{"type":"hello","cluster":"demo"}"#,
            r#"{"type":"hello","cluster":"de mo","node":"Sx"}"#,
            r#"{"type":"hello","cluster":"demo","node":"S x"}"#,
            r#"{"type":"hello","cluster":"demo","node":1}"#,
            r#"{"type":"hello","cluster":"demo","node":"Sx","token":7}"#,
        ] {
            assert!(parse_hello(bad).is_err(), "{bad}");
        }
    }

    fn node_name() -> impl Strategy<Value = NodeName> {
        "[!-~]{1,64}".prop_map(|s| NodeName::parse(&s).unwrap())
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_inbound(&bytes);
            let _ = parse_delivery(&bytes);
            let _ = NodeName::from_bytes(&bytes);
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}") {
            let _ = parse_hello(&text);
            let _ = Control::from_json(&text);
        }

        #[test]
        fn unicast_round_trips(to in node_name(), payload in proptest::collection::vec(any::<u8>(), 0..100)) {
            let frame = unicast(&to, &payload);
            prop_assert_eq!(parse_inbound(&frame), Ok(Inbound::Unicast { to, payload: &payload }));
        }

        #[test]
        fn broadcast_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..100)) {
            let frame = broadcast(&payload);
            prop_assert_eq!(parse_inbound(&frame), Ok(Inbound::Broadcast { payload: &payload }));
        }

        #[test]
        fn delivery_round_trips(from in node_name(), unicast in any::<bool>(), payload in proptest::collection::vec(any::<u8>(), 0..100)) {
            let kind = if unicast { Kind::Unicast } else { Kind::Broadcast };
            let frame = delivery(kind, &from, &payload);
            prop_assert_eq!(parse_delivery(&frame), Ok(Delivery { kind, from, payload: &payload }));
        }
    }
}
