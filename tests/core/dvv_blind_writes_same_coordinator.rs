//! Two blind writes through the same coordinator both survive as siblings (where plain
//! server-side vector clocks would let the second silently overwrite the first), and a write
//! with the read context then collapses them.

use ringlet::core::dvv::{Dot, Siblings, Value, VersionVector};
use ringlet::core::id::NodeId;

fn put(replica: &mut Siblings, node: &str, context: &VersionVector, data: &str) -> Dot {
    let id = NodeId::new(node);
    let counter = replica.max_counter(&id).max(context.get(&id)) + 1;
    let dot = Dot::new(node, counter);
    replica.update(context, dot.clone(), Value::Data(data.into()), 0);
    dot
}

#[test]
fn blind_writes_through_one_coordinator_become_siblings() {
    let mut sx = Siblings::new();
    let empty = VersionVector::new();

    let a = put(&mut sx, "Sx", &empty, "a");
    let b = put(&mut sx, "Sx", &empty, "b");
    assert_eq!(a, Dot::new("Sx", 1));
    assert_eq!(b, Dot::new("Sx", 2));

    // The second clock [(Sx,2)] dominates [(Sx,1)] as a plain vector clock, yet the first
    // write survives: no version's *past* covers its dot.
    let v = sx.versions();
    assert_eq!(v.len(), 2);
    assert_eq!((v[0].dot.clone(), v[1].dot.clone()), (a, b));
    assert!(v.iter().all(|x| x.past.is_empty()));
    assert!(v[1].clock().descends(&v[0].clock()));
    let values: Vec<_> = sx.values().map(|b| b.to_vec()).collect();
    assert_eq!(values, [b"a".to_vec(), b"b".to_vec()]);

    // Both survive replication too.
    let mut sy = Siblings::new();
    sy.sync(&sx);
    assert_eq!(sy, sx);

    // A write with the read context supersedes both.
    let ctx = sx.context();
    assert_eq!(ctx.to_string(), "[(Sx,2)]");
    let c = put(&mut sx, "Sx", &ctx, "c");
    assert_eq!(c, Dot::new("Sx", 3));
    assert_eq!(sx.len(), 1);
    assert_eq!(sx.versions()[0].clock().to_string(), "[(Sx,3)]");
    sy.sync(&sx);
    assert_eq!(sy, sx);
}
