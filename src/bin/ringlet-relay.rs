//! The WebSocket relay between browser and Node.js nodes, and the static file server for the
//! page and the wasm build. The protocol is documented in `src/relay/mod.rs`.
//!
//!     ringlet-relay [--listen 127.0.0.1:8080] [--www DIR] [--pkg DIR] [limits] [access]
//!     ringlet-relay token --cluster NAME --node ID [--ttl SECONDS]
//!
//! `--help` lists every flag; docs/security.md, "Authentication and limits", documents them.

use std::process::ExitCode;

#[cfg(target_arch = "wasm32")]
fn main() -> ExitCode {
    // The relay is native only; this keeps `cargo build --target wasm32-unknown-unknown` whole.
    ExitCode::FAILURE
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    native::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use ringlet::relay::{token, Config, Relay, Secret};
    use std::process::ExitCode;
    use std::time::{SystemTime, UNIX_EPOCH};

    const USAGE: &str = "\
usage: ringlet-relay [flags]              serve the relay and the pages
       ringlet-relay token --cluster NAME --node ID [--ttl SECONDS] [secret]
                                          print a join token (for scripts and tests)

serving:
  --listen IP:PORT               where to listen (127.0.0.1:8080)
  --www DIR, --pkg DIR           static files at / and /pkg/ (www, pkg)
  --max-frame BYTES              the largest data frame routed (1048576)
  --max-cluster-connections N    nodes connected per cluster (256); more: 4029
  --rate N                       messages per second per connection (100000); above it,
                                 the relay reads the connection more slowly
  --burst N                      messages accepted at once (200000)
  --max-rate-waits N             messages held back for the rate within 10 s that close
                                 the connection (4008); 0: never (0)
  --queue N                      messages queued per connection (1024)
  --queue-wait-ms MS             how long a sender waits for room in a full queue before
                                 its frame is dropped and reported to it (1000)
  --allow-origin ORIGIN          allow browser pages of ORIGIN (repeatable; also
                                 RINGLET_RELAY_ALLOW_ORIGIN, comma-separated); none: any
  --allow-no-origin              with --allow-origin: also allow clients that send no
                                 Origin header (Node.js, native clients)
  --clock-skew SECONDS           grace after a token's expiry (60)
  --no-stats                     do not serve GET /stats
secret (for serving: every hello then needs a token; for `token`: required):
  RINGLET_RELAY_SECRET=...       in the environment, or
  --secret-file PATH             the file's contents (trailing newline ignored), or
  --secret VALUE                 on the command line (visible to other local users)";

    /// Where the secret comes from: a flag, or else the environment.
    fn secret(flag: Option<Secret>) -> Result<Option<Secret>, String> {
        if flag.is_some() {
            return Ok(flag);
        }
        match std::env::var("RINGLET_RELAY_SECRET") {
            Ok(v) if !v.is_empty() => Secret::new(v)
                .map(Some)
                .map_err(|e| format!("RINGLET_RELAY_SECRET: {e}")),
            _ => Ok(None),
        }
    }

    /// `--secret-file` and `--secret`; `None` for any other flag.
    fn secret_flag(flag: &str, value: &str) -> Option<Result<Secret, String>> {
        match flag {
            "--secret-file" => Some(
                std::fs::read(value)
                    .map_err(|e| format!("--secret-file {value}: {e}"))
                    .and_then(|bytes| {
                        let end = bytes
                            .iter()
                            .rposition(|b| !b.is_ascii_whitespace())
                            .map_or(0, |i| i + 1);
                        Secret::new(&bytes[..end]).map_err(|e| format!("--secret-file: {e}"))
                    }),
            ),
            "--secret" => Some(Secret::new(value).map_err(|e| format!("--secret: {e}"))),
            _ => None,
        }
    }

    fn number<T: std::str::FromStr + PartialOrd + Default>(
        flag: &str,
        v: &str,
    ) -> Result<T, String> {
        v.parse()
            .ok()
            .filter(|n| *n > T::default())
            .ok_or(format!("{flag} {v}: not a positive number"))
    }

    fn parse(args: &[String]) -> Result<Config, String> {
        let mut config = Config::default();
        let mut flag_secret = None;
        if let Ok(list) = std::env::var("RINGLET_RELAY_ALLOW_ORIGIN") {
            let origins = list.split(',').map(str::trim).filter(|o| !o.is_empty());
            config
                .access
                .allowed_origins
                .extend(origins.map(String::from));
        }
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let flag = flag.as_str();
            if flag == "--allow-no-origin" {
                config.access.allow_no_origin = true;
                continue;
            }
            if flag == "--no-stats" {
                config.stats = false;
                continue;
            }
            let v = it.next().ok_or(format!("{flag} needs a value"))?;
            if let Some(secret) = secret_flag(flag, v) {
                flag_secret = Some(secret?);
                continue;
            }
            match flag {
                "--listen" => {
                    config.listen = v
                        .parse()
                        .map_err(|_| format!("--listen {v}: not an IP:port"))?;
                }
                "--www" => config.www = v.into(),
                "--pkg" => config.pkg = v.into(),
                "--max-frame" => config.max_frame = number(flag, v)?,
                "--max-cluster-connections" => config.max_cluster_connections = number(flag, v)?,
                "--rate" => config.rate.rate = number(flag, v)?,
                "--burst" => config.rate.burst = number::<f64>(flag, v)?.max(1.0),
                "--max-rate-waits" => {
                    config.rate.max_waits =
                        v.parse().map_err(|_| format!("{flag} {v}: not a number"))?;
                }
                "--queue" => config.queue = number::<usize>(flag, v)?.max(1),
                "--queue-wait-ms" => {
                    config.queue_wait = std::time::Duration::from_millis(number(flag, v)?);
                }
                "--clock-skew" => {
                    config.access.clock_skew_s = v
                        .parse()
                        .map_err(|_| format!("--clock-skew {v}: not a number of seconds"))?;
                }
                "--allow-origin" => config.access.allowed_origins.push(v.clone()),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        config.access.secret = secret(flag_secret)?;
        Ok(config)
    }

    /// `ringlet-relay token ...`: prints one token.
    fn token_command(args: &[String]) -> Result<String, String> {
        let (mut cluster, mut node, mut ttl, mut flag_secret) = (None, None, 3600u64, None);
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let v = it.next().ok_or(format!("{flag} needs a value"))?;
            if let Some(secret) = secret_flag(flag, v) {
                flag_secret = Some(secret?);
                continue;
            }
            match flag.as_str() {
                "--cluster" => cluster = Some(v.clone()),
                "--node" => node = Some(v.clone()),
                "--ttl" => ttl = number(flag, v)?,
                other => return Err(format!("unknown argument {other}")),
            }
        }
        let secret = secret(flag_secret)?.ok_or(
            "a secret is needed: RINGLET_RELAY_SECRET, --secret-file PATH or --secret VALUE",
        )?;
        let cluster = cluster.ok_or("--cluster is required")?;
        let node = node.ok_or("--node is required")?;
        ringlet::relay::frame::ClusterName::parse(&cluster)?;
        ringlet::relay::frame::NodeName::parse(&node)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        Ok(token::issue(
            &secret,
            &cluster,
            &node,
            now.saturating_add(ttl),
        ))
    }

    pub fn main() -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|a| a == "--help" || a == "-h") {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        if args.first().map(String::as_str) == Some("token") {
            return match token_command(&args[1..]) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}\n{USAGE}");
                    ExitCode::from(2)
                }
            };
        }
        let config = match parse(&args) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("{e}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("cannot start the runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        runtime.block_on(serve(config))
    }

    /// What the relay says about its access settings at start-up.
    fn access_notes(config: &Config) -> Vec<String> {
        let mut notes = Vec::new();
        if config.access.secret.is_none() {
            notes.push(
                "warning: no secret (RINGLET_RELAY_SECRET or --secret-file): the relay is OPEN, \
                 anyone who reaches it can join any cluster as any node id; fine for local use, \
                 not for a public deployment"
                    .to_string(),
            );
        } else {
            notes.push(format!(
                "authentication on: every hello needs a token signed with the secret \
                 ({} s of clock skew allowed)",
                config.access.clock_skew_s
            ));
        }
        if config.access.allowed_origins.is_empty() {
            notes.push("warning: no --allow-origin: pages from any origin may connect".to_string());
        } else {
            notes.push(format!(
                "origins allowed: {}{}",
                config.access.allowed_origins.join(", "),
                if config.access.allow_no_origin {
                    ", and clients without an Origin header"
                } else {
                    "; clients without an Origin header are refused"
                }
            ));
        }
        notes
    }

    async fn serve(config: Config) -> ExitCode {
        for (flag, dir) in [("--www", &config.www), ("--pkg", &config.pkg)] {
            if !dir.is_dir() {
                eprintln!(
                    "note: {flag} {} is not a directory; its files will be 404",
                    dir.display()
                );
            }
        }
        // Listen for signals before announcing anything, so that none is missed.
        let stopped = match stop_signals() {
            Ok(stopped) => stopped,
            Err(e) => {
                eprintln!("cannot listen for signals: {e}");
                return ExitCode::FAILURE;
            }
        };
        let relay = match Relay::start(config.clone()).await {
            Ok(relay) => relay,
            Err(e) => {
                eprintln!("cannot listen on {}: {e}", config.listen);
                return ExitCode::FAILURE;
            }
        };
        for note in access_notes(&config) {
            eprintln!("{note}");
        }
        println!("ringlet relay listening on http://{}/", relay.local_addr());
        stopped.await;
        println!("ringlet relay shutting down");
        relay.shutdown().await;
        ExitCode::SUCCESS
    }

    /// Resolves on Ctrl-C (SIGINT), or SIGTERM on Unix. The handlers are in place on return.
    #[cfg(unix)]
    fn stop_signals() -> std::io::Result<impl std::future::Future<Output = ()>> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }

    #[cfg(not(unix))]
    fn stop_signals() -> std::io::Result<impl std::future::Future<Output = ()>> {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
