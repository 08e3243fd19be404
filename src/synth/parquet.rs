//! The synthetic export as Parquet (`deid gen --format parquet`): what a
//! warehouse would write, with `city` and `sex` dictionary-encoded, birth and
//! signup dates as `Date32` and the balance as `Int64`; with
//! [`Generator::memo`], a last `memo` column of notes (`Utf8`), the same as
//! in CSV.

use std::io::Write;
use std::sync::Arc;
use std::vec::Vec;

use arrow_array::builder::{StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::boxed::Box;

use super::{Generator, hex_sha256};
use crate::date::Date;

/// Rows per row group (and per generated batch).
const ROW_GROUP_ROWS: u64 = 1 << 17;

fn days(iso: &str) -> i32 {
    Date::parse(iso.as_bytes()).map_or(0, |(d, _)| d.to_days() as i32)
}

impl Generator {
    /// The Arrow schema of [`Generator::write_parquet`].
    pub fn arrow_schema(&self) -> Arc<Schema> {
        let text = |n: &str| Field::new(n, DataType::Utf8, false);
        let dict = |n: &str| {
            Field::new(
                n,
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                false,
            )
        };
        let mut fields = std::vec![
            text("customer_id"),
            text("name"),
            text("phone"),
            text("email"),
            text("rrn"),
            Field::new("birth_date", DataType::Date32, false),
            dict("sex"),
            text("postal_code"),
            dict("city"),
            Field::new("signup_date", DataType::Date32, false),
            Field::new("balance", DataType::Int64, false),
        ];
        if self.naive_hash {
            fields.push(text("phone_sha256"));
            fields.push(text("email_sha256"));
        }
        if self.memo {
            fields.push(text(super::MEMO_COLUMN));
        }
        Arc::new(Schema::new(fields))
    }

    fn batch(&self, a: u64, b: u64) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let n = (b - a) as usize;
        let mut text: Vec<StringBuilder> = (0..9)
            .map(|_| StringBuilder::with_capacity(n, n * 24))
            .collect();
        let mut sex = StringDictionaryBuilder::<Int32Type>::new();
        let mut city = StringDictionaryBuilder::<Int32Type>::new();
        let (mut born, mut signup, mut balance) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for i in a..b {
            let c = self.customer(i);
            text[0].append_value(&c.customer_id);
            text[1].append_value(&c.name);
            text[2].append_value(&c.phone);
            text[3].append_value(&c.email);
            text[4].append_value(&c.rrn);
            text[5].append_value(&c.postal_code);
            if self.naive_hash {
                text[6].append_value(hex_sha256(&c.phone));
                text[7].append_value(hex_sha256(&c.email));
            }
            if self.memo {
                text[8].append_value(self.memo_of(i).text);
            }
            born.push(days(&c.birth_date));
            signup.push(days(&c.signup_date));
            balance.push(i64::try_from(c.balance).unwrap_or(i64::MAX));
            let mut s = [0u8; 4];
            sex.append(c.sex.encode_utf8(&mut s) as &str)?;
            city.append(c.city)?;
        }
        let mut columns: Vec<ArrayRef> = std::vec![
            Arc::new(text[0].finish()),
            Arc::new(text[1].finish()),
            Arc::new(text[2].finish()),
            Arc::new(text[3].finish()),
            Arc::new(text[4].finish()),
            Arc::new(Date32Array::from(born)),
            Arc::new(sex.finish()),
            Arc::new(text[5].finish()),
            Arc::new(city.finish()),
            Arc::new(Date32Array::from(signup)),
            Arc::new(Int64Array::from(balance)),
        ];
        if self.naive_hash {
            columns.push(Arc::new(text[6].finish()));
            columns.push(Arc::new(text[7].finish()));
        }
        if self.memo {
            columns.push(Arc::new(text[8].finish()));
        }
        RecordBatch::try_new(self.arrow_schema(), columns)
    }

    /// Writes `rows` rows as Parquet (zstd, row groups of 128 Ki rows),
    /// generated on `threads` threads; the same seed gives the same rows.
    ///
    /// # Errors
    /// Writing failed.
    pub fn write_parquet<W: Write + Send>(
        &self,
        rows: u64,
        out: W,
        threads: usize,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), parquet::errors::ParquetError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let mut w = ArrowWriter::try_new(out, self.arrow_schema(), Some(props))?;
        let threads = threads.max(1) as u64;
        let mut start = 0;
        while start < rows {
            let end = (start + ROW_GROUP_ROWS).min(rows);
            let per = (end - start).div_ceil(threads).max(1);
            let parts: Vec<Result<RecordBatch, arrow_schema::ArrowError>> =
                std::thread::scope(|s| {
                    let handles: Vec<_> = (0..threads)
                        .map(|t| (start + t * per, (start + (t + 1) * per).min(end)))
                        .filter(|(a, b)| a < b)
                        .map(|(a, b)| s.spawn(move || self.batch(a, b)))
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                Err(arrow_schema::ArrowError::ComputeError(
                                    "generator thread failed".into(),
                                ))
                            })
                        })
                        .collect()
                });
            for p in parts {
                w.write(&p?)?;
            }
            w.flush()?;
            start = end;
            progress(start);
        }
        w.close()?;
        Ok(())
    }
}
