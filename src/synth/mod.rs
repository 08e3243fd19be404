//! Deterministic synthetic exports (`deid gen`) for demos, tests and benchmarks.
