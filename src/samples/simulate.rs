//! Simulates the true world of an incident (being written).

use super::world::{Flavour, World};

/// A deterministic world: the same `(businesses, seed, flavour)` always gives the same world.
pub fn simulate(_businesses: usize, _seed: u64, _flavour: Flavour) -> World {
    unimplemented!()
}
