//! Helpers shared by the relay's integration tests: a relay on an ephemeral loopback port,
//! a WebSocket client that speaks the relay protocol, and a raw HTTP request.

#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use ringlet::relay::frame::{self, Control, Kind, NodeName};
use ringlet::relay::{Config, Relay, Stats};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async, WebSocketStream};

/// How long a test waits for something that should happen at once.
pub const WAIT: Duration = Duration::from_secs(5);

pub async fn relay() -> Relay {
    relay_with(|_| {}).await
}

pub async fn relay_with(adjust: impl FnOnce(&mut Config)) -> Relay {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    adjust(&mut config);
    Relay::start(config).await.expect("relay starts")
}

/// Polls `relay.stats()` until `ok` holds; panics after [`WAIT`].
pub async fn stats_until(relay: &Relay, ok: impl Fn(&Stats) -> bool) -> Stats {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let stats = relay.stats();
        if ok(&stats) {
            return stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stats never matched: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub struct Client {
    pub ws: WebSocketStream<TcpStream>,
}

impl Client {
    pub async fn connect(relay: &Relay) -> Client {
        Client::connect_from(relay, None).await
    }

    /// Connects with an `Origin` header, as a browser page of that origin would.
    pub async fn connect_from(relay: &Relay, origin: Option<&str>) -> Client {
        let addr = relay.local_addr();
        let tcp = TcpStream::connect(addr).await.expect("tcp connect");
        let mut request = format!("ws://{addr}/ws")
            .into_client_request()
            .expect("a request");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().expect("a header value"));
        }
        let (ws, _) = client_async(request, tcp)
            .await
            .expect("websocket handshake");
        Client { ws }
    }

    /// Connects, says hello and returns the client with the welcome's peers.
    pub async fn join(relay: &Relay, cluster: &str, node: &str) -> (Client, Vec<String>) {
        let mut client = Client::connect(relay).await;
        client.hello(cluster, node).await;
        match client.control().await {
            Control::Welcome { node: n, peers } if n == node => (client, peers),
            other => panic!("expected a welcome for {node}, got {other:?}"),
        }
    }

    pub async fn hello(&mut self, cluster: &str, node: &str) {
        self.hello_with_token(cluster, node, None).await;
    }

    pub async fn hello_with_token(&mut self, cluster: &str, node: &str, token: Option<&str>) {
        let hello = Control::Hello {
            cluster: cluster.into(),
            node: node.into(),
            token: token.map(str::to_string),
        };
        self.send_text(&hello.to_json()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send text");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(Message::binary(bytes))
            .await
            .expect("send binary");
    }

    pub async fn unicast(&mut self, to: &str, payload: &[u8]) {
        let to = NodeName::parse(to).unwrap();
        self.send_binary(frame::unicast(&to, payload)).await;
    }

    pub async fn broadcast(&mut self, payload: &[u8]) {
        self.send_binary(frame::broadcast(payload)).await;
    }

    /// The next message other than ping and pong; `None` when the stream ends.
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            let next = timeout(WAIT, self.ws.next())
                .await
                .expect("a message in time");
            match next {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(message)) => return Some(message),
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn control(&mut self) -> Control {
        match self.next().await {
            Some(Message::Text(text)) => Control::from_json(&text).expect("a control message"),
            other => panic!("expected a control message, got {other:?}"),
        }
    }

    /// The next data frame as (kind, sender, payload).
    pub async fn data(&mut self) -> (Kind, String, Vec<u8>) {
        match self.next().await {
            Some(Message::Binary(bytes)) => {
                let d = frame::parse_delivery(&bytes).expect("a well-formed delivery");
                (d.kind, d.from.to_string(), d.payload.to_vec())
            }
            other => panic!("expected a data frame, got {other:?}"),
        }
    }

    /// Asserts that nothing but pings arrives for `ms` milliseconds.
    pub async fn silent(&mut self, ms: u64) {
        let wait = Duration::from_millis(ms);
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(next) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            match next {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected silence, got {other:?}"),
            }
        }
    }

    /// Reads until the relay's close frame and completes the closing handshake; returns the
    /// frame's code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        let closed = match self.next().await {
            Some(Message::Close(Some(frame))) => (frame.code.into(), frame.reason.to_string()),
            other => panic!("expected a close frame, got {other:?}"),
        };
        // Reading on sends the close reply that tungstenite queued.
        assert_eq!(self.next().await, None, "nothing after the close frame");
        closed
    }

    pub async fn close(mut self) {
        self.ws.close(None).await.expect("close");
        while let Some(Ok(_)) = self.ws.next().await {}
    }
}

pub fn error_code(control: &Control) -> Option<frame::ErrorCode> {
    match control {
        Control::Error { code, .. } => Some(*code),
        _ => None,
    }
}

/// An HTTP response, with header names in lower case.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub async fn http_get(addr: SocketAddr, path: &str) -> HttpResponse {
    http_request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
    )
    .await
}

/// Sends `request` verbatim and reads the response until the relay closes.
pub async fn http_request(addr: SocketAddr, request: &str) -> HttpResponse {
    let mut tcp = TcpStream::connect(addr).await.expect("tcp connect");
    tcp.write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut raw = Vec::new();
    timeout(WAIT, tcp.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(raw[..split].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}
