//! Civil dates (proleptic Gregorian) without `std`: parsing `YYYY-MM-DD`
//! and friends, day arithmetic for date shifting, ages for age bands.
