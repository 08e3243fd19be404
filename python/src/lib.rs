//! `deid._native`: the compiled half of the `deid` Python package.
//!
//! Everything here calls the library's public API: keysets and policies
//! (`deid::Keyset`, `deid::Policy`), the Arrow batch API
//! (`deid::arrow::BatchTransformer`, the path `deid apply` takes for Parquet)
//! and the audits (`deid::audit`). The pure-Python half (`python/deid/`)
//! converts pandas and Polars frames to Arrow and back and holds the
//! exception classes this module raises.
//!
//! Every function that works on data releases the GIL while it works.
//! No error raised here carries a value of the data: only file (source),
//! row, column and rule.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, RecordBatch, RecordBatchIterator, RecordBatchReader, StringArray, make_array,
};
use arrow_pyarrow::{IntoPyArrow, PyArrowType, Table};
use arrow_schema::{ArrowError, Field, Schema};
use deid::arrow::BatchTransformer;
use deid::audit::engine::{Classes, Digests};
use deid::audit::hashes::{
    Algorithm, AuditOptions, ColumnReport, ColumnTargets, Construction, Space,
};
use deid::audit::risk::{RiskOptions, RiskReport, report_from_sizes};
use deid::io::InputError;
use deid::normalize::Normalizer;
use deid::policy::Direction;
use deid::transform::FieldSpec;
use deid::{Keyset, Policy};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;
use zeroize::Zeroizing;

/// Rows per slice when a table is transformed on several cores.
const SLICE_ROWS: usize = 32 * 1024;

/// Builds one of the exception classes of `deid._errors`.
fn error(
    py: Python<'_>,
    class: &str,
    message: String,
    source: Option<&str>,
    row: Option<u64>,
    column: Option<&str>,
) -> PyErr {
    let made = py
        .import("deid._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message, source, row, column)));
    match made {
        Ok(obj) => PyErr::from_value(obj),
        Err(e) => e,
    }
}

/// Runs a call's work (every function that reads data, keys or a
/// policy). A panic in it (a bug in deid) raises `DeidError` without the
/// panic's message, which could hold data or a secret; the hook installed
/// with the module has printed where it happened (src/crash.rs).
fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    deid::crash::guard(f).unwrap_or_else(|| {
        Err(error(
            py,
            "DeidError",
            "internal error: a bug in deid stopped this call; where it happened is on \
             stderr, and its message is withheld, as it could hold data"
                .to_owned(),
            None,
            None,
            None,
        ))
    })
}

fn input_error(py: Python<'_>, e: &InputError) -> PyErr {
    error(
        py,
        "InputError",
        e.to_string(),
        Some(e.file()),
        e.row(),
        e.column(),
    )
}

fn arrow_error(py: Python<'_>, source: &str, e: &ArrowError) -> PyErr {
    error(
        py,
        "InputError",
        format!("{source}: {e}"),
        Some(source),
        None,
        None,
    )
}

/// A keyset: the master secrets pseudonyms and tokens are derived from.
///
/// Load one written by ``deid keygen`` with ``Keyset.load(path)``, or make
/// a fresh one with ``Keyset.generate()``. The secrets never appear in
/// ``repr`` and a Keyset cannot be pickled (it would write them into the
/// pickle); ``deid.spark`` ships it to executors in memory.
#[pyclass(name = "Keyset", module = "deid", frozen)]
struct PyKeyset {
    inner: Arc<Keyset>,
}

