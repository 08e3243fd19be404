//! The input layer: one grammar per format for every command, the ordered
//! parallel pipeline and atomic output (temporary file renamed into place on
//! success).
//!
//! - [`record`]: CSV records as `csv_core` parses them, the only CSV grammar.
//! - `chunk`: cutting an input into runs of whole records (BOM, unterminated
//!   quotes and record-size limits are decided there, once).
//! - [`json_path`]: dotted paths into JSON Lines records.
//! - [`table`]: row-by-row reading for `scan` and the audits.
//! - [`pipeline`]: `apply` and `decrypt`, parallel, in input order.
//! - `parquet` (feature `parquet`): Parquet in and out for `apply` and
//!   `decrypt`, on the Arrow batch API (`src/arrow/mod.rs`).
//! - [`suppress`]: the classes `apply` leaves out under a policy's `[suppress]`.
//! - [`error`]: the one error type, with file, row, column and rule.
//! - [`header`]: telling a header cell from a value, so no message echoes data.

pub mod atomic;
pub(crate) mod chunk;
pub mod error;
pub mod format;
pub mod header;
pub mod json_path;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod pipeline;
mod process;
pub mod record;
pub mod rng;
pub mod suppress;
pub mod table;

pub use chunk::MAX_RECORD_BYTES;
pub use error::{InputError, InputErrorKind};
pub use format::Format;
