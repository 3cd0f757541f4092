//! Key hashing for consistent hashing (paper §4.2): a key is hashed to a 128-bit position on
//! the ring, and the position falls in one of `q` equal-size partitions (§6.2, strategy 3).
//!
//! The hash is MD5, as in the paper. MD5 is used for its uniform 128-bit output, not for
//! security: nothing here relies on collision resistance, and a client that picks keys can
//! only choose where its own keys live. At about 0.3 µs per short key it is not a bottleneck
//! next to the network round trips a request costs.

use md5::{Digest, Md5};

/// The ring position of `key`: the MD5 digest of the key read as a big-endian `u128`.
///
/// Every node computes the same position for the same key, on every platform.
pub fn key_hash(key: &[u8]) -> u128 {
    u128::from_be_bytes(Md5::digest(key).into())
}

/// The partition that ring position `hash` falls in when the ring is cut into `q` equal
/// partitions: for `q` a power of two (as [`Ring`](crate::core::ring::Ring) requires),
/// exactly the top `log2(q)` bits of `hash`, so partition `p` covers the positions
/// `p * 2^128 / q .. (p + 1) * 2^128 / q`.
///
/// The result is computed as `floor(hash * q / 2^128)` on the top 64 bits of `hash`,
/// which equals the top bits for a power of two and never panics: for any `q >= 1` the
/// result is below `q`, and `q = 0` yields 0.
pub fn partition_of(hash: u128, q: u32) -> u32 {
    // (hash >> 64) < 2^64 and q < 2^32, so the product fits in a u128, and the result
    // after the shift is below q.
    (((hash >> 64) * u128::from(q)) >> 64) as u32
}

/// FNV-1a, 64 bit: a small, fast, platform-independent hash for digests (membership
/// buckets, ring identities). Not for key placement (that is MD5, above).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_extend(0xcbf2_9ce4_8422_2325, bytes)
}

/// Continue an FNV-1a hash over more bytes.
pub fn fnv1a64_extend(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A strong 64-bit finaliser (from SplitMix64), so that XOR-combined digests of similar
/// inputs do not cancel out.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_known_strings() {
        assert_eq!(key_hash(b""), 0xd41d8cd98f00b204e9800998ecf8427e);
        assert_eq!(key_hash(b"abc"), 0x900150983cd24fb0d6963f7d28e17f72);
    }

    #[test]
    fn partition_is_the_top_bits() {
        let h = 0xd41d8cd98f00b204e9800998ecf8427e_u128;
        assert_eq!(partition_of(h, 1), 0);
        for bits in 1..=16 {
            assert_eq!(partition_of(h, 1 << bits), (h >> (128 - bits)) as u32);
        }
        assert_eq!(partition_of(u128::MAX, 65536), 65535);
        assert_eq!(partition_of(0, 65536), 0);
    }
}
