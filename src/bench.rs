//! The device benchmark behind `deid bench`: throughput of every transform
//! and of the hash-reversal loop on this CPU, with the code path each took.
