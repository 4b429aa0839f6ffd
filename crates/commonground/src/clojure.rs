//! Clojure's iteration orders, where Polis's tie-breaks depend on them.
//!
//! Polis keeps clusters and vote counts in Clojure maps. A map of at most 8 entries iterates in
//! insertion order (`PersistentArrayMap`); a larger one iterates in its hash trie's order
//! (`PersistentHashMap`: 5 bits of the Murmur3 `hasheq` at a time, lowest bits first). `min-key` and
//! `max-key` return the **last** extreme element in that order, and `sort-by` is stable over it, so
//! reproducing Polis's ties (nearest cluster, the in-conv top-up of PR #2623) needs this order.

use crate::votes::Id;

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

fn mix_k1(k1: u32) -> u32 {
    k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

fn mix_h1(h1: u32, k1: u32) -> u32 {
    (h1 ^ k1).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64)
}

fn fmix(mut h1: u32, length: u32) -> u32 {
    h1 ^= length;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^= h1 >> 16;
    h1
}

/// `clojure.lang.Murmur3/hashLong`: Clojure's `hash` of a Long.
pub(crate) fn hash_long(input: i64) -> u32 {
    if input == 0 {
        return 0;
    }
    let low = input as u32;
    let high = ((input as u64) >> 32) as u32;
    let h1 = mix_h1(0, mix_k1(low));
    let h1 = mix_h1(h1, mix_k1(high));
    fmix(h1, 8)
}

/// `clojure.lang.Murmur3/hashInt`.
fn hash_int(input: u32) -> u32 {
    if input == 0 {
        return 0;
    }
    fmix(mix_h1(0, mix_k1(input)), 4)
}

/// Clojure's `hash` of a String: `hashInt(String.hashCode())`, over UTF-16 code units.
fn hash_string(s: &str) -> u32 {
    let java = s.encode_utf16().fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(c as u32));
    hash_int(java)
}

/// Clojure's `hash` of an id (Long or String key).
pub(crate) fn hasheq(id: &Id) -> u32 {
    match id {
        Id::Int(n) => hash_long(*n),
        Id::Str(s) => hash_string(s),
    }
}

/// The position of a hash in a `PersistentHashMap`'s iteration: 5-bit chunks, lowest first.
fn trie_key(hash: u32) -> [u8; 7] {
    let mut key = [0u8; 7];
    for (i, k) in key.iter_mut().enumerate() {
        *k = ((hash >> (5 * i)) & 0x1f) as u8;
    }
    key
}

/// The order in which a Clojure map built by inserting `hashes` (in this order) iterates its
/// entries: insertion order up to 8 entries, hash-trie order above. Equal hashes (a collision
/// node) keep insertion order.
pub(crate) fn map_order(hashes: &[u32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    if hashes.len() > 8 {
        order.sort_by_key(|&i| trie_key(hashes[i]));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_clojure_hash_of_small_longs() {
        // (hash 1) => 1392991556, (hash 2) => -971005196, (hash -1) => 1651860712 in Clojure 1.10.
        assert_eq!(hash_long(0), 0);
        assert_eq!(hash_long(1) as i32, 1392991556);
        assert_eq!(hash_long(2) as i32, -971005196);
        assert_eq!(hash_long(-1) as i32, 1651860712);
    }

    #[test]
    fn clojure_hash_of_strings_goes_through_java_hashcode() {
        // (hash "a") => 1455541201 in Clojure 1.10 ("a".hashCode() = 97).
        assert_eq!(hash_string("a") as i32, 1455541201);
    }

    #[test]
    fn small_maps_keep_insertion_order_large_maps_follow_the_trie() {
        let small: Vec<u32> = (0..8).map(hash_long).collect();
        assert_eq!(map_order(&small), (0..8).collect::<Vec<_>>());
        let large: Vec<u32> = (0..9).map(hash_long).collect();
        let order = map_order(&large);
        // (keys (into {} (map vector (range 9) (range 9)))) => (0 7 1 4 6 3 2 5 8) in Clojure 1.10.
        assert_eq!(order, vec![0, 7, 1, 4, 6, 3, 2, 5, 8]);
    }
}