#[pymethods]
impl PyKeyset {
    /// Reads a keyset file (JSON, as ``deid keygen`` writes it). Warns
    /// (``UserWarning``) when the file is readable by group or others, as the
    /// CLI does.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        guarded(py, move || {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if let Ok(meta) = std::fs::metadata(&path) {
                    let mode = meta.permissions().mode();
                    if mode & 0o077 != 0 {
                        let msg = format!(
                            "keyset {} is readable by group or others (mode {:o}); run: chmod 600 {}",
                            path.display(),
                            mode & 0o777,
                            path.display()
                        );
                        let warnings = py.import("warnings")?;
                        warnings.call_method1("warn", (msg,))?;
                    }
                }
            }
            let shown = path.display().to_string();
            let file = std::fs::File::open(&path).map_err(|e| {
                error(
                    py,
                    "KeysetError",
                    format!("cannot read keyset {shown}: {e}"),
                    Some(&shown),
                    None,
                    None,
                )
            })?;
            let keys = Keyset::from_reader(file).map_err(|e| {
                error(
                    py,
                    "KeysetError",
                    format!("{shown}: {e}"),
                    Some(&shown),
                    None,
                    None,
                )
            })?;
            Ok(PyKeyset {
                inner: Arc::new(keys),
            })
        })
    }

    /// A new keyset with one key (id 1) from the operating system's random
    /// source. Save it with ``save(path)`` (mode 0600) or keep it in memory.
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Self> {
        guarded(py, || {
            let mut rng = deid::io::rng::OsRng;
            Ok(PyKeyset {
                inner: Arc::new(Keyset::generate(&mut rng, &now_rfc3339())),
            })
        })
    }

    /// Reads a keyset from its JSON text (for keysets kept in a secrets
    /// manager rather than a file).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        guarded(py, move || {
            let keys = Keyset::from_json(text)
                .map_err(|e| error(py, "KeysetError", format!("<json>: {e}"), None, None, None))?;
            Ok(PyKeyset {
                inner: Arc::new(keys),
            })
        })
    }

    /// The keyset's JSON text, secrets included (as bytes, so that it is
    /// not interned as a ``str``). Handle it as the secret it is.
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        guarded(py, || {
            let json = self.inner.to_json();
            Ok(PyBytes::new(py, json.as_bytes()))
        })
    }

    /// Writes the keyset to ``path`` with mode 0600 (atomically: the file
    /// appears complete or not at all).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        guarded(py, move || {
            use std::io::Write;
            let shown = path.display().to_string();
            let fail = |e: std::io::Error| {
                error(
                    py,
                    "KeysetError",
                    format!("cannot write {shown}: {e}"),
                    Some(&shown),
                    None,
                    None,
                )
            };
            let mut f = deid::io::atomic::AtomicFile::create(&path, Some(0o600)).map_err(fail)?;
            f.write_all(self.inner.to_json().as_bytes()).map_err(fail)?;
            f.commit().map_err(fail)
        })
    }

    /// The id of the primary key (the one new tokens use).
    #[getter]
    fn primary_id(&self) -> u32 {
        self.inner.primary().id()
    }

    /// Every key id in the set.
    #[getter]
    fn ids(&self) -> Vec<u32> {
        self.inner.ids().collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Keyset(primary_id={}, ids={:?})",
            self.inner.primary().id(),
            self.inner.ids().collect::<Vec<_>>()
        )
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "a deid.Keyset is not pickled: it holds secrets (deid.spark ships it to executors in memory; Keyset.to_json() if you must)",
        ))
    }
}

/// A policy: which column gets which transform (the TOML file of
/// ``deid apply --policy``), validated as the CLI validates it.
#[pyclass(name = "Policy", module = "deid", frozen)]
struct PyPolicy {
    inner: Arc<Policy>,
    text: String,
    /// The folder hierarchy files are read from.
    base_dir: PathBuf,
}

#[pymethods]
impl PyPolicy {
    /// Parses a policy from TOML text. The hierarchy files of its
    /// ``generalize`` rules are read from ``base_dir`` (default: the
    /// current folder).
    #[staticmethod]
    #[pyo3(signature = (text, source = "<policy>", base_dir = None))]
    fn from_toml(
        py: Python<'_>,
        text: &str,
        source: &str,
        base_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        guarded(py, move || {
            let fail = |m: String| error(py, "PolicyError", m, Some(source), None, None);
            let mut policy = Policy::from_toml(text).map_err(|e| fail(format!("{source}: {e}")))?;
            let base_dir = base_dir.unwrap_or_else(|| PathBuf::from("."));
            deid::anonymize::load_hierarchies(&mut policy, &base_dir)
                .map_err(|e| fail(format!("{source}: {e}")))?;
            Ok(PyPolicy {
                inner: Arc::new(policy),
                text: text.to_string(),
                base_dir,
            })
        })
    }

