//! The wire decoder (`Message::decode`, postcard): any bytes give a message or a typed error,
//! never a panic, and an accepted message survives its own round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringlet::core::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::decode(data) {
        assert_eq!(Message::decode(&m.encode()).as_ref(), Ok(&m));
    }
});
