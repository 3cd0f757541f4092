//! The client context decoder (`Context::from_bytes`): never panics, and accepts only
//! canonical input (an accepted context re-encodes to exactly the same bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringlet::core::Context;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Context::from_bytes(data) {
        assert_eq!(c.to_bytes(), data);
    }
});
