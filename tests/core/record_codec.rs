//! The stored-record codec (`core/record.rs`) every storage engine uses: every record of every
//! store decodes from its own encoding; every single-bit flip and every truncation is caught
//! (CRC32C); a valid record of one store is refused in another; arbitrary bytes never panic
//! and whatever they decode to re-encodes faithfully; the checksum is the standard CRC-32C.

use proptest::prelude::*;
use ringlet::core::membership::{MemberInfo, RingState};
use ringlet::core::record::{self, crc32c, Loader, Record, RecordError, RecordStore};
use ringlet::core::{
    Bytes, Dot, ForwardMark, Member, MembershipSnapshot, NodeId, NodeMeta, Ring, Siblings, Status,
    Value, Version, VersionVector,
};

fn bytes() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn node() -> impl Strategy<Value = NodeId> {
    "[a-z0-9@~.]{1,12}".prop_map(|s| NodeId::new(&s))
}

fn siblings() -> impl Strategy<Value = Siblings> {
    let value = prop_oneof![bytes().prop_map(Value::Data), Just(Value::Tombstone)];
    let past = prop::collection::vec((node(), 0..50u64), 0..4).prop_map(|pairs| {
        let mut vv = VersionVector::new();
        for (n, c) in pairs {
            vv.raise(&n, c);
        }
        vv
    });
    let version = ((node(), 1..1_000u64), past, value, any::<u64>()).prop_map(
        |((n, c), past, value, timestamp_ms)| Version {
            dot: Dot::new(n, c),
            past,
            value,
            timestamp_ms,
        },
    );
    prop::collection::vec(version, 0..4).prop_map(Siblings::from_versions)
}

fn membership() -> impl Strategy<Value = MembershipSnapshot> {
    let status = prop::sample::select(vec![
        Status::Joining,
        Status::Valid,
        Status::Leaving,
        Status::Exiting,
        Status::Down,
    ]);
    let info = (any::<u64>(), status, 1..5u32, any::<bool>()).prop_map(
        |(version, status, capacity, durable)| MemberInfo {
            version,
            status,
            capacity,
            durable,
        },
    );
    (
        prop::collection::vec((node(), info), 0..5),
        any::<bool>(),
        1..20u64,
    )
        .prop_map(|(entries, with_ring, epoch)| {
            let ring = with_ring.then(|| {
                let members: Vec<Member> =
                    ["a", "b", "c"].iter().map(|n| Member::new(*n, 1)).collect();
                RingState {
                    epoch,
                    ring: Ring::claim(16, None, &members, 2).expect("a ring"),
                }
            });
            MembershipSnapshot { entries, ring }
        })
}

fn record() -> impl Strategy<Value = Record> {
    prop_oneof![
        (bytes(), siblings()).prop_map(|(key, versions)| Record::Object { key, versions }),
        (node(), bytes(), siblings()).prop_map(|(intended, key, versions)| Record::Hint {
            intended,
            key,
            versions
        }),
        (
            any::<u64>(),
            any::<u64>(),
            proptest::collection::btree_set(any::<u32>(), 0..8)
        )
            .prop_map(|(dot_reserved, fallback_generation, handed_off_parts)| {
                Record::Meta(NodeMeta {
                    dot_reserved,
                    fallback_generation,
                    handed_off_parts,
                })
            }),
        membership().prop_map(Record::Membership),
        (bytes(), siblings()).prop_map(|(key, versions)| Record::Fallback { key, versions }),
        (node(), any::<u64>(), any::<u64>()).prop_map(|(from, rid, expires_ms)| {
            Record::Forward(ForwardMark {
                from,
                rid,
                expires_ms,
            })
        }),
    ]
}

#[test]
fn the_checksum_is_crc32c() {
    // The standard check value of CRC-32C (iSCSI, RFC 3720).
    assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    assert_eq!(crc32c(b""), 0);
}

#[test]
fn the_format_is_version_kind_payload_checksum() {
    let r = record::encode_meta(&NodeMeta {
        dot_reserved: 5,
        fallback_generation: 0,
        handed_off_parts: [7].into(),
    });
    assert_eq!(
        &r[..6],
        &[1, 3, 5, 0, 1, 7],
        "version 1, kind 3 (meta), postcard varints 5 (dots), 0 (fallback generation), \
         then the handed-off partitions: 1 of them, 7"
    );
    assert_eq!(r.len(), 6 + 4);
    assert_eq!(&r[6..], &crc32c(&r[..6]).to_le_bytes());
}