    /// Reads a policy file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            error(
                py,
                "PolicyError",
                format!("cannot read policy {shown}: {e}"),
                Some(&shown),
                None,
                None,
            )
        })?;
        let base_dir = path.parent().map(PathBuf::from);
        Self::from_toml(py, &text, &shown, base_dir)
    }

    /// The folder the policy's hierarchy files are read from.
    #[getter]
    fn base_dir(&self) -> PathBuf {
        self.base_dir.clone()
    }

    /// The policy's TOML text, as given.
    #[getter]
    fn toml(&self) -> &str {
        &self.text
    }

    /// ``{column: transform}`` for every field the policy names.
    #[getter]
    fn fields(&self) -> std::collections::BTreeMap<String, String> {
        self.inner
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.transform.kind().as_str().to_string()))
            .collect()
    }

    fn __repr__(&self) -> String {
        let fields: Vec<String> = self
            .inner
            .fields
            .iter()
            .map(|(k, v)| format!("{k}={}", v.transform.kind()))
            .collect();
        format!("Policy({})", fields.join(", "))
    }
}

fn direction(py: Python<'_>, d: &str) -> PyResult<Direction> {
    match d {
        "apply" => Ok(Direction::Apply),
        "decrypt" => Ok(Direction::Decrypt),
        _ => Err(error(
            py,
            "DeidError",
            format!("direction {d:?}: expected \"apply\" or \"decrypt\""),
            None,
            None,
            None,
        )),
    }
}

/// Transforms every batch of `batches` (bound once), slicing large batches
/// so that every core works; batches keep their order. The first failing
/// row (in input order) is the error.
fn transform_batches(
    t: &BatchTransformer,
    batches: &[RecordBatch],
    first_row: u64,
    threads: Option<usize>,
) -> Result<Vec<RecordBatch>, InputError> {
    let mut jobs = Vec::new();
    let mut row = first_row;
    for b in batches {
        let mut off = 0;
        while off < b.num_rows() || (off == 0 && b.num_rows() == 0) {
            let len = SLICE_ROWS.min(b.num_rows() - off);
            jobs.push((b.slice(off, len), row));
            row += len as u64;
            off += len;
            if len == 0 {
                break;
            }
        }
    }
    let run = || -> Vec<Result<RecordBatch, InputError>> {
        jobs.par_iter()
            .map(|(b, start)| t.transform(b, *start))
            .collect()
    };
    let results = match threads {
        // One thread (a Spark task): no pool to set up per batch.
        Some(1) => jobs
            .iter()
            .map(|(b, start)| t.transform(b, *start))
            .collect(),
        Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
            Ok(pool) => pool.install(run),
            Err(_) => run(),
        },
        None => run(),
    };
    results.into_iter().collect()
}

/// Applies (or, with ``direction="decrypt"``, reverses) ``policy`` on a
/// pyarrow Table (or any object with ``__arrow_c_stream__``) and returns a
/// pyarrow Table. ``source`` names the data in errors; ``first_row`` is the
/// number of rows before this data (row numbers in errors count from it).
#[pyfunction]
#[pyo3(signature = (data, policy, keyset, direction = "apply", source = "<table>", first_row = 0, threads = None))]
#[allow(clippy::too_many_arguments)]
fn transform_table<'py>(
    py: Python<'py>,
    data: PyArrowType<Table>,
    policy: &PyPolicy,
    keyset: &PyKeyset,
    direction: &str,
    source: &str,
    first_row: u64,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    guarded(py, move || {
        let dir = self::direction(py, direction)?;
        let (batches, schema) = data.0.into_inner();
        let (policy, keys) = (Arc::clone(&policy.inner), Arc::clone(&keyset.inner));
        let out = py.detach(|| {
            let t = BatchTransformer::with_source(&policy, &keys, schema, dir, source)?;
            let out = transform_batches(&t, &batches, first_row, threads)?;
            Ok::<_, InputError>((out, t.output_schema()))
        });
        let (out, schema) = out.map_err(|e| input_error(py, &e))?;
        table_to_pyarrow(py, out, schema)
    })
}

/// `batches` as one pyarrow Table, handed over through one Arrow C stream
/// (pyarrow's `RecordBatchReader.read_all`): a single crossing of the C
/// data interface for the whole table, where converting batch by batch
/// would cost a reader and Python calls per batch. No value is copied.
fn table_to_pyarrow(
    py: Python<'_>,
    batches: Vec<RecordBatch>,
    schema: arrow_schema::SchemaRef,
) -> PyResult<Bound<'_, PyAny>> {
    let reader: Box<dyn RecordBatchReader + Send> = Box::new(RecordBatchIterator::new(
        batches.into_iter().map(Ok),
        schema,
    ));
    reader.into_pyarrow(py)?.call_method0("read_all")
}

