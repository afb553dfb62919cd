//! Clustering scored pairs into entities, strongest evidence first, so that similarity
//! never overrides hard evidence and never chains two people:
//! - rows of one hard group (the caller joined them by an app id or a Stripe customer)
//!   are one from the start and are never split;
//! - two groups with different exclusive keys (two app ids) never join;
//! - with `link_only`, a cluster holds at most one row of each source;
//! - two clusters never join when a compared pair across them scored below
//!   `min_cross_probability` (Ann and Bob who share a family email, and a mail that
//!   names neither, do not become one through the mail);
//! - a group whose two best candidates cannot be one and score within `ambiguity_bits`
//!   joins neither: it is ambiguous and goes to review.

use super::Row;
use std::collections::HashMap;

/// A pair as scored.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    pub a: u32,
    pub b: u32,
    /// Match weight plus prior, in bits.
    pub bits: f64,
}

pub struct Outcome {
    /// Per row: the smallest row index of its cluster.
    pub cluster: Vec<u32>,
    /// Indices (into the scored pairs) of the pairs that joined two clusters.
    pub joins: Vec<usize>,
    /// Rows left apart because two incompatible candidates fit about equally:
    /// (row, [(candidate row, bits)]).
    pub ambiguous: Vec<(u32, Vec<(u32, f64)>)>,
    /// Joins refused because a pair across the clusters disagreed.
    pub refused_cross: u64,
    /// Joins refused by exclusive keys or one-row-per-source.
    pub refused_exclusive: u64,
}

struct Uf {
    parent: Vec<u32>,
    exclusive: Vec<Option<u64>>,
    sources: Vec<u64>,
    forbid: Vec<Vec<u32>>,
}

impl Uf {
    fn find(&mut self, mut x: u32) -> u32 {
        let mut r = x;
        while self.parent[r as usize] != r {
            r = self.parent[r as usize];
        }
        while self.parent[x as usize] != r {
            let n = self.parent[x as usize];
            self.parent[x as usize] = r;
            x = n;
        }
        r
    }
}