#[test]
fn a_meta_record_of_an_older_build_still_loads() {
    // Before the fallback generation, the meta record held the dot reservation alone.
    let mut old = vec![1, 3, 0xe8, 0x07]; // 1,000 as a postcard varint
    old.extend_from_slice(&crc32c(&old).to_le_bytes());
    assert_eq!(
        record::decode(&old),
        Ok(Record::Meta(NodeMeta {
            dot_reserved: 1_000,
            ..NodeMeta::default()
        }))
    );
    // Before the handed-off partitions: the reservation and the fallback generation.
    let mut old = vec![1, 3, 0xe8, 0x07, 2];
    old.extend_from_slice(&crc32c(&old).to_le_bytes());
    assert_eq!(
        record::decode(&old),
        Ok(Record::Meta(NodeMeta {
            dot_reserved: 1_000,
            fallback_generation: 2,
            ..NodeMeta::default()
        }))
    );
}

#[test]
fn each_kind_of_damage_has_its_own_error() {
    let good = record::encode_meta(&NodeMeta {
        dot_reserved: 5,
        ..NodeMeta::default()
    });
    assert_eq!(record::decode(&good[..3]), Err(RecordError::TooShort(3)));
    let mut bad = good.clone();
    bad[2] ^= 1;
    assert!(matches!(
        record::decode(&bad),
        Err(RecordError::Checksum { .. })
    ));
    // A different version or kind with a valid checksum (a newer build, or garbage).
    let reseal = |mut body: Vec<u8>| {
        body.truncate(body.len() - 4);
        let crc = crc32c(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    };
    let mut v2 = good.clone();
    v2[0] = 2;
    assert_eq!(record::decode(&reseal(v2)), Err(RecordError::Version(2)));
    let mut k9 = good.clone();
    k9[1] = 9;
    assert_eq!(record::decode(&reseal(k9)), Err(RecordError::Kind(9)));
    let mut trailing = good.clone();
    trailing.insert(3, 0);
    assert!(matches!(
        record::decode(&reseal(trailing)),
        Err(RecordError::Payload(_))
    ));
    assert_eq!(
        record::decode_in(RecordStore::Objects, &good),
        Err(RecordError::WrongStore {
            expected: RecordStore::Objects,
            found: RecordStore::Meta
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_record_decodes_from_its_encoding(r in record()) {
        let bytes = r.encode();
        prop_assert_eq!(record::decode(&bytes), Ok(r.clone()));
        prop_assert_eq!(record::decode_in(r.store(), &bytes), Ok(r.clone()));
        for other in RecordStore::ALL.into_iter().filter(|s| *s != r.store()) {
            prop_assert!(record::decode_in(other, &bytes).is_err());
        }
    }

    #[test]
    fn every_single_bit_flip_is_caught(r in record(), at in any::<prop::sample::Index>(), bit in 0..8u8) {
        let mut bytes = r.encode();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(record::decode(&bytes).is_err(), "flip of bit {} in byte {} accepted", bit, i);
    }

    #[test]
    fn every_truncation_is_caught(r in record(), cut in any::<prop::sample::Index>()) {
        let bytes = r.encode();
        let len = cut.index(bytes.len());
        prop_assert!(record::decode(&bytes[..len]).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(r) = record::decode(&data) {
            prop_assert_eq!(record::decode(&r.encode()), Ok(r));
        }
        let mut loader = Loader::new();
        loader.add(RecordStore::Objects, None, None, &data);
        let snap = loader.finish();
        prop_assert_eq!(snap.objects.len() + snap.corrupt.len(), 1);
    }

    #[test]
    fn a_load_keeps_the_good_records_and_lists_the_bad(
        records in prop::collection::vec((record(), any::<bool>()), 1..8),
    ) {
        let mut loader = Loader::new();
        let mut bad = 0;
        for (r, damage) in &records {
            let mut bytes = r.encode();
            if *damage {
                let last = bytes.len() - 1;
                bytes[last] ^= 0x80;
                bad += 1;
            }
            loader.add(r.store(), None, None, &bytes);
        }
        let snap = loader.finish();
        prop_assert_eq!(snap.corrupt.len(), bad);
        for (r, damage) in &records {
            if let (Record::Object { key, .. }, false) = (r, damage) {
                prop_assert!(snap.objects.contains_key(key));
            }
        }
    }
}
