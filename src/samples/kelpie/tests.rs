use super::*;
use crate::samples::truth::truth;

#[test]
fn placeholder_world_is_deterministic() {
    let a = serde_json::to_string(&simulate(8, 3)).unwrap();
    assert_eq!(a, serde_json::to_string(&simulate(8, 3)).unwrap());
    let _ = truth(&simulate(8, 3));
}
