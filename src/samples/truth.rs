//! The truth of a world at its incident time, as a [`Recovered`](crate::merge::Recovered)
//! (confidence 1) written by the contract exporter (being written).
