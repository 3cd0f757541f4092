//! The relay's HTTP side: one request per TCP connection (`Connection: close`), parsed with
//! httparse. `GET /ws` upgrades to a WebSocket, `GET /stats` answers JSON, every other
//! `GET` or `HEAD` is a static file from `--www`, or from `--pkg` under `/pkg/`.

use super::{conn, Shared};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

/// The longest request head accepted, and how long a client may take to send it.
const MAX_HEAD: usize = 16 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEADERS: usize = 48;

/// What the relay needs from a request head.
struct Head {
    method: String,
    /// The path as sent, without the query.
    path: String,
    websocket_key: Option<String>,
    origin: Option<String>,
    wants_websocket: bool,
    version_13: bool,
}

struct Response {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    fn error(status: u16) -> Response {
        let body = format!("{} {}\n", status, reason(status));
        Response::new(status, "text/plain; charset=utf-8", body.into_bytes())
    }

    fn with(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }
}

pub(crate) async fn handle(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let (head, rest) = match timeout(HEAD_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(read))) => read,
        Ok(Ok(None)) | Err(_) => return,
        Ok(Err(status)) => return respond(&mut stream, Response::error(status), false).await,
    };
    let head_only = head.method == "HEAD";
    let response = if head.method != "GET" && !head_only {
        Response::error(405).with("Allow", "GET, HEAD")
    } else if head.path == "/ws" {
        if !(head.method == "GET" && head.wants_websocket && head.version_13) {
            Response::error(426)
                .with("Upgrade", "websocket")
                .with("Sec-WebSocket-Version", "13")
        } else if let Some(key) = &head.websocket_key {
            return upgrade(stream, key, head.origin, rest, shared, shutdown).await;
        } else {
            Response::error(400)
        }
    } else if head.path == "/stats" && shared.stats {
        let body = serde_json::to_vec(&shared.rooms.stats()).unwrap_or_default();
        Response::new(200, "application/json", body).with("Cache-Control", "no-store")
    } else {
        static_file(&head.path, &shared.www, &shared.pkg).await
    };
    respond(&mut stream, response, head_only).await
}

/// Reads one request head. `Ok(None)`: the client went away first.
async fn read_head(stream: &mut TcpStream) -> Result<Option<(Head, Vec<u8>)>, u16> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 2048];
        let n = stream.read(&mut chunk).await.map_err(|_| 400u16)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let head = Head::from(&request);
                return Ok(Some((head, buf[len..].to_vec())));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
                return Err(431)
            }
            Err(_) => return Err(400),
        }
    }
}

impl Head {
    fn from(request: &httparse::Request<'_, '_>) -> Head {
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .map(str::trim)
        };
        let has_token = |name: &str, token: &str| {
            header(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        };
        let target = request.path.unwrap_or("");
        Head {
            method: request.method.unwrap_or("").to_string(),
            path: target.split(['?', '#']).next().unwrap_or("").to_string(),
            websocket_key: header("Sec-WebSocket-Key").map(str::to_string),
            origin: header("Origin").map(str::to_string),
            wants_websocket: has_token("Upgrade", "websocket")
                && has_token("Connection", "upgrade"),
            version_13: header("Sec-WebSocket-Version") == Some("13"),
        }
    }
}

async fn upgrade(
    mut stream: TcpStream,
    key: &str,
    origin: Option<String>,
    rest: Vec<u8>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let accept = derive_accept_key(key.as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let config = shared.limits.websocket_config();
    let ws = WebSocketStream::from_partially_read(stream, rest, Role::Server, Some(config)).await;
    let rooms = Arc::clone(&shared.rooms);
    conn::run(ws, origin, rooms, &shared.access, &shared.limits, shutdown).await;
}

async fn respond(stream: &mut TcpStream, response: Response, head_only: bool) {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         X-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    if !head_only {
        out.extend_from_slice(&response.body);
    }
    let _ = timeout(HEAD_TIMEOUT, async {
        if stream.write_all(&out).await.is_ok() {
            let _ = stream.shutdown().await;
        }
    })
    .await;
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    }
}

async fn static_file(path: &str, www: &Path, pkg: &Path) -> Response {
    let Some(mut file) = resolve(path, www, pkg) else {
        return Response::error(400);
    };
    if tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_dir()) {
        if !path.ends_with('/') {
            return Response::error(301).with("Location", format!("{path}/"));
        }
        file.push("index.html");
    }
    match tokio::fs::read(&file).await {
        Ok(body) => Response::new(200, content_type(&file), body).with("Cache-Control", "no-cache"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Response::error(404),
        Err(_) => Response::error(500),
    }
}

/// The file a request path names: under `pkg` for `/pkg/...`, under `www` otherwise.
/// `None` (400) for a path that is not absolute, is badly percent-encoded, or holds a `..`
/// segment, a backslash or a NUL, before or after decoding.
fn resolve(path: &str, www: &Path, pkg: &Path) -> Option<PathBuf> {
    let decoded = percent_decode(path.strip_prefix('/')?)?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut segments = decoded
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .peekable();
    let mut file = if segments.peek() == Some(&"pkg") {
        segments.next();
        pkg.to_path_buf()
    } else {
        www.to_path_buf()
    };
    for segment in segments {
        if segment == ".." {
            return None;
        }
        file.push(segment);
    }
    Some(file)
}

fn percent_decode(s: &str) -> Option<String> {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The MIME type by extension. `application/wasm` is what `WebAssembly.instantiateStreaming`
/// requires.
fn content_type(file: &Path) -> &'static str {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_under_their_root() {
        let (www, pkg) = (Path::new("w"), Path::new("p"));
        let r = |path| resolve(path, www, pkg);
        assert_eq!(r("/"), Some(PathBuf::from("w")));
        assert_eq!(r("/a/b.js"), Some(PathBuf::from("w/a/b.js")));
        assert_eq!(r("/pkg/x.wasm"), Some(PathBuf::from("p/x.wasm")));
        assert_eq!(r("/pkgs/x"), Some(PathBuf::from("w/pkgs/x")));
        assert_eq!(r("/a%20b/./c"), Some(PathBuf::from("w/a b/c")));
        for bad in [
            "x",
            "/../etc/passwd",
            "/a/../../b",
            "/pkg/../x",
            "/%2e%2e/x",
            "/%2E%2E%2Fx",
            "/a\\..\\b",
            "/a%00b",
            "/%zz",
            "/%f",
            "/%ff",
        ] {
            assert_eq!(r(bad), None, "{bad}");
        }
    }

    #[test]
    fn mime_types() {
        assert_eq!(
            content_type(Path::new("a/ringlet_bg.wasm")),
            "application/wasm"
        );
        assert!(content_type(Path::new("a.MJS")).starts_with("text/javascript"));
        assert!(content_type(Path::new("index.html")).starts_with("text/html"));
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}