/// Transforms one pyarrow Array with one field's spec (the JSON form of a
/// ``[fields.<name>]`` table); the same code path as a table column.
#[pyfunction]
#[pyo3(signature = (values, spec_json, keyset, column = "value", direction = "apply"))]
fn transform_array(
    py: Python<'_>,
    values: PyArrowType<arrow_data::ArrayData>,
    spec_json: &str,
    keyset: &PyKeyset,
    column: &str,
    direction: &str,
) -> PyResult<PyArrowType<arrow_data::ArrayData>> {
    guarded(py, move || {
        let dir = self::direction(py, direction)?;
        let spec: FieldSpec = serde_json::from_str(spec_json).map_err(|e| {
            error(
                py,
                "PolicyError",
                format!("field {column}: {e}"),
                None,
                None,
                Some(column),
            )
        })?;
        let mut policy = Policy::keep_all();
        policy.fields.insert(column.to_string(), spec);
        let array = make_array(values.0);
        let schema = Arc::new(Schema::new(vec![Field::new(
            column,
            array.data_type().clone(),
            true,
        )]));
        let keys = Arc::clone(&keyset.inner);
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![array])
            .map_err(|e| arrow_error(py, "<values>", &e))?;
        let out = py.detach(|| {
            let t = BatchTransformer::with_source(&policy, &keys, schema, dir, "<values>")?;
            let out = transform_batches(&t, &[batch], 0, None)?;
            Ok::<_, InputError>(out)
        });
        let out = out.map_err(|e| input_error(py, &e))?;
        let array = out
            .first()
            .and_then(|b| (b.num_columns() == 1).then(|| Arc::clone(b.column(0))))
            .ok_or_else(|| PyValueError::new_err("the field's transform drops the column"))?;
        Ok(PyArrowType(array.to_data()))
    })
}

/// The text columns `names` of each batch of a table (a struct field by
/// its dotted path, a list as its JSON text), as `deid scan` and the CLI's
/// audits read a Parquet file: by `deid::arrow::text_columns`. An error
/// names the table and the column.
fn text_columns(
    batches: &[RecordBatch],
    schema: &Schema,
    names: &[String],
    source: &str,
) -> Result<Vec<Vec<ArrayRef>>, String> {
    if let Some((missing, kind)) = deid::arrow::missing_text_column(schema, names) {
        return Err(InputError::new(source, None, Some(missing), kind).to_string());
    }
    batches
        .iter()
        .map(|b| {
            deid::arrow::text_columns(b, names)
                .map_err(|kind| InputError::new(source, None, None, kind).to_string())
        })
        .collect()
}

fn str_value(a: &ArrayRef, row: usize) -> &[u8] {
    let s = a.as_any().downcast_ref::<StringArray>();
    match s {
        Some(s) if s.is_valid(row) => s.value(row).as_bytes(),
        _ => b"",
    }
}

fn risk_options(
    py: Python<'_>,
    sampling_fraction: Option<f64>,
    population: Option<u64>,
) -> PyResult<RiskOptions> {
    let bad = |m: &str| error(py, "AuditError", m.to_string(), None, None, None);
    if sampling_fraction.is_some() && population.is_some() {
        return Err(bad("give sampling_fraction or population, not both"));
    }
    if let Some(f) = sampling_fraction {
        if !(f > 0.0 && f <= 1.0) {
            return Err(bad(
                "sampling_fraction: expected a fraction F with 0 < F <= 1, e.g. 0.01",
            ));
        }
    }
    if population == Some(0) {
        return Err(bad("population: expected at least 1"));
    }
    Ok(RiskOptions {
        sampling_fraction,
        population,
    })
}

fn report_json(py: Python<'_>, r: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(r).map_err(|e| error(py, "AuditError", e.to_string(), None, None, None))
}

