//! Random node ids (issue 15 defect 6), in Node.js: `tab-`/`node-` and 32 lowercase hex
//! digits (128 bits from crypto.getRandomValues), distinct, and within the relay's and the
//! join token's id limit.
#![cfg(target_arch = "wasm32")]

use ringlet::wasm::ids::{format_id, random_id, secure_random, ID_RANDOM_BYTES};
use std::collections::BTreeSet;
use wasm_bindgen_test::wasm_bindgen_test;

/// The relay's id limit (`relay::frame::MAX_NAME_LEN`, native only; `js/edge/relay.js` and
/// the join token helpers use the same 64).
const MAX_NODE_ID_LEN: usize = 64;

fn is_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            hex.len() == 32
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[wasm_bindgen_test]
fn ids_are_128_random_bits_in_lowercase_hex() {
    assert_eq!(ID_RANDOM_BYTES, 16);
    let mut seen = BTreeSet::new();
    for prefix in ["tab", "node"] {
        for _ in 0..500 {
            let id = random_id(prefix).expect("Node.js has crypto.getRandomValues");
            assert!(is_id(&id, prefix), "{id}");
            assert!(id.len() <= MAX_NODE_ID_LEN, "{id} fits the relay's limit");
            assert!(seen.insert(id.clone()), "{id} drawn twice");
        }
    }
}

#[wasm_bindgen_test]
fn format_is_prefix_dash_hex() {
    assert_eq!(
        format_id("tab", &[0, 1, 0xab, 0xff]),
        "tab-0001abff".to_string()
    );
    let b = secure_random::<16>().unwrap();
    assert_eq!(format_id("node", &b).len(), "node-".len() + 32);
}
