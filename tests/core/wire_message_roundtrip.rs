//! The wire protocol: every message of every variant decodes from its own encoding to an
//! equal message (data, membership gossip with its rumors, failure-detector probes,
//! ownership handoff and Merkle anti-entropy steps alike); a truncated frame is refused;
//! arbitrary bytes never make `decode` panic, and whatever they decode to re-encodes
//! faithfully.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use ringlet::core::gossip::GossipMsg;
use ringlet::core::hashtree::{Children, DiffEntry, Entry, Hash64, Subtree, TreeMsg};
use ringlet::core::membership::{MemberInfo, RingState, Summary};
use ringlet::core::swim::Rumor;
use ringlet::core::{
    Bytes, ClientReply, ClientRequest, Context, Dot, Error, Member, Message, NodeId, Op, Refusal,
    RequestOptions, Resolved, Resolver, ResolverRules, Ring, Siblings, Status, Value, Version,
    VersionVector,
};
use std::collections::BTreeSet;

fn rules() -> impl Strategy<Value = ResolverRules> {
    proptest::collection::vec((bytes(), 0..4usize), 0..4).prop_map(|rs| {
        rs.into_iter().fold(ResolverRules::new(), |acc, (p, i)| {
            acc.with(p.as_slice(), Resolver::ALL[i])
        })
    })
}

fn bytes() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..12).prop_map(Bytes::from)
}

fn node() -> impl Strategy<Value = NodeId> {
    prop_oneof![
        prop::sample::select(vec!["Sx", "Sy", "Sz", "n0", "n1@1000", "n2~7"]).prop_map(NodeId::new),
        "[a-z0-9@~]{1,10}".prop_map(|s| NodeId::new(&s)),
    ]
}

fn dot() -> impl Strategy<Value = Dot> {
    (node(), 1..1_000u64).prop_map(|(n, c)| Dot::new(n, c))
}

fn vv() -> impl Strategy<Value = VersionVector> {
    prop::collection::vec((node(), 0..50u64), 0..4).prop_map(|pairs| {
        let mut vv = VersionVector::new();
        for (n, c) in pairs {
            vv.raise(&n, c);
        }
        vv
    })
}

fn siblings() -> impl Strategy<Value = Siblings> {
    let value = prop_oneof![bytes().prop_map(Value::Data), Just(Value::Tombstone)];
    let version = (dot(), vv(), value, any::<u64>()).prop_map(|(dot, past, value, ts)| Version {
        dot,
        past,
        value,
        timestamp_ms: ts,
    });
    prop::collection::vec(version, 0..4).prop_map(Siblings::from_versions)
}

