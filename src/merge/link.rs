//! Linkage: which records describe the same thing. Records of one entity are clustered by
//! union-find over their identity keys (one hash lookup per key: linear, never pairwise).
//! An *exclusive* key (an app id, a Stripe charge id) can never hold two values in one
//! cluster, so a shared weak key (a family email) cannot chain two different people.

use std::collections::HashMap;

/// How one identity key of an entity links records.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// The record field holding the key (`id`, `stripe_customer`, `email`, ...).
    pub field: &'static str,
    /// The key is only unique within a business (`email` of a customer).
    pub per_business: bool,
    /// Two different values of this key mean two different things (cannot-link).
    pub exclusive: bool,
    /// The key finds an entity but never joins records: it names the one cluster that
    /// shows it, and nothing when several do (a customer's email: a family shares one,
    /// so whether two records are one person is the linkage engine's call).
    pub lookup_only: bool,
}

/// Union-find with cannot-link constraints on exclusive keys.
pub struct Clusters {
    parent: Vec<usize>,
    /// Per root: the values of exclusive keys (index into the spec list -> value).
    exclusive: Vec<Vec<(usize, String)>>,
}

impl Clusters {
    pub fn new(n: usize) -> Self {
        Clusters {
            parent: (0..n).collect(),
            exclusive: vec![Vec::new(); n],
        }
    }

    /// Adds a node (e.g. a stub for an entity only referred to) and returns its index.
    pub fn add(&mut self) -> usize {
        self.parent.push(self.parent.len());
        self.exclusive.push(Vec::new());
        self.parent.len() - 1
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    pub fn find(&mut self, mut x: usize) -> usize {
        let mut root = x;
        while self.parent[root] != root {
            root = self.parent[root];
        }
        while self.parent[x] != root {
            let next = self.parent[x];
            self.parent[x] = root;
            x = next;
        }
        root
    }

    /// Records that node `x` holds value `v` of exclusive key `k`. Returns false (and
    /// records nothing) when its cluster already holds another value.
    pub fn set_exclusive(&mut self, x: usize, k: usize, v: &str) -> bool {
        let r = self.find(x);
        match self.exclusive[r].iter().find(|(kk, _)| *kk == k) {
            Some((_, have)) => have == v,
            None => {
                self.exclusive[r].push((k, v.to_string()));
                true
            }
        }
    }

    /// The exclusive key values of a root, sorted.
    pub fn exclusive_of(&self, root: usize) -> Vec<(usize, String)> {
        let mut v = self.exclusive[root].clone();
        v.sort();
        v
    }

    /// Joins the clusters of `a` and `b` unless an exclusive key disagrees. Returns whether
    /// they are (now) one cluster.
    pub fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        for (k, v) in &self.exclusive[rb] {
            if let Some((_, w)) = self.exclusive[ra].iter().find(|(kk, _)| kk == k) {
                if w != v {
                    return false;
                }
            }
        }
        // Deterministic: the smaller index becomes the root.
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        let moved = std::mem::take(&mut self.exclusive[child]);
        for (k, v) in moved {
            if !self.exclusive[root].iter().any(|(kk, _)| *kk == k) {
                self.exclusive[root].push((k, v));
            }
        }
        self.parent[child] = root;
        true
    }
}

/// An index from (scope, key index, value) to the first node that showed it.
#[derive(Default)]
pub struct KeyIndex {
    map: HashMap<(usize, usize, String), usize>,
}

impl KeyIndex {
    /// Links `node` to whatever already holds this key, or registers it. Returns false when
    /// a cannot-link constraint kept them apart (a conflict worth reporting).
    pub fn link(
        &mut self,
        clusters: &mut Clusters,
        node: usize,
        scope: usize,
        key: usize,
        value: &str,
    ) -> bool {
        match self.map.get(&(scope, key, value.to_string())) {
            Some(&other) => clusters.union(node, other),
            None => {
                self.map.insert((scope, key, value.to_string()), node);
                true
            }
        }
    }

    /// Registers `node` for a key without joining anything.
    pub fn insert(&mut self, node: usize, scope: usize, key: usize, value: &str) {
        self.map.insert((scope, key, value.to_string()), node);
    }

    pub fn get(&self, scope: usize, key: usize, value: &str) -> Option<usize> {
        self.map.get(&(scope, key, value.to_string())).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_keys_block_chaining() {
        // a(id 1, email f) b(id 2, email f): a shared family email must not join them.
        let mut c = Clusters::new(3);
        assert!(c.set_exclusive(0, 0, "1"));
        assert!(c.set_exclusive(1, 0, "2"));
        assert!(!c.union(0, 1));
        // c has no id: it joins a.
        assert!(c.union(2, 0));
        assert_eq!(c.find(2), c.find(0));
        assert_ne!(c.find(1), c.find(0));
    }

    #[test]
    fn index_links_by_value() {
        let mut c = Clusters::new(3);
        let mut ix = KeyIndex::default();
        assert!(ix.link(&mut c, 0, 0, 1, "x"));
        assert!(ix.link(&mut c, 2, 0, 1, "x"));
        assert!(ix.link(&mut c, 1, 1, 1, "x")); // other scope
        assert_eq!(c.find(2), 0);
        assert_eq!(c.find(1), 1);
    }
}
