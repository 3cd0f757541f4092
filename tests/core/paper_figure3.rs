//! The paper's figure 3 (§4.4), replayed with dotted version vectors on three replicas and
//! checked clock by clock in the paper's notation.

use ringlet::core::dvv::{Dot, Siblings, Value, Version, VersionVector};
use ringlet::core::id::NodeId;

/// A coordinator's put at `replica` (node `node`) with the client's `context`: the dot's
/// counter is one past the highest counter of `node` seen in the local siblings or the
/// context.
fn put(replica: &mut Siblings, node: &str, context: &VersionVector, data: &str) -> Version {
    let id = NodeId::new(node);
    let counter = replica.max_counter(&id).max(context.get(&id)) + 1;
    let dot = Dot::new(node, counter);
    replica.update(context, dot.clone(), Value::Data(data.into()), 0);
    replica
        .versions()
        .iter()
        .find(|v| v.dot == dot)
        .cloned()
        .expect("a write with a fresh dot is stored")
}

/// The sibling set as `name clock` strings, in dot order.
fn show(replica: &Siblings) -> Vec<String> {
    replica
        .versions()
        .iter()
        .map(|v| {
            let data = v.value.data().expect("figure 3 has no deletes");
            format!("{} {}", String::from_utf8_lossy(data), v.clock())
        })
        .collect()
}

#[test]
fn figure3_d1_to_d5() {
    let (mut sx, mut sy, mut sz) = (Siblings::new(), Siblings::new(), Siblings::new());

    // D1: a new object, written through Sx with an empty context.
    let d1 = put(&mut sx, "Sx", &VersionVector::new(), "D1");
    assert_eq!(d1.clock().to_string(), "[(Sx,1)]");
    assert_eq!(d1.dot.to_string(), "(Sx,1)");
    assert_eq!(d1.past.to_string(), "[]");
    assert_eq!(show(&sx), ["D1 [(Sx,1)]"]);

    // D2: the client updates D1 through Sx; D1 is an ancestor and is discarded.
    let d2 = put(&mut sx, "Sx", &d1.clock(), "D2");
    assert_eq!(d2.clock().to_string(), "[(Sx,2)]");
    assert_eq!(d2.past.to_string(), "[(Sx,1)]");
    assert!(d2.descends_from(&d1));
    assert_eq!(show(&sx), ["D2 [(Sx,2)]"]);

    // Sy and Sz receive D2 (and a late copy of D1 changes nothing).
    sy.sync(&sx);
    sz.sync(&sx);
    let late_d1 = Siblings::from_versions([d1.clone()]);
    assert!(!sy.sync(&late_d1));
    assert_eq!(show(&sy), ["D2 [(Sx,2)]"]);
    assert_eq!(show(&sz), ["D2 [(Sx,2)]"]);

    // D3 through Sy and, concurrently, D4 through Sz, both with the context of D2.
    let ctx_d2 = sy.context();
    assert_eq!(ctx_d2.to_string(), "[(Sx,2)]");
    let d3 = put(&mut sy, "Sy", &ctx_d2, "D3");
    assert_eq!(d3.dot.to_string(), "(Sy,1)");
    assert_eq!(d3.clock().to_string(), "[(Sx,2),(Sy,1)]");
    assert_eq!(show(&sy), ["D3 [(Sx,2),(Sy,1)]"]);

    let ctx_d2_at_sz = sz.context();
    assert_eq!(ctx_d2_at_sz, ctx_d2);
    let d4 = put(&mut sz, "Sz", &ctx_d2_at_sz, "D4");
    assert_eq!(d4.dot.to_string(), "(Sz,1)");
    assert_eq!(d4.clock().to_string(), "[(Sx,2),(Sz,1)]");
    assert_eq!(show(&sz), ["D4 [(Sx,2),(Sz,1)]"]);
    assert!(!d3.descends_from(&d4) && !d4.descends_from(&d3));

    // A replica that has seen both holds them as siblings; a read returns both and the
    // context covering both.
    sx.sync(&sy);
    sx.sync(&sz);
    assert_eq!(show(&sx), ["D3 [(Sx,2),(Sy,1)]", "D4 [(Sx,2),(Sz,1)]"]);
    let read_ctx = sx.context();
    assert_eq!(read_ctx.to_string(), "[(Sx,2),(Sy,1),(Sz,1)]");
    let values: Vec<_> = sx.values().cloned().collect();
    assert_eq!(
        values,
        [
            d3.value.data().cloned().unwrap(),
            d4.value.data().cloned().unwrap()
        ]
    );

    // D5: the client reconciles and writes through Sx with the read context.
    assert_eq!(sx.max_counter(&NodeId::new("Sx")), 2);
    let d5 = put(&mut sx, "Sx", &read_ctx, "D5");
    assert_eq!(d5.dot.to_string(), "(Sx,3)");
    assert_eq!(d5.past.to_string(), "[(Sx,2),(Sy,1),(Sz,1)]");
    assert_eq!(d5.clock().to_string(), "[(Sx,3),(Sy,1),(Sz,1)]");
    assert_eq!(show(&sx), ["D5 [(Sx,3),(Sy,1),(Sz,1)]"]);

    // After sync, D5 supersedes D3 and D4 everywhere, in either direction.
    let (old_sy, old_sz) = (sy.clone(), sz.clone());
    sy.sync(&sx);
    sz.sync(&sx);
    assert!(!sx.sync(&old_sy));
    assert!(!sx.sync(&old_sz));
    for replica in [&sx, &sy, &sz] {
        assert_eq!(show(replica), ["D5 [(Sx,3),(Sy,1),(Sz,1)]"]);
        assert_eq!(replica.context().to_string(), "[(Sx,3),(Sy,1),(Sz,1)]");
    }
    assert_eq!(sx, sy);
    assert_eq!(sy, sz);
}