fn options() -> impl Strategy<Value = RequestOptions> {
    (
        prop::option::of(0..5usize),
        prop::option::of(0..5usize),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(r, w, durable, timeout_ms)| RequestOptions {
            r,
            w,
            durable,
            timeout_ms,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<i64>().prop_map(Op::CounterAdd),
        prop::collection::vec(bytes(), 0..3).prop_map(Op::SetAdd),
        prop::collection::vec(bytes(), 0..3).prop_map(Op::SetRemove),
    ]
}

fn context() -> impl Strategy<Value = Context> {
    vv().prop_map(Context::from)
}

fn request() -> impl Strategy<Value = ClientRequest> {
    prop_oneof![
        (bytes(), options()).prop_map(|(key, options)| ClientRequest::Get { key, options }),
        (bytes(), bytes(), prop::option::of(context()), options()).prop_map(
            |(key, value, context, options)| ClientRequest::Put {
                key,
                value,
                context,
                options
            }
        ),
        (bytes(), prop::option::of(context()), options()).prop_map(|(key, context, options)| {
            ClientRequest::Delete {
                key,
                context,
                options,
            }
        }),
        (bytes(), op(), options()).prop_map(|(key, op, options)| ClientRequest::Update {
            key,
            op,
            options
        }),
    ]
}

fn resolved() -> impl Strategy<Value = Resolved> {
    prop_oneof![
        prop::collection::vec(bytes(), 0..3).prop_map(Resolved::Siblings),
        prop::option::of(bytes()).prop_map(Resolved::Single),
        any::<i64>().prop_map(Resolved::Counter),
        prop::collection::vec(bytes(), 0..3).prop_map(Resolved::Set),
    ]
}

fn error() -> impl Strategy<Value = Error> {
    prop_oneof![
        (any::<usize>(), any::<usize>())
            .prop_map(|(needed, got)| Error::QuorumFailed { needed, got }),
        (any::<u64>(), any::<bool>()).prop_map(|(after_ms, ambiguous)| Error::Timeout {
            after_ms,
            ambiguous
        }),
        ".{0,12}".prop_map(Error::InvalidArgument),
        (any::<usize>(), any::<usize>()).prop_map(|(size, max)| Error::ValueTooLarge { size, max }),
        (".{0,12}", any::<bool>()).prop_map(|(reason, quota_exceeded)| Error::Storage {
            reason,
            quota_exceeded
        }),
        ".{0,12}".prop_map(Error::Corrupt),
        Just(Error::Closed),
        (any::<usize>(), any::<usize>())
            .prop_map(|(count, max)| Error::TooManySiblings { count, max }),
    ]
}

fn result() -> impl Strategy<Value = Result<ClientReply, Error>> {
    prop_oneof![
        (resolved(), context(), siblings(), any::<bool>()).prop_map(
            |(value, context, versions, partial)| Ok(ClientReply::Get {
                value,
                context,
                versions,
                partial
            })
        ),
        (dot(), context()).prop_map(|(dot, context)| Ok(ClientReply::Put { dot, context })),
        error().prop_map(Err),
    ]
}

fn summary() -> impl Strategy<Value = Summary> {
    (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(root, ring_epoch, ring_hash)| Summary {
        root,
        ring_epoch,
        ring_hash,
    })
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(vec![
        Status::Joining,
        Status::Valid,
        Status::Leaving,
        Status::Exiting,
        Status::Down,
    ])
}

fn member_info() -> impl Strategy<Value = MemberInfo> {
    (any::<u64>(), status(), any::<u32>(), any::<bool>()).prop_map(
        |(version, status, capacity, durable)| MemberInfo {
            version,
            status,
            capacity,
            durable,
        },
    )
}

/// A ring claimed over a few members (a decoded ring must be well formed, so the
/// generator makes only well-formed ones).
fn ring_state() -> impl Strategy<Value = RingState> {
    (
        any::<u64>(),
        prop::sample::select(vec![1u32, 8, 16]),
        prop::collection::btree_set(node(), 1..5),
        0..4usize,
    )
        .prop_map(|(epoch, q, nodes, n_val)| {
            let members: Vec<Member> = nodes.into_iter().map(|n| Member::new(n, 1)).collect();
            let ring = Ring::claim(q, None, &members, n_val).expect("a valid claim");
            RingState { epoch, ring }
        })
}

fn gossip() -> impl Strategy<Value = GossipMsg> {
    prop_oneof![
        summary().prop_map(|summary| GossipMsg::Syn { summary }),
        (
            summary(),
            prop::collection::vec(any::<u64>(), 0..4),
            prop::option::of(ring_state())
        )
            .prop_map(|(summary, hashes, ring)| GossipMsg::Groups {
                summary,
                hashes,
                ring
            }),
        (
            prop::collection::vec(
                (any::<u16>(), prop::collection::vec(any::<u64>(), 0..3)),
                0..3
            ),
            prop::option::of(ring_state())
        )
            .prop_map(|(groups, ring)| GossipMsg::Leaves { groups, ring }),
        (
            prop::collection::vec((node(), member_info()), 0..4),
            prop::collection::vec(any::<u16>(), 0..4)
        )
            .prop_map(|(entries, want)| GossipMsg::Entries { entries, want }),
    ]
}

fn rumor() -> impl Strategy<Value = Rumor> {
    prop_oneof![
        (node(), any::<u64>()).prop_map(|(node, incarnation)| Rumor::Alive { node, incarnation }),
        (node(), any::<u64>()).prop_map(|(node, incarnation)| Rumor::Suspect { node, incarnation }),
        (node(), any::<u64>()).prop_map(|(node, incarnation)| Rumor::Dead { node, incarnation }),
    ]
}

fn hash64() -> impl Strategy<Value = Hash64> {
    any::<u64>().prop_map(Hash64)
}

fn tree_msg() -> impl Strategy<Value = TreeMsg> {
    let children = (any::<u64>(), prop::collection::vec(hash64(), 0..4))
        .prop_map(|(index, hashes)| Children { index, hashes });
    let entry = (bytes(), hash64()).prop_map(|(key, digest)| Entry { key, digest });
    let subtree = (any::<u64>(), prop::collection::vec(entry, 0..3))
        .prop_map(|(index, entries)| Subtree { index, entries });
    let diff =
        (bytes(), prop::option::of(hash64())).prop_map(|(key, digest)| DiffEntry { key, digest });
    prop_oneof![
        (any::<u32>(), any::<u8>(), hash64()).prop_map(|(partition, fanout_bits, hash)| {
            TreeMsg::Root {
                partition,
                fanout_bits,
                hash,
            }
        }),
        (
            any::<u32>(),
            any::<u8>(),
            prop::collection::vec(children, 0..3),
            prop::collection::vec(subtree, 0..3),
            prop::collection::vec(diff, 0..3)
        )
            .prop_map(|(partition, depth, nodes, keys, diff)| TreeMsg::Step {
                partition,
                depth,
                nodes,
                keys,
                diff
            }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let rid = any::<u64>;
    prop_oneof![
        (
            rid(),
            bytes(),
            siblings(),
            prop::option::of(node()),
            any::<bool>()
        )
            .prop_map(|(rid, key, versions, hint, durable)| Message::Replicate {
                rid,
                key,
                versions,
                hint,
                durable
            }),
        (rid(), any::<bool>()).prop_map(|(rid, durable)| Message::ReplicateAck { rid, durable }),
        (rid(), bytes()).prop_map(|(rid, key)| Message::Read { rid, key }),
        (rid(), siblings()).prop_map(|(rid, versions)| Message::ReadReply { rid, versions }),
        (bytes(), siblings()).prop_map(|(key, versions)| Message::Repair { key, versions }),
        (rid(), request(), any::<u64>()).prop_map(|(rid, request, timeout_ms)| Message::Forward {
            rid,
            request,
            timeout_ms
        }),
        (rid(), result()).prop_map(|(rid, result)| Message::ForwardReply { rid, result }),
        (rid(), bytes(), siblings()).prop_map(|(rid, key, versions)| Message::Handoff {
            rid,
            key,
            versions
        }),
        rid().prop_map(|rid| Message::HandoffAck { rid }),
        (rid(), bytes(), siblings()).prop_map(|(rid, key, versions)| Message::Transfer {
            rid,
            key,
            versions
        }),
        rid().prop_map(|rid| Message::TransferAck { rid }),
        (gossip(), prop::collection::vec(rumor(), 0..4))
            .prop_map(|(msg, rumors)| Message::Gossip { msg, rumors }),
        (node(), any::<u64>()).prop_map(|(target, nonce)| Message::PingReq { target, nonce }),
        (node(), any::<u64>()).prop_map(|(target, nonce)| Message::PingReqAck { target, nonce }),
        (rid(), any::<bool>(), tree_msg()).prop_map(|(xid, from_opener, msg)| {
            Message::AntiEntropy {
                xid,
                from_opener,
                msg,
            }
        }),
        any::<u64>().prop_map(|nonce| Message::Ping { nonce }),
        any::<u64>().prop_map(|nonce| Message::Pong { nonce }),
        (rid(), proptest::option::of(member_info())).prop_map(|(rid, member)| Message::Refused {
            rid,
            reason: Refusal::Exited,
            member,
        }),
        rid().prop_map(|rid| Message::ForwardAccepted { rid }),
        rid().prop_map(|rid| Message::ForwardCancel { rid }),
        rid().prop_map(|rid| Message::ForwardCancelled { rid }),
        (rid(), siblings()).prop_map(|(rid, versions)| Message::ReadReplyPending { rid, versions }),
        any::<u32>().prop_map(|partition| Message::TransferQuery { partition }),
        any::<u32>().prop_map(|partition| Message::TransferDone { partition }),
        (bytes(), any::<bool>(), any::<u64>()).prop_map(|(key, prefix, ttl_ms)| Message::Watch {
            key,
            prefix,
            ttl_ms
        }),
        (bytes(), siblings()).prop_map(|(key, versions)| Message::WatchNotify { key, versions }),
        rules().prop_map(|rules| Message::ResolversProbe { rules }),
        rules().prop_map(|rules| Message::ResolversAre { rules }),
    ]
}

/// Every message kind the protocol has (`Message::kind`); the strategy must reach each.
const KINDS: [&str; 32] = [
    "put",
    "put-hinted",
    "put-ack",
    "get",
    "get-reply",
    "read-repair",
    "forward",
    "forward-reply",
    "hint-delivery",
    "hint-ack",
    "transfer",
    "transfer-ack",
    "gossip",
    "gossip-groups",
    "gossip-leaves",
    "gossip-entries",
    "ping-req",
    "ping-req-ack",
    "merkle",
    "ping",
    "pong",
    "refused",
    "forward-accepted",
    "forward-cancel",
    "forward-cancelled",
    "get-reply-pending",
    "transfer-query",
    "transfer-done",
    "watch",
    "watch-notify",
    "resolvers-probe",
    "resolvers-are",
];

#[test]
fn the_generator_covers_every_message_kind() {
    let mut runner = TestRunner::deterministic();
    let strategy = message();
    let mut seen = BTreeSet::new();
    for _ in 0..2_000 {
        let m = strategy.new_tree(&mut runner).expect("a value").current();
        seen.insert(m.kind());
    }
    assert_eq!(seen, KINDS.into_iter().collect::<BTreeSet<_>>());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_message_decodes_from_its_encoding(m in message()) {
        let frame = m.encode();
        prop_assert!(!frame.is_empty());
        prop_assert_eq!(Message::decode(&frame), Ok(m));
    }

    #[test]
    fn a_truncated_frame_is_refused(m in message(), cut in any::<prop::sample::Index>()) {
        let frame = m.encode();
        let len = cut.index(frame.len());
        prop_assert!(Message::decode(&frame[..len]).is_err(), "prefix of {} bytes accepted", len);
    }

    #[test]
    fn arbitrary_bytes_never_panic(frame in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(m) = Message::decode(&frame) {
            prop_assert_eq!(Message::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn a_corrupted_frame_never_panics(
        m in message(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut frame = m.encode();
        let i = at.index(frame.len());
        frame[i] = byte;
        if let Ok(d) = Message::decode(&frame) {
            prop_assert_eq!(Message::decode(&d.encode()), Ok(d));
        }
    }
}