/// Quasi-identifier risk of a table, as ``deid audit risk --json``; returns
/// the JSON text.
#[pyfunction]
#[pyo3(signature = (data, qi, sensitive = None, sampling_fraction = None, population = None, find_qi = None, source = "<table>"))]
#[allow(clippy::too_many_arguments)]
fn risk(
    py: Python<'_>,
    data: PyArrowType<Table>,
    qi: Vec<String>,
    sensitive: Option<String>,
    sampling_fraction: Option<f64>,
    population: Option<u64>,
    find_qi: Option<usize>,
    source: &str,
) -> PyResult<String> {
    guarded(py, move || {
        let opts = risk_options(py, sampling_fraction, population)?;
        let (batches, schema) = data.0.into_inner();
        let qi: Vec<String> = if qi.is_empty() && find_qi.is_some() {
            deid::arrow::text_column_names(&schema)
        } else {
            qi
        };
        if qi.is_empty() {
            return Err(error(
            py,
            "AuditError",
            "no quasi-identifier to measure: name them (qi=[...]) or search for them (find_qi=N)"
                .into(),
            None,
            None,
            None,
        ));
        }
        let mut names = qi.clone();
        if let Some(s) = &sensitive {
            names.push(s.clone());
        }
        let report: Result<RiskReport, String> = py.detach(|| {
            let cols = text_columns(&batches, &schema, &names, source)?;
            let n = qi.len();
            // The engine's analyser, fed the table's values
            // (src/audit/engine.rs), so the figures are `audit risk`'s.
            let mut classes = Classes::new(&qi, sensitive.as_deref());
            if let Some(max) = find_qi {
                classes = classes.with_qi_search(max);
            }
            let mut vals: Vec<&[u8]> = Vec::with_capacity(n);
            for (b, c) in batches.iter().zip(&cols) {
                for row in 0..b.num_rows() {
                    vals.clear();
                    vals.extend(c[..n].iter().map(|a| str_value(a, row)));
                    classes.add(&vals, sensitive.as_ref().map(|_| str_value(&c[n], row)));
                }
            }
            Ok(classes.report(&opts))
        });
        let report = report.map_err(|m| error(py, "AuditError", m, Some(source), None, None))?;
        report_json(py, &report)
    })
}

/// The risk report from class sizes an engine counted itself (one size
/// per equivalence class), as ``deid audit risk --json`` would print it
/// for the rows they came from. Returns the JSON text.
#[pyfunction]
#[pyo3(signature = (sizes, qi, sampling_fraction = None, population = None))]
fn risk_from_class_sizes(
    py: Python<'_>,
    sizes: Vec<u64>,
    qi: Vec<String>,
    sampling_fraction: Option<f64>,
    population: Option<u64>,
) -> PyResult<String> {
    guarded(py, move || {
        let opts = risk_options(py, sampling_fraction, population)?;
        if sizes.contains(&0) {
            return Err(error(
                py,
                "AuditError",
                "a class size of 0: every equivalence class has at least one record".into(),
                None,
                None,
                None,
            ));
        }
        let report = py.detach(|| report_from_sizes(&sizes, &qi, &opts));
        report_json(py, &report)
    })
}

/// The options of the hash audit as the package passes them: one dict of
/// the keyword arguments of ``deid.audit.hashes``, with its defaults filled
/// in and the dictionary read (``_hash_options`` in python/deid/audit.py).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct HashArgs {
    algorithms: Vec<String>,
    spaces: Vec<String>,
    dictionary: Option<Vec<String>>,
    dictionary_name: String,
    dict_normalize: Vec<String>,
    salt: Option<Vec<u8>>,
    salt_at: String,
    hmac_key: Option<Vec<u8>>,
    born: (i32, i32),
    threads: Option<usize>,
}

