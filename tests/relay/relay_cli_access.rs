//! The relay's command line and access: `ringlet-relay token` prints a token the relay's
//! verifier accepts (from the environment's secret or a secret file); serving without a
//! secret warns that the relay is open, with one it says authentication is on; a secret
//! too short is refused at start-up.

use ringlet::relay::token::{self, Secret};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

const BIN: &str = env!("CARGO_BIN_EXE_ringlet-relay");
const SECRET: &str = "a relay secret for the tests";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token_command(args: &[&str], env_secret: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("token")
        .args(args)
        .env_remove("RINGLET_RELAY_SECRET");
    if let Some(s) = env_secret {
        cmd.env("RINGLET_RELAY_SECRET", s);
    }
    cmd.output().expect("ringlet-relay runs")
}

#[test]
fn the_token_command_issues_tokens_the_relay_accepts() {
    let out = token_command(
        &["--cluster", "demo", "--node", "n1", "--ttl", "120"],
        Some(SECRET),
    );
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8(out.stdout).unwrap();
    let claims = token::verify(
        &Secret::new(SECRET).unwrap(),
        Some(printed.trim()),
        "demo",
        "n1",
        now(),
        0,
    )
    .expect("a valid token");
    assert!(
        (now() + 110..=now() + 130).contains(&claims.exp),
        "{claims:?}"
    );

    let dir = std::env::temp_dir().join(format!("ringlet-secret-{}", std::process::id()));
    std::fs::write(&dir, format!("{SECRET}\n")).unwrap();
    let path = dir.to_str().unwrap();
    let out = token_command(
        &["--secret-file", path, "--cluster", "c", "--node", "x"],
        None,
    );
    let _ = std::fs::remove_file(&dir);
    let printed = String::from_utf8(out.stdout).unwrap();
    let secret = Secret::new(SECRET).unwrap();
    assert!(token::verify(&secret, Some(printed.trim()), "c", "x", now(), 0).is_ok());
}

#[test]
fn the_token_command_refuses_bad_input() {
    for (args, env) in [
        (&["--cluster", "demo", "--node", "n1"][..], None),
        (&["--cluster", "demo", "--node", "n1"][..], Some("short")),
        (&["--cluster", "de mo", "--node", "n1"][..], Some(SECRET)),
        (&["--node", "n1"][..], Some(SECRET)),
        (
            &["--cluster", "demo", "--node", "n1", "--ttl", "0"][..],
            Some(SECRET),
        ),
    ] {
        let out = token_command(args, env);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

/// Starts the relay on a free port and returns what it printed to stderr before listening.
fn start_up_notes(args: &[&str], env_secret: Option<&str>) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("RINGLET_RELAY_SECRET")
        .env_remove("RINGLET_RELAY_ALLOW_ORIGIN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(s) = env_secret {
        cmd.env("RINGLET_RELAY_SECRET", s);
    }
    let mut child = cmd.spawn().expect("ringlet-relay starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on"), "{line:?}");
    child.kill().unwrap();
    child.wait().unwrap();
    let mut notes = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut notes)
        .unwrap();
    notes
}

#[test]
fn start_up_says_whether_the_relay_is_open() {
    let open = start_up_notes(&[], None);
    assert!(open.contains("the relay is OPEN"), "{open}");
    assert!(open.contains("pages from any origin"), "{open}");
    let closed = start_up_notes(&["--allow-origin", "https://app.example"], Some(SECRET));
    assert!(closed.contains("authentication on"), "{closed}");
    assert!(!closed.contains("OPEN"), "{closed}");
    assert!(
        closed.contains("origins allowed: https://app.example"),
        "{closed}"
    );
}

#[test]
fn a_short_secret_stops_the_relay_at_start_up() {
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .env("RINGLET_RELAY_SECRET", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16 bytes"));
}
