//! Linkage settings as data (Splink's idea): which pairs are compared (blocking rules),
//! how each field is compared (comparisons with levels), and how sure a link must be.
//! They are read from an incident's `[linkage.<entity>]` table; every field has a default
//! a real incident can live with, and nothing here holds a weight: weights are estimated
//! from the incident's own records (see [`super::estimate`]).

use serde::{Deserialize, Serialize};

/// Which pairs of records are candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// Every pair (one set of records that holds duplicates).
    #[default]
    Dedupe,
    /// Only pairs from different sources, each source free of duplicates: a cluster
    /// holds at most one record of each source.
    LinkOnly,
    /// Every pair, sources may hold duplicates.
    LinkAndDedupe,
}

/// How one field is compared; each kind has its own levels (see [`super::compare`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Equal after trimming and case folding, or not.
    Exact,
    /// Free text: exact, one edit, Jaro-Winkler bands.
    Text,
    /// A person's name: accents, token order and initials.
    Name,
    /// An email: case, `+tags`, domain typos, local-part typos.
    Email,
    /// A phone number (E.164 where the caller could make it so).
    Phone,
    /// A date: exact, one digit off, day and month swapped.
    Date,
}

/// One compared field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// The record field (`email`, `attr.surname`, ...).
    pub field: String,
    pub kind: Kind,
    /// Term-frequency adjustment at the exact level: agreeing on a common value (a
    /// common surname, a shared address) says less than agreeing on a rare one.
    #[serde(default)]
    pub tf: bool,
}

/// The engine's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub link_type: LinkType,
    /// OR-ed rules; each is one or more keys AND-ed with `&`: `email_local(email)`,
    /// `phone(phone)`, `token(name)`, `soundex(last(name)) & first(attr.date_of_birth)`.
    /// Functions: `exact`, `lower`, `email_local`, `phone`, `token` (each word),
    /// `first`, `last` (word), `soundex`, `metaphone`, `prefix3`, `digits`.
    pub blocking: Vec<String>,
    pub comparisons: Vec<Comparison>,
    /// Match probability at or above which two records are one.
    pub threshold: f64,
    /// Two clusters never join when some pair across them, compared, scored below this
    /// probability (a shared email must not chain two people whose names disagree).
    pub min_cross_probability: f64,
    /// A record whose two best candidates (that cannot be one) score within this many
    /// bits of each other is not linked to either: it is ambiguous, for review.
    pub ambiguity_bits: f64,
    /// Blocks larger than this are not compared (counted and reported, never silent).
    pub max_block_size: usize,
    /// Random pairs sampled to estimate u (how often non-matches agree).
    pub u_sample_pairs: usize,
    pub em_iterations: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            link_type: LinkType::Dedupe,
            blocking: Vec::new(),
            comparisons: Vec::new(),
            threshold: 0.5,
            min_cross_probability: 0.02,
            ambiguity_bits: 1.0,
            max_block_size: 1000,
            u_sample_pairs: 200_000,
            em_iterations: 100,
            seed: 7,
        }
    }
}

impl Settings {
    /// The defaults for people with a name, an email and a phone.
    pub fn people() -> Settings {
        let c = |field: &str, kind, tf| Comparison {
            field: field.into(),
            kind,
            tf,
        };
        Settings {
            blocking: vec![
                "email_local(email)".into(),
                "phone(phone)".into(),
                "token(name)".into(),
                "soundex(last(name))".into(),
            ],
            comparisons: vec![
                c("name", Kind::Name, true),
                c("email", Kind::Email, true),
                c("phone", Kind::Phone, true),
            ],
            ..Settings::default()
        }
    }

    /// Checks what serde cannot: rules parse, comparisons exist, numbers are sane.
    pub fn validate(&self) -> Result<(), String> {
        if self.comparisons.is_empty() {
            return Err("linkage needs at least one comparison".into());
        }
        if self.blocking.is_empty() {
            return Err(
                "linkage needs at least one blocking rule (else every pair would be compared)"
                    .into(),
            );
        }
        if self.comparisons.len() > 21 {
            return Err("at most 21 comparisons".into());
        }
        if self.blocking.len() > 32 {
            return Err("at most 32 blocking rules".into());
        }
        for r in &self.blocking {
            super::block::Rule::parse(r)?;
        }
        if !(0.0..=1.0).contains(&self.threshold) || self.threshold == 0.0 {
            return Err(format!("threshold {} is not in (0, 1]", self.threshold));
        }
        Ok(())
    }
}