/// Options of the hash audit, as ``deid audit hashes`` takes them.
fn hash_options(py: Python<'_>, args: HashArgs) -> PyResult<AuditOptions> {
    let HashArgs {
        algorithms,
        spaces,
        dictionary,
        dictionary_name,
        dict_normalize,
        salt,
        salt_at,
        hmac_key,
        born,
        threads,
    } = args;
    let bad = |m: String| error(py, "AuditError", m, None, None, None);
    let mut opts = AuditOptions::default();
    if let Some(t) = threads {
        if t == 0 || t > 256 {
            return Err(bad("threads: expected 1 to 256".into()));
        }
        opts.threads = t;
    }
    if born.0 > born.1 {
        return Err(bad("born: FROM is after TO".into()));
    }
    opts.born = born;
    for a in &algorithms {
        opts.algorithms.push(Algorithm::parse(a).ok_or_else(|| {
            bad(format!(
                "algorithm {a:?}: unknown (md5, sha1, sha224, sha256, sha384, sha512, sha3-256)"
            ))
        })?);
    }
    for s in &spaces {
        opts.spaces.push(
            Space::parse(s, born).map_err(|e| match Space::too_large(s, born) {
                Some(size) => bad(format!("space {s}: {size}; narrow it")),
                None => bad(format!("space {s}: {e}")),
            })?,
        );
    }
    let normalizers = dict_normalize
        .iter()
        .map(|n| {
            n.parse::<Normalizer>()
                .map_err(|e| bad(format!("dict_normalize {n:?}: {e}")))
        })
        .collect::<PyResult<Vec<_>>>()?;
    if let Some(words) = dictionary {
        let mut lines = Vec::new();
        let (mut a, mut b) = (vec![0u8; 4096], vec![0u8; 4096]);
        for w in &words {
            let line = w.as_bytes();
            if line.is_empty() || line.len() > 1000 {
                continue;
            }
            if let Ok(v) = deid::normalize::apply_chain(&normalizers, line, &mut a, &mut b) {
                lines.push(v.to_vec());
            }
        }
        lines.sort();
        lines.dedup();
        opts.dictionary = Some(Space::dictionary(&dictionary_name, lines));
    }
    match (salt, hmac_key) {
        (Some(_), Some(_)) => return Err(bad("give salt or hmac_key, not both".into())),
        (Some(salt), None) => {
            opts.construction = Construction::Salted {
                salt,
                prefix: match salt_at.as_str() {
                    "prefix" => true,
                    "suffix" => false,
                    _ => return Err(bad("salt_at: expected \"prefix\" or \"suffix\"".into())),
                },
            }
        }
        (None, Some(key)) => {
            opts.construction = Construction::Hmac {
                key: Zeroizing::new(key),
            }
        }
        (None, None) => {}
    }
    Ok(opts)
}

/// Refuses an algorithm list no column's digest length fits, as the CLI does.
fn check_algorithms(
    py: Python<'_>,
    targets: &[ColumnTargets],
    columns: &[String],
    opts: &AuditOptions,
) -> PyResult<()> {
    if opts.algorithms.is_empty() {
        return Ok(());
    }
    for (t, column) in targets.iter().zip(columns) {
        let Some(len) = t.digest_bytes() else {
            continue;
        };
        if !opts.algorithms.iter().any(|a| a.digest_len() == len) {
            let forced: Vec<&str> = opts.algorithms.iter().map(|a| a.name()).collect();
            let fits: Vec<&str> = Algorithm::for_len(len).iter().map(|a| a.name()).collect();
            return Err(error(
                py,
                "AuditError",
                format!(
                    "column {column} holds {len}-byte digests, which algorithms {} cannot produce; {len}-byte digests are {}",
                    forced.join(", "),
                    fits.join(" or ")
                ),
                None,
                None,
                Some(column),
            ));
        }
    }
    Ok(())
}

fn hashes_document(input: &str, reports: &[ColumnReport]) -> serde_json::Value {
    // The document `deid audit hashes --json` prints (src/bin/deid/audit/hashes.rs).
    serde_json::json!({
        "input": input,
        "reversed_any": reports.iter().any(|r| r.reversed_distinct > 0),
        "columns": reports,
    })
}

