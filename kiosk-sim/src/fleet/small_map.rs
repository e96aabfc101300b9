//! A map for the few rows a simulated kiosk's journal holds at a time (the
//! open session, its notes, its pending payments): a `Vec` of pairs sorted
//! by key.
//!
//! It iterates in key order, like the `BTreeMap` it replaces, so every
//! answer the journal builds from it is the same. Its rows lie in one
//! block that is kept between customers, where a B-tree node per map was
//! one more cold block to reach per journal write in a hall of a thousand
//! kiosks (the maps hold a handful of rows: a search is a few comparisons).

/// See the [module docs](self).
#[derive(Debug, Clone)]
pub(crate) struct SmallMap<K, V> {
    rows: Vec<(K, V)>,
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> SmallMap<K, V> {
        SmallMap { rows: Vec::new() }
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    /// Where `key` is, or where it would go.
    fn find(&self, key: &K) -> Result<usize, usize> {
        self.rows.binary_search_by(|(k, _)| k.cmp(key))
    }

    /// Sets `key`'s value; the one it had, if any.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.rows[i].1, value)),
            Err(i) => {
                self.rows.insert(i, (key, value));
                None
            }
        }
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// `key`'s value.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        let i = self.find(key).ok()?;
        Some(&self.rows[i].1)
    }

    /// `key`'s value, to change.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let i = self.find(key).ok()?;
        Some(&mut self.rows[i].1)
    }

    /// Takes `key`'s value out.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let i = self.find(key).ok()?;
        Some(self.rows.remove(i).1)
    }

    /// Keeps only the rows `keep` says yes to (in key order).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.rows.retain_mut(|(k, v)| keep(k, v));
    }

    /// The rows in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.rows.iter().map(|(k, v)| (k, v))
    }

    /// The values in key order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.rows.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The same operations give the same rows, in the same order, as a
    /// `BTreeMap`.
    #[test]
    fn behaves_like_a_btree_map() {
        let mut rng = crate::rng::SimRng::new(3);
        let mut small = SmallMap::default();
        let mut btree = BTreeMap::new();
        for round in 0..5_000u64 {
            let key = rng.below(12);
            match rng.below(5) {
                0 | 1 => assert_eq!(small.insert(key, round), btree.insert(key, round)),
                2 => assert_eq!(small.remove(&key), btree.remove(&key)),
                3 => {
                    if let Some(v) = small.get_mut(&key) {
                        *v += 1;
                    }
                    if let Some(v) = btree.get_mut(&key) {
                        *v += 1;
                    }
                }
                _ => {
                    small.retain(|k, v| (k + *v) % 3 != 0);
                    btree.retain(|k, v| (k + *v) % 3 != 0);
                }
            }
            assert_eq!(small.contains_key(&key), btree.contains_key(&key));
            assert_eq!(small.get(&key), btree.get(&key));
            assert!(small.iter().eq(btree.iter()), "round {round}");
            assert!(small.values().eq(btree.values()));
        }
    }
}
