//! Writes the fuzzers' seed corpus (`fuzz/corpus/<target>/`) from real encodings: the frames
//! of a simulated cluster's messages (writes, reads, forwards, hinted handoff, anti-entropy,
//! gossip, probes, a join), the contexts its clients got back, the records its nodes stored,
//! and relay frames and control messages around them.
//!
//! `cargo run --release --example fuzz_seeds [-- DIR]` (DIR defaults to `fuzz/corpus`).

use ringlet::core::{Bytes, ClientReply, ClientRequest, Config, Context, RecordId, RequestOptions};
use ringlet::relay::frame::{self, Control, ErrorCode, Kind, NodeName};
use ringlet::sim::{Cluster, NetConfig};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let config = Config {
        anti_entropy_interval_ms: 200,
        ..Config::default()
    };
    let mut c = Cluster::with_nodes(7, 5, config, NetConfig::default());
    c.sample_frames = true;
    c.run_for(200);
    let mut contexts: BTreeSet<Vec<u8>> = BTreeSet::new();
    let opts = RequestOptions::default;
    let call = |c: &mut Cluster, i: usize, r: ClientRequest, ctx: &mut BTreeSet<Vec<u8>>| match c
        .call(i, r)
    {
        Ok(ClientReply::Put { context, .. }) | Ok(ClientReply::Get { context, .. }) => {
            ctx.insert(context.to_bytes());
            Some(context)
        }
        _ => None,
    };
    for i in 0..20 {
        let key = Bytes::from(format!("key/{i}").as_str());
        let put = ClientRequest::Put {
            key: key.clone(),
            value: Bytes::from(format!("value {i}").as_str()),
            context: None,
            options: opts(),
        };
        call(&mut c, i % 5, put.clone(), &mut contexts);
        call(&mut c, (i + 1) % 5, put, &mut contexts); // a sibling
        let get = ClientRequest::Get {
            key: key.clone(),
            options: opts(),
        };
        let ctx = call(&mut c, (i + 2) % 5, get, &mut contexts);
        let del = ClientRequest::Delete {
            key,
            context: ctx,
            options: opts(),
        };
        if i % 4 == 0 {
            call(&mut c, (i + 3) % 5, del, &mut contexts);
        }
    }
    // A crash (sloppy quorum, hints, probes), a partition, a join (gossip, transfer).
    c.crash(1, false);
    for i in 20..30 {
        let put = ClientRequest::Put {
            key: Bytes::from(format!("key/{i}").as_str()),
            value: Bytes::from(&b"while down"[..]),
            context: None,
            options: opts(),
        };
        call(&mut c, i % 5, put, &mut contexts);
    }
    c.restart(1);
    c.partition(&[0, 1]);
    c.run_for(3_000);
    c.heal();
    c.join_node("joiner", 1, &[0]);
    c.run_for(10_000);

    let mut frames: Vec<(String, Vec<u8>)> = Vec::new();
    for (kind, samples) in &c.frame_samples {
        for (n, f) in samples.iter().enumerate() {
            frames.push((format!("{kind}-{n}"), f.clone()));
        }
    }
    write_all(&dir.join("wire_message"), &frames)?;

    let ctxs: Vec<(String, Vec<u8>)> = contexts
        .into_iter()
        .take(40)
        .enumerate()
        .map(|(n, b)| (format!("context-{n}"), b))
        .chain([("empty".to_string(), Context::new().to_bytes())])
        .collect();
    write_all(&dir.join("client_context"), &ctxs)?;

    let mut records = Vec::new();
    for i in 0..c.len() {
        for (n, id) in c.store(i).record_ids().iter().enumerate() {
            let kind = match id {
                RecordId::Object(_) => "object",
                RecordId::Hint(..) => "hint",
                RecordId::Meta => "meta",
                RecordId::Membership => "membership",
                RecordId::Forward(..) => "forward",
                RecordId::Fallback(_) => "fallback",
            };
            if n < 6 || !matches!(id, RecordId::Object(_)) {
                if let Some(r) = c.store(i).record(id) {
                    records.push((format!("{}-{kind}-{n}", c.id(i)), r.to_vec()));
                }
            }
        }
    }
    write_all(&dir.join("stored_record"), &records)?;

    let peer = NodeName::parse("n3").expect("a node name");
    let mut relay: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, f) in frames.iter().take(12) {
        relay.push((format!("unicast-{name}"), frame::unicast(&peer, f)));
        relay.push((format!("broadcast-{name}"), frame::broadcast(f)));
        relay.push((
            format!("delivery-{name}"),
            frame::delivery(Kind::Unicast, &peer, f),
        ));
    }
    let controls = [
        r#"{"type":"hello","cluster":"demo","node":"n1"}"#.to_string(),
        Control::error(ErrorCode::MalformedFrame, "empty frame").to_json(),
    ];
    for (n, text) in controls.iter().enumerate() {
        relay.push((format!("control-{n}"), text.as_bytes().to_vec()));
    }
    write_all(&dir.join("relay_frame"), &relay)?;
    println!(
        "seed corpus in {}: {} frames, {} contexts, {} records, {} relay frames",
        dir.display(),
        frames.len(),
        ctxs.len(),
        records.len(),
        relay.len()
    );
    Ok(())
}

/// Replace `dir`'s files with `files` (names made file-system safe).
fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)?;
    for (name, bytes) in files {
        let safe: String = name
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        fs::write(dir.join(safe), bytes)?;
    }
    Ok(())
}
