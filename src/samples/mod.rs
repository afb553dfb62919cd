//! `salvage samples generate`: a realistic incident with its truth. The only module that
//! knows sample apps (see [`world::Flavour`]).

pub mod world;
