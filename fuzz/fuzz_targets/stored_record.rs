//! The stored-record codec (`core::record`): any bytes give a verified record or a typed
//! error, never a panic; an accepted record survives its own round trip; a load of arbitrary
//! records never panics either. The input is also tried as a record body under a valid
//! checksum, so the fuzzer reaches the payload decoders (sibling validation, membership)
//! behind the CRC rather than stopping at it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringlet::core::record::{self, crc32c, Loader, RecordStore};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = record::decode(data) {
        assert_eq!(record::decode(&r.encode()).as_ref(), Ok(&r));
    }
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&crc32c(data).to_le_bytes());
    if let Ok(r) = record::decode(&sealed) {
        assert_eq!(record::decode(&r.encode()).as_ref(), Ok(&r));
    }
    let mut loader = Loader::new();
    for store in RecordStore::ALL {
        loader.add(store, None, None, data);
    }
    let snap = loader.finish();
    assert!(
        snap.corrupt.len() >= 3,
        "one record is of one store at most"
    );
});