fn compatible(ex: (Option<u64>, Option<u64>), src: (u64, u64), one_per_source: bool) -> bool {
    let ex_ok = match ex {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    ex_ok && !(one_per_source && src.0 & src.1 != 0)
}

pub fn cluster(
    rows: &[Row],
    pairs: &[Scored],
    threshold_bits: f64,
    cross_bits: f64,
    ambiguity_bits: f64,
    one_per_source: bool,
) -> Outcome {
    // Dense group ids.
    let mut dense: HashMap<u32, u32> = HashMap::new();
    let mut row_group = Vec::with_capacity(rows.len());
    let mut first_row: Vec<u32> = Vec::new();
    let mut exclusive: Vec<Option<u64>> = Vec::new();
    let mut sources: Vec<u64> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let g = *dense.entry(r.group).or_insert_with(|| {
            first_row.push(i as u32);
            exclusive.push(None);
            sources.push(0);
            first_row.len() as u32 - 1
        });
        row_group.push(g);
        if exclusive[g as usize].is_none() {
            exclusive[g as usize] = r.exclusive;
        }
        sources[g as usize] |= 1u64 << (r.source % 64);
    }
    let ng = first_row.len();
    // Per group pair: the best pair and whether any pair across scored too low.
    // (group a, group b, pair, bits), the best pair of each group pair (sorted, not
    // hashed: a third of the memory at a million pairs).
    let mut edges: Vec<(u32, u32, u32, f64)> = Vec::new();
    let mut forbid: Vec<Vec<u32>> = vec![Vec::new(); ng];
    for (i, p) in pairs.iter().enumerate() {
        let (ga, gb) = (row_group[p.a as usize], row_group[p.b as usize]);
        if ga == gb {
            continue;
        }
        if p.bits < cross_bits {
            forbid[ga as usize].push(gb);
            forbid[gb as usize].push(ga);
        }
        edges.push((ga.min(gb), ga.max(gb), i as u32, p.bits));
    }
    edges.sort_unstable_by(|x, y| {
        (x.0, x.1)
            .cmp(&(y.0, y.1))
            .then(y.3.total_cmp(&x.3))
            .then(x.2.cmp(&y.2))
    });
    edges.dedup_by(|later, first| (later.0, later.1) == (first.0, first.1));
    let forbidden = |x: u32, y: u32, forbid: &[Vec<u32>]| forbid[x as usize].contains(&y);
    // Ambiguity: a group's two best candidates cannot be one and fit about equally.
    let mut best: Vec<Vec<(u32, f64, usize)>> = vec![Vec::new(); ng];
    for &(ga, gb, i, bits) in &edges {
        if bits >= threshold_bits {
            best[ga as usize].push((gb, bits, i as usize));
            best[gb as usize].push((ga, bits, i as usize));
        }
    }
    let mut ambiguous_group = vec![false; ng];
    let mut ambiguous = Vec::new();
    for g in 0..ng {
        let b = &mut best[g];
        if b.len() < 2 {
            continue;
        }
        b.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        let (n1, n2) = (b[0].0, b[1].0);
        let apart = !compatible(
            (exclusive[n1 as usize], exclusive[n2 as usize]),
            (sources[n1 as usize], sources[n2 as usize]),
            one_per_source,
        ) || forbidden(n1, n2, &forbid);
        if apart && b[0].1 - b[1].1 <= ambiguity_bits {
            ambiguous_group[g] = true;
            let other = |i: usize| {
                let p = pairs[i];
                if row_group[p.a as usize] as usize == g {
                    p.b
                } else {
                    p.a
                }
            };
            ambiguous.push((
                first_row[g],
                b.iter().take(3).map(|x| (other(x.2), x.1)).collect(),
            ));
        }
    }
    let mut order: Vec<(u32, u32, usize, f64)> = edges
        .into_iter()
        .filter(|e| e.3 >= threshold_bits)
        .filter(|e| !ambiguous_group[e.0 as usize] && !ambiguous_group[e.1 as usize])
        .map(|(a, b, i, bits)| (a, b, i as usize, bits))
        .collect();
    order.sort_by(|x, y| y.3.total_cmp(&x.3).then((x.0, x.1).cmp(&(y.0, y.1))));
    let mut uf = Uf {
        parent: (0..ng as u32).collect(),
        exclusive,
        sources,
        forbid,
    };
    let (mut joins, mut refused_cross, mut refused_exclusive) = (Vec::new(), 0, 0);
    for (a, b, i, _) in order {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra == rb {
            continue;
        }
        if !compatible(
            (uf.exclusive[ra as usize], uf.exclusive[rb as usize]),
            (uf.sources[ra as usize], uf.sources[rb as usize]),
            one_per_source,
        ) {
            refused_exclusive += 1;
            continue;
        }
        let fa = std::mem::take(&mut uf.forbid[ra as usize]);
        let clash = fa.iter().any(|&f| uf.find(f) == rb);
        uf.forbid[ra as usize] = fa;
        if clash {
            refused_cross += 1;
            continue;
        }
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        uf.parent[child as usize] = root;
        let moved = std::mem::take(&mut uf.forbid[child as usize]);
        uf.forbid[root as usize].extend(moved);
        if uf.exclusive[root as usize].is_none() {
            uf.exclusive[root as usize] = uf.exclusive[child as usize];
        }
        uf.sources[root as usize] |= uf.sources[child as usize];
        joins.push(i);
    }
    let mut first_of_root: HashMap<u32, u32> = HashMap::new();
    let mut cluster = Vec::with_capacity(rows.len());
    for (i, &g) in row_group.iter().enumerate() {
        let r = uf.find(g);
        cluster.push(*first_of_root.entry(r).or_insert(i as u32));
    }
    ambiguous.sort_by_key(|x| x.0);
    Outcome {
        cluster,
        joins,
        ambiguous,
        refused_cross,
        refused_exclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(group: u32, exclusive: Option<u64>) -> Row {
        Row {
            group,
            exclusive,
            ..Row::default()
        }
    }

    #[test]
    fn a_shared_email_does_not_chain_two_people() {
        // 0 Ann (id 1), 1 Bob (id 2), 2 a mail to the family email with Ann's name.
        let rows = [row(0, Some(1)), row(1, Some(2)), row(2, None)];
        let pairs = [
            Scored {
                a: 0,
                b: 1,
                bits: -8.0,
            },
            Scored {
                a: 0,
                b: 2,
                bits: 12.0,
            },
            Scored {
                a: 1,
                b: 2,
                bits: 3.0,
            },
        ];
        let o = cluster(&rows, &pairs, 0.0, -5.0, 1.0, false);
        assert_eq!(o.cluster, vec![0, 1, 0]);
        assert_eq!(o.refused_exclusive, 1);
    }

    #[test]
    fn a_record_that_fits_two_people_equally_is_ambiguous() {
        let rows = [row(0, Some(1)), row(1, Some(2)), row(2, None)];
        let pairs = [
            Scored {
                a: 0,
                b: 2,
                bits: 6.0,
            },
            Scored {
                a: 1,
                b: 2,
                bits: 5.5,
            },
        ];
        let o = cluster(&rows, &pairs, 0.0, -5.0, 1.0, false);
        assert_eq!(o.cluster, vec![0, 1, 2]);
        assert_eq!(o.ambiguous.len(), 1);
        assert_eq!(o.ambiguous[0].0, 2);
    }

    #[test]
    fn disagreement_across_clusters_blocks_the_join() {
        // 0 and 1 are both fine with 2, but 0 and 1 clearly differ.
        let rows = [row(0, None), row(1, None), row(2, None)];
        let pairs = [
            Scored {
                a: 0,
                b: 2,
                bits: 10.0,
            },
            Scored {
                a: 1,
                b: 2,
                bits: 4.0,
            },
            Scored {
                a: 0,
                b: 1,
                bits: -9.0,
            },
        ];
        let o = cluster(&rows, &pairs, 0.0, -5.0, 1.0, false);
        assert_eq!(o.cluster, vec![0, 1, 0]);
        assert_eq!(o.refused_cross, 1);
    }
}
