//! The WebSocket relay between browser and Node.js nodes, and the static file server for the
//! page and the wasm build. The protocol is documented in `src/relay/mod.rs`.
//!
//!     ringlet-relay [--listen 127.0.0.1:8080] [--www DIR] [--pkg DIR] [--max-frame BYTES]

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
    use ringlet::relay::{Config, Relay};
    use std::process::ExitCode;

    const USAGE: &str =
        "usage: ringlet-relay [--listen 127.0.0.1:8080] [--www DIR] [--pkg DIR] [--max-frame BYTES]";

    fn parse(args: &[String]) -> Result<Config, String> {
        let mut config = Config::default();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "--listen" => {
                    let v = value()?;
                    config.listen = v
                        .parse()
                        .map_err(|_| format!("--listen {v}: not an IP:port"))?;
                }
                "--www" => config.www = value()?.into(),
                "--pkg" => config.pkg = value()?.into(),
                "--max-frame" => {
                    let v = value()?;
                    config.max_frame = v
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("--max-frame {v}: not a positive number of bytes"))?;
                }
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(config)
    }

    pub fn main() -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|a| a == "--help" || a == "-h") {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
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
