//! Criterion benchmarks of the core primitives (filled in with the primitives).

fn main() {}
