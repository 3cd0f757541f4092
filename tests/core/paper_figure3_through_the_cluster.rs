//! The paper's figure 3 (§4.4) played by three live nodes named Sx, Sy, Sz: every clock the
//! coordinators hand back is the paper's, and the read in the middle returns D3 and D4 as
//! siblings.

use crate::cluster_support;

use cluster_support::*;
use ringlet::sim::{Cluster, NetConfig};

#[test]
fn figure3_d1_to_d5_through_coordinators_sx_sy_sz() {
    let mut c = Cluster::new(
        91,
        &["Sx", "Sy", "Sz"],
        config(3, 2, 2),
        NetConfig::default(),
    );
    settle(&mut c);
    let (sx, sy, sz) = (0, 1, 2);
    let key = "figure3";

    let (_, d1) = write(&mut c, sx, put(key, "D1"));
    assert_eq!(d1.to_string(), "[(Sx,1)]");
    let (_, d2) = write(&mut c, sx, put_ctx(key, "D2", &d1));
    assert_eq!(d2.to_string(), "[(Sx,2)]");
    c.run_for(50);

    // Two clients read D2 and write through different nodes.
    let (_, d3) = write(&mut c, sy, put_ctx(key, "D3", &d2));
    let (_, d4) = write(&mut c, sz, put_ctx(key, "D4", &d2));
    assert_eq!(d3.to_string(), "[(Sx,2),(Sy,1)]");
    assert_eq!(d4.to_string(), "[(Sx,2),(Sz,1)]");
    c.run_for(50);

    let r = read(&mut c, sx, key);
    assert_eq!(r.values(), vec!["D3".to_string(), "D4".to_string()]);
    let clocks: Vec<String> = r
        .versions
        .versions()
        .iter()
        .map(|v| v.clock().to_string())
        .collect();
    assert_eq!(clocks, vec!["[(Sx,2),(Sy,1)]", "[(Sx,2),(Sz,1)]"]);
    assert_eq!(r.context.to_string(), "[(Sx,2),(Sy,1),(Sz,1)]");

    // The client reconciles and writes through Sx.
    let (d5_dot, d5) = write(&mut c, sx, put_ctx(key, "D5", &r.context));
    assert_eq!(d5_dot.to_string(), "(Sx,3)");
    assert_eq!(d5.to_string(), "[(Sx,3),(Sy,1),(Sz,1)]");
    c.run_for(50);
    for i in [sx, sy, sz] {
        assert_eq!(local_dots(&c, i, key), vec![d5_dot.clone()]);
    }
    assert_eq!(read(&mut c, sz, key).values(), vec!["D5".to_string()]);
}
