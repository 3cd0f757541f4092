//! An anti-entropy exchange (paper §4.7) takes its messages from the network: whatever a
//! peer sends, out of turn, about another partition, about nodes it was never asked about,
//! or as random bytes, the exchange answers with a typed error and never panics.

use proptest::prelude::*;
use ringlet::core::hashtree::{
    Children, DiffEntry, Entry, Exchange, ExchangeError, Hash64, HashTree, Subtree, TreeMsg,
};
use ringlet::core::Bytes;

fn tree(n: u32, salt: u64) -> HashTree {
    let mut t = HashTree::new();
    t.rebuild((0..n).map(|i| (i.to_le_bytes().to_vec(), u64::from(i) ^ salt)));
    t
}

fn step(partition: u32, depth: u8, nodes: Vec<Children>, keys: Vec<Subtree>) -> TreeMsg {
    TreeMsg::Step {
        partition,
        depth,
        nodes,
        keys,
        diff: Vec::new(),
    }
}

fn malformed(r: Result<Option<TreeMsg>, ExchangeError>) -> bool {
    matches!(r, Err(ExchangeError::Malformed(_)))
}

#[test]
fn out_of_turn_and_foreign_messages_are_refused() {
    let a = tree(1000, 0);
    let b = tree(1000, 1);

    // An exchange opens with Root, of the same fan-out.
    let s = step(5, 0, Vec::new(), Vec::new());
    assert!(matches!(
        Exchange::accept(&b, &s),
        Err(ExchangeError::Unexpected(_))
    ));
    let other = HashTree::with_shape(ringlet::core::hashtree::Shape::new(2, 3).expect("valid"));
    let (_, open_other) = Exchange::start(5, &other);
    assert_eq!(
        Exchange::accept(&b, &open_other).err(),
        Some(ExchangeError::FanoutMismatch { mine: 4, theirs: 2 })
    );

    let (mut x, open) = Exchange::start(5, &a);
    let (_, reply) = Exchange::accept(&b, &open).expect("accept");
    // Another partition, then a Root in the middle.
    let mut wrong = reply.clone();
    if let TreeMsg::Step { partition, .. } = &mut wrong {
        *partition = 6;
    }
    assert_eq!(
        x.clone().handle(&a, &wrong),
        Err(ExchangeError::WrongPartition {
            expected: 5,
            got: 6
        })
    );
    assert!(matches!(
        x.clone().handle(&a, &open),
        Err(ExchangeError::Unexpected(_))
    ));
    // After an error, the exchange is over.
    let mut failed = x.clone();
    assert!(failed.handle(&a, &wrong).is_err());
    assert!(failed.is_done());
    assert!(matches!(
        failed.handle(&a, &reply),
        Err(ExchangeError::Unexpected(_))
    ));
    // The genuine reply is fine.
    assert!(x.handle(&a, &reply).is_ok());
}

#[test]
fn answers_to_questions_never_asked_are_refused() {
    let a = tree(1000, 0);
    let (x, _) = Exchange::start(9, &a);
    let sixteen = || vec![Hash64(1); 16];

    // After Root, only node (0, 0) was asked about.
    let cases = [
        // wrong depth
        step(
            9,
            1,
            vec![Children {
                index: 0,
                hashes: sixteen(),
            }],
            Vec::new(),
        ),
        // a node never asked about
        step(
            9,
            0,
            vec![Children {
                index: 1,
                hashes: sixteen(),
            }],
            Vec::new(),
        ),
        // the same node twice
        step(
            9,
            0,
            vec![
                Children {
                    index: 0,
                    hashes: sixteen(),
                },
                Children {
                    index: 0,
                    hashes: sixteen(),
                },
            ],
            Vec::new(),
        ),
        // a wrong number of children
        step(
            9,
            0,
            vec![Children {
                index: 0,
                hashes: vec![Hash64(1); 3],
            }],
            Vec::new(),
        ),
        // keys of a node never asked about
        step(
            9,
            0,
            Vec::new(),
            vec![Subtree {
                index: 7,
                entries: Vec::new(),
            }],
        ),
        // both children and keys of one node
        step(
            9,
            0,
            vec![Children {
                index: 0,
                hashes: sixteen(),
            }],
            vec![Subtree {
                index: 0,
                entries: Vec::new(),
            }],
        ),
    ];
    for msg in &cases {
        assert!(malformed(x.clone().handle(&a, msg)), "{msg:?}");
    }

    // Keys listed outside their subtree: reach depth 1 first.
    let b = tree(1000, 1);
    let (mut x, open) = Exchange::start(9, &a);
    let (_, reply) = Exchange::accept(&b, &open).expect("accept");
    let TreeMsg::Step { nodes, .. } = x.handle(&a, &reply).expect("ok").expect("a reply") else {
        panic!("a step");
    };
    // x asked about the children of its first differing node at depth 1: list a key there
    // that belongs elsewhere.
    let parent = nodes[0].index;
    let stray = (0..u32::MAX)
        .map(|i| i.to_le_bytes().to_vec())
        .find(|k| ringlet::core::hashtree::key_hash64(k) >> 56 != parent << 4)
        .expect("some key");
    let bad = step(
        9,
        2,
        Vec::new(),
        vec![Subtree {
            index: parent << 4,
            entries: vec![Entry {
                key: Bytes::from(stray.clone()),
                digest: Hash64(0),
            }],
        }],
    );
    assert!(malformed(x.clone().handle(&a, &bad)));

    // A diff about a key in no subtree x listed.
    let diff = TreeMsg::Step {
        partition: 9,
        depth: 2,
        nodes: Vec::new(),
        keys: Vec::new(),
        diff: vec![DiffEntry {
            key: Bytes::from(stray),
            digest: None,
        }],
    };
    assert!(malformed(x.handle(&a, &diff)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let a = tree(200, 0);
        let b = tree(200, 1);
        if let Ok(msg) = postcard::from_bytes::<TreeMsg>(&bytes) {
            let _ = Exchange::accept(&a, &msg);
            let (mut x, open) = Exchange::start(msg.partition(), &a);
            let _ = x.handle(&a, &msg);
            // Mid-exchange too.
            let (mut x, _) = Exchange::start(msg.partition(), &a);
            let (_, reply) = Exchange::accept(&b, &open).expect("accept");
            let _ = x.handle(&a, &reply);
            let _ = x.handle(&a, &msg);
        }
    }

    #[test]
    fn messages_survive_the_wire(n in 0u32..300, salt in 1u64..4) {
        let a = tree(n, 0);
        let b = tree(n, salt);
        let (mut x, open) = Exchange::start(2, &a);
        let (mut y, first) = Exchange::accept(&b, &open).expect("accept");
        let mut msg = Some(first);
        let mut turn_x = true;
        while let Some(m) = msg.take() {
            let bytes = postcard::to_allocvec(&m).expect("encode");
            prop_assert_eq!(bytes.len(), m.wire_size());
            let decoded: TreeMsg = postcard::from_bytes(&bytes).expect("decode");
            prop_assert_eq!(&decoded, &m);
            msg = if turn_x { x.handle(&a, &decoded) } else { y.handle(&b, &decoded) }
                .expect("clean");
            turn_x = !turn_x;
        }
        prop_assert_eq!(x.differences().len(), n as usize);
    }
}