/// Hash-reversal audit of columns of a table, as ``deid audit hashes
/// --json``; returns the JSON text.
#[pyfunction(name = "hashes")]
#[pyo3(signature = (data, columns, options, source = "<table>"))]
fn audit_hashes(
    py: Python<'_>,
    data: PyArrowType<Table>,
    columns: Vec<String>,
    options: HashArgs,
    source: &str,
) -> PyResult<String> {
    guarded(py, move || {
        let opts = hash_options(py, options)?;
        let (batches, schema) = data.0.into_inner();
        let targets: Result<Vec<ColumnTargets>, String> = py.detach(|| {
            let cols = text_columns(&batches, &schema, &columns, source)?;
            // The engine's analyser, fed the table's values
            // (src/audit/engine.rs), so the digests are `audit hashes`'.
            let mut digests = Digests::new(&columns);
            let mut vals: Vec<&[u8]> = Vec::with_capacity(columns.len());
            for (b, c) in batches.iter().zip(&cols) {
                for row in 0..b.num_rows() {
                    vals.clear();
                    vals.extend(c.iter().map(|a| str_value(a, row)));
                    digests.add(&vals);
                }
            }
            Ok(digests.finish())
        });
        let targets = targets.map_err(|m| error(py, "AuditError", m, Some(source), None, None))?;
        run_hash_audit(py, targets, &columns, &opts, source)
    })
}

fn run_hash_audit(
    py: Python<'_>,
    targets: Vec<ColumnTargets>,
    columns: &[String],
    opts: &AuditOptions,
    source: &str,
) -> PyResult<String> {
    check_algorithms(py, &targets, columns, opts)?;
    let reports: Vec<ColumnReport> = py.detach(|| {
        let progress = std::sync::atomic::AtomicU64::new(0);
        targets
            .into_iter()
            .map(|t| deid::audit::hashes::audit(t, opts, &progress))
            .collect()
    });
    if reports.iter().all(|r| r.values == 0) {
        return Err(error(
            py,
            "AuditError",
            format!("{source}: the columns hold no values"),
            Some(source),
            None,
            None,
        ));
    }
    report_json(py, &hashes_document(source, &reports))
}

/// Hash-reversal audit of one column given as distinct values with their
/// row counts (what an engine's ``groupBy(column).count()`` collects);
/// the same figures as ``deid audit hashes --json`` on the rows, except
/// that the encoding is guessed from the first 1,000 distinct values rather
/// than the first 1,000 rows. Collecting takes time and memory for the
/// distinct values, not the rows they stand for. Returns the JSON text.
#[pyfunction]
#[pyo3(signature = (column, values, counts, options, source = "<table>"))]
fn hashes_from_counts(
    py: Python<'_>,
    column: String,
    values: Vec<Option<String>>,
    counts: Vec<u64>,
    options: HashArgs,
    source: &str,
) -> PyResult<String> {
    guarded(py, move || {
        if values.len() != counts.len() {
            return Err(PyValueError::new_err("values and counts differ in length"));
        }
        let opts = hash_options(py, options)?;
        let t = py.detach(|| {
            let mut t = ColumnTargets::new(&column);
            for (v, &n) in values.iter().zip(&counts) {
                t.push_count(v.as_deref().unwrap_or("").as_bytes(), n);
            }
            t.finish()
        });
        run_hash_audit(py, vec![t], &[column], &opts, source)
    })
}

/// The library's version, as ``deid --version`` prints it.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Now as RFC 3339 in UTC (a keyset's `created`).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let d = deid::Date::from_days(days);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Panics with `message` inside a guarded call, on a worker thread as the
/// transforms' panics would: for the test suite only (feature
/// `fault-injection`), to check that `message` reaches neither the
/// exception nor stderr.
#[cfg(feature = "fault-injection")]
#[pyfunction]
fn _panic(py: Python<'_>, message: String) -> PyResult<()> {
    guarded(py, move || {
        py.detach(|| {
            (0..2u8).into_par_iter().for_each(|i| {
                if i == 1 {
                    std::panic::panic_any(message.clone());
                }
            })
        });
        Ok(())
    })
}

/// The compiled module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Panics in this module report where they happened, never their
    // message (src/crash.rs); other extensions keep their own hooks.
    deid::crash::install();
    m.add_class::<PyKeyset>()?;
    m.add_class::<PyPolicy>()?;
    m.add_function(wrap_pyfunction!(transform_table, m)?)?;
    m.add_function(wrap_pyfunction!(transform_array, m)?)?;
    m.add_function(wrap_pyfunction!(risk, m)?)?;
    m.add_function(wrap_pyfunction!(risk_from_class_sizes, m)?)?;
    m.add_function(wrap_pyfunction!(audit_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(hashes_from_counts, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    #[cfg(feature = "fault-injection")]
    m.add_function(wrap_pyfunction!(_panic, m)?)?;
    Ok(())
}
