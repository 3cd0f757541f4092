//! The relay serves the page from `--www` and the wasm build from `--pkg` with the right MIME
//! types, refuses directory traversal, and answers `/stats` with JSON.

use crate::relay_support;

use relay_support::{http_get, http_request, relay_with, Client};
use ringlet::relay::Relay;
use std::path::PathBuf;

/// A fresh directory with `www/`, `pkg/` and a secret next to them; removed on drop.
struct Site(PathBuf);

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn site(name: &str) -> Site {
    let root = std::env::temp_dir().join(format!("ringlet-relay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("www/sub")).unwrap();
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(
        root.join("www/index.html"),
        "<!doctype html><title>ringlet</title>",
    )
    .unwrap();
    std::fs::write(root.join("www/app.js"), "export const x = 1;").unwrap();
    std::fs::write(root.join("www/sub/index.html"), "sub").unwrap();
    std::fs::write(root.join("pkg/ringlet_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(root.join("pkg/ringlet.mjs"), "export {};").unwrap();
    std::fs::write(root.join("secret.txt"), "TOP SECRET").unwrap();
    Site(root)
}

async fn site_relay(name: &str) -> (Relay, Site) {
    let site = site(name);
    let relay = relay_with(|c| {
        c.www = site.0.join("www");
        c.pkg = site.0.join("pkg");
    })
    .await;
    (relay, site)
}

#[tokio::test]
async fn index_and_files_with_their_mime_types() {
    let (relay, _site) = site_relay("files").await;
    let addr = relay.local_addr();
    for path in ["/", "/index.html", "/?v=2"] {
        let r = http_get(addr, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(r.body.starts_with(b"<!doctype html>"));
    }
    let wasm = http_get(addr, "/pkg/ringlet_bg.wasm").await;
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.body, b"\0asm\x01\0\0\0");
    for path in ["/app.js", "/pkg/ringlet.mjs"] {
        let js = http_get(addr, path).await;
        assert!(js
            .header("content-type")
            .unwrap()
            .starts_with("text/javascript"));
    }
    let dir = http_get(addr, "/sub").await;
    assert_eq!((dir.status, dir.header("location")), (301, Some("/sub/")));
    assert_eq!(http_get(addr, "/sub/").await.body, b"sub");
    for path in ["/missing.js", "/pkg/missing.wasm", "/pkg/sub/"] {
        assert_eq!(http_get(addr, path).await.status, 404, "{path}");
    }
    let head = http_request(addr, "HEAD /app.js HTTP/1.1\r\n\r\n").await;
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("19"))
    );
    assert!(head.body.is_empty());
    let post = http_request(addr, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").await;
    assert_eq!(
        (post.status, post.header("allow")),
        (405, Some("GET, HEAD"))
    );
    assert_eq!(
        http_get(addr, "/ws").await.status,
        426,
        "/ws without an upgrade"
    );
}

#[tokio::test]
async fn directory_traversal_is_refused() {
    let (relay, _site) = site_relay("traversal").await;
    let addr = relay.local_addr();
    for path in [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/pkg/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/pkg/%2E%2E/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..\\secret.txt",
    ] {
        let r = http_get(addr, path).await;
        assert_eq!(r.status, 400, "{path}");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("SECRET"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn stats_is_json_with_every_counter_per_cluster() {
    let (relay, _site) = site_relay("stats").await;
    let (mut a, _) = Client::join(&relay, "demo", "Sa").await;
    let (mut b, _) = Client::join(&relay, "demo", "Sb").await;
    a.control().await;
    a.unicast("Sb", b"x").await;
    b.data().await;

    let r = http_get(relay.local_addr(), "/stats").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let mut top: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    top.sort();
    assert_eq!(top, ["clusters", "connections", "refused", "uptime_s"]);
    let mut refused: Vec<_> = json["refused"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    refused.sort();
    let reasons = [
        "bad_hello",
        "cluster_full",
        "node_id_in_use",
        "origin_not_allowed",
        "rate_limited",
        "too_large",
        "unauthorized",
    ];
    assert_eq!(refused, reasons);
    assert_eq!(json["connections"], 2);
    assert!(json["uptime_s"].is_u64());
    let demo = json["clusters"]["demo"].as_object().unwrap();
    let mut keys: Vec<_> = demo.keys().cloned().collect();
    keys.sort();
    let expected = [
        "bytes_in",
        "bytes_out",
        "connections",
        "dropped",
        "frames_in",
        "frames_out",
        "malformed",
        "queue_full",
        "queue_waits",
        "rate_limited",
        "signal_frames_in",
        "signal_frames_out",
        "too_large",
        "unknown_destination",
    ];
    assert_eq!(keys, expected);
    assert_eq!(
        (demo["frames_in"].as_u64(), demo["frames_out"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (demo["bytes_in"].as_u64(), demo["bytes_out"].as_u64()),
        (Some(5), Some(5))
    );
}
