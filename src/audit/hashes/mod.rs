//! Reversal of hashed identifier columns: digest detection, candidate
//! spaces and the search loop.
