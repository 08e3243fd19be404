//! The policy model (DESIGN.md, "Policy file"): which columns get which
//! transform, what happens to unlisted columns and to values that fail.
