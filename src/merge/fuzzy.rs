//! A second, careful linkage pass for people: a record that carries no app id and whose
//! email differs by a typo from a known customer's (`baopham322@` in a stale backup,
//! `baopham32@` in later mail) joins that customer when both also have the same name in
//! the same business, and only one known customer fits. Blocked by (business, name), so
//! never pairwise over all customers.

use super::link::Clusters;
use super::normalize;
use std::collections::BTreeMap;

/// One customer record as the fuzzy pass sees it.
pub struct Person<'a> {
    pub node: usize,
    /// The business cluster it belongs to.
    pub scope: usize,
    pub name: &'a str,
    pub email: &'a str,
}

/// Emails that differ by a typo: at most two edits (insert, delete, substitute,
/// transpose) over the whole address, and not just in the domain's top level.
pub fn typo_of(a: &str, b: &str) -> bool {
    let (a, b) = (normalize::email(a), normalize::email(b));
    if a == b || a.is_empty() || b.is_empty() {
        return a == b;
    }
    let d = strsim::damerau_levenshtein(&a, &b);
    let shortest = a.len().min(b.len());
    d <= 2 && shortest >= 8
}

/// Joins typo'd customers to the one known customer they fit. Returns how many joined.
pub fn link_typos(clusters: &mut Clusters, people: &[Person<'_>]) -> usize {
    let mut blocks: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    for (i, p) in people.iter().enumerate() {
        let name = normalize::name_key(p.name);
        if !name.is_empty() && !p.email.is_empty() {
            blocks.entry((p.scope, name)).or_default().push(i);
        }
    }
    let mut joined = 0;
    for members in blocks.values() {
        if members.len() < 2 {
            continue;
        }
        // Roots that hold an app id (an exclusive key), with their emails.
        let mut known: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for &i in members {
            let r = clusters.find(people[i].node);
            if !clusters.exclusive_of(r).is_empty() {
                known.entry(r).or_default().push(people[i].email);
            }
        }
        for &i in members {
            let r = clusters.find(people[i].node);
            if known.contains_key(&r) {
                continue;
            }
            let fits: Vec<usize> = known
                .iter()
                .filter(|(_, emails)| emails.iter().any(|e| typo_of(e, people[i].email)))
                .map(|(root, _)| *root)
                .collect();
            if let [only] = fits[..] {
                if clusters.union(only, people[i].node) {
                    joined += 1;
                }
            }
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_but_not_other_people() {
        assert!(typo_of("baopham322@comcast.net", "baopham32@comcast.net"));
        assert!(typo_of("ann.lee@gmial.com", "ann.lee@gmail.com"));
        assert!(typo_of("Ann.Lee@Gmail.com", "ann.lee@gmail.com"));
        assert!(!typo_of("ann@x.io", "bob@x.io"));
        assert!(!typo_of("a@b.co", "c@b.co"), "too short to tell");
    }

    #[test]
    fn joins_only_a_single_fitting_known_customer() {
        let mut c = Clusters::new(3);
        assert!(c.set_exclusive(0, 0, "139"));
        let people = [
            Person {
                node: 0,
                scope: 1,
                name: "Phạm Quốc Bảo",
                email: "baopham322@comcast.net",
            },
            Person {
                node: 1,
                scope: 1,
                name: "phạm quốc bảo",
                email: "baopham32@comcast.net",
            },
            // Same email typo distance, other business: stays apart.
            Person {
                node: 2,
                scope: 2,
                name: "Phạm Quốc Bảo",
                email: "baopham32@comcast.net",
            },
        ];
        assert_eq!(link_typos(&mut c, &people), 1);
        assert_eq!(c.find(1), c.find(0));
        assert_ne!(c.find(2), c.find(0));
    }
}
