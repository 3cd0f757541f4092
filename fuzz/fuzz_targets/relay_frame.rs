//! The relay's frame parser (`relay::frame`): binary data frames as a client sends them and as
//! the relay delivers them, and the JSON hello / control messages. Never panics; an accepted
//! frame rebuilds to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringlet::relay::frame::{self, Control, Inbound};

fuzz_target!(|data: &[u8]| {
    match frame::parse_inbound(data) {
        Ok(Inbound::Unicast { to, payload }) => assert_eq!(frame::unicast(&to, payload), data),
        Ok(Inbound::Broadcast { payload }) => assert_eq!(frame::broadcast(payload), data),
        Ok(Inbound::Signal { to, payload }) => assert_eq!(frame::signal(&to, payload), data),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(d) = frame::parse_delivery(data) {
        assert_eq!(frame::delivery(d.kind, &d.from, d.payload), data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = frame::parse_hello(text);
        if let Ok(c) = Control::from_json(text) {
            assert_eq!(Control::from_json(&c.to_json()), Ok(c));
        }
    }
});
