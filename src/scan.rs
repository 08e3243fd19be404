//! Detects identifier-like columns from a sample and suggests a policy.
