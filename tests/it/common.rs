//! Scaffolding shared by the integration tests: fixture paths, a temporary
//! working folder, runs of the built `deid` binary (generated data, keysets,
//! JSON output), the check that no planted value is printed, and the one
//! deterministic RNG the tests use outside proptest.
//!
//! Each module takes what it needs (`use crate::common;`); a feature set
//! that compiles out the modules using a helper leaves it unused.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A file of the repository, by its path from the manifest folder.
pub fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A file in `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    repo_file("tests/fixtures").join(name)
}

/// Output bytes as text, for messages and `contains` checks.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts that none of `plants` occurs in `output`; `what` names the
/// output in the failure message.
#[track_caller]
pub fn assert_no_plant<P: AsRef<str>>(
    what: &str,
    output: &[u8],
    plants: impl IntoIterator<Item = P>,
) {
    for plant in plants {
        let plant = plant.as_ref().as_bytes();
        assert!(
            !plant.is_empty() && !output.windows(plant.len()).any(|w| w == plant),
            "{what}: planted value {} printed: {}",
            text(plant),
            text(output)
        );
    }
}

/// A temporary folder, removed when dropped.
pub struct Workdir(tempfile::TempDir);

impl Workdir {
    /// An empty folder.
    pub fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    /// A folder holding copies of the named fixtures (`keys.json` at mode
    /// 0600, as deid wants a keyset).
    pub fn with_fixtures(names: &[&str]) -> Self {
        let dir = Self::new();
        for name in names {
            dir.copy_fixture(name, name);
        }
        dir
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// The path of `name` in the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// The path of `name` in the folder, as a command-line argument.
    pub fn file(&self, name: &str) -> String {
        self.join(name).display().to_string()
    }

    /// Writes `contents` to `name` and returns its path as an argument.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        std::fs::write(self.join(name), contents).unwrap();
        self.file(name)
    }

    /// Copies the fixture `fixture` to `name` (mode 0600 for `keys.json`)
    /// and returns its path as an argument.
    pub fn copy_fixture(&self, fixture_name: &str, name: &str) -> String {
        let to = self.join(name);
        std::fs::copy(fixture(fixture_name), &to).unwrap();
        #[cfg(unix)]
        if fixture_name == "keys.json" {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        self.file(name)
    }
}

// Not every feature set builds the deid binary.
#[cfg(feature = "cli")]
#[allow(unused_imports)]
pub use cli::*;

/// Runs of the built binary (only there with the `cli` feature).
#[cfg(feature = "cli")]
mod cli {
    use std::io::{Read, Write};
    use std::path::Path;
    use std::process::{Child, Command, Output, Stdio};
    use std::time::{Duration, Instant};

    use super::{Workdir, text};

    /// How long a run may take: a hang is a failure, not a stuck test run.
    pub const TIME_LIMIT: Duration = Duration::from_secs(60);

    /// The built `deid` binary, for runs that need more than [`run`] sets up
    /// (an environment variable, a file as standard input, a signal).
    pub fn deid() -> Command {
        Command::new(env!("CARGO_BIN_EXE_deid"))
    }

    /// Runs deid with no standard input.
    pub fn run(args: &[&str]) -> Output {
        finish(deid().args(args), None)
    }

    /// `deid audit hashes --json <args..>`: the run and its JSON document
    /// (null when standard output is not JSON).
    pub fn audit_hashes(args: &[&str]) -> (Output, serde_json::Value) {
        let mut all = vec!["audit", "hashes", "--json"];
        all.extend_from_slice(args);
        let o = run(&all);
        let doc = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
        (o, doc)
    }

    /// Runs deid in `dir` (relative paths resolve there), no standard input.
    pub fn run_in(dir: &Path, args: &[&str]) -> Output {
        finish(deid().args(args).current_dir(dir), None)
    }

    /// Runs deid with `input` as its standard input.
    pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
        finish(deid().args(args), Some(input))
    }

    fn finish(cmd: &mut Command, input: Option<&[u8]>) -> Output {
        let child = cmd
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        collect(child, input, TIME_LIMIT)
    }

    /// Waits for `child` (its stdout and stderr piped), reading what it
    /// prints as it comes; kills it and fails after `limit`.
    pub fn wait_or_kill(child: Child, limit: Duration) -> Output {
        collect(child, None, limit)
    }

    fn collect(mut child: Child, input: Option<&[u8]>, limit: Duration) -> Output {
        fn drain(from: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut from) = from {
                    from.read_to_end(&mut buf).unwrap();
                }
                buf
            })
        }
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        if let Some(data) = input {
            let mut sin = child.stdin.take().unwrap();
            // deid may stop before reading all of its input (a policy error):
            // a closed pipe here is its choice, not a test failure.
            if let Err(e) = sin.write_all(data) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
        }
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > limit {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!(
                    "deid still running after {limit:?}; stderr: {}",
                    text(&stderr.join().unwrap())
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    /// What the tests read from a finished run.
    pub trait Ran {
        /// The exit code (`None` if a signal ended the run).
        fn code(&self) -> Option<i32>;
        /// Standard output as text.
        fn stdout_text(&self) -> String;
        /// Standard error as text.
        fn stderr_text(&self) -> String;
        /// Asserts that the run succeeded, showing its stderr if not.
        fn assert_success(&self);
        /// Standard output parsed as JSON; fails showing both streams if it
        /// is not JSON.
        fn stdout_json(&self) -> serde_json::Value;
    }

    impl Ran for Output {
        fn code(&self) -> Option<i32> {
            self.status.code()
        }
        fn stdout_text(&self) -> String {
            text(&self.stdout)
        }
        fn stderr_text(&self) -> String {
            text(&self.stderr)
        }
        #[track_caller]
        fn assert_success(&self) {
            assert!(self.status.success(), "{}", self.stderr_text());
        }
        #[track_caller]
        fn stdout_json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.stdout)
                .unwrap_or_else(|_| panic!("{}\n{}", self.stdout_text(), self.stderr_text()))
        }
    }

    impl Workdir {
        /// Runs deid in this folder (relative paths resolve here).
        pub fn run(&self, args: &[&str]) -> Output {
            run_in(self.path(), args)
        }

        /// `deid gen --rows <rows> <extra..> -o <name>`; returns the path as
        /// an argument.
        #[track_caller]
        pub fn gen_csv(&self, name: &str, rows: u32, extra: &[&str]) -> String {
            let rows = rows.to_string();
            let path = self.file(name);
            let mut args = vec!["gen", "--rows", &rows];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["-o", &path]);
            run(&args).assert_success();
            path
        }

        /// A CSV file `name` with the columns `id` (the row number) and
        /// `column` (`values`); returns its path as an argument.
        pub fn id_column_csv(&self, name: &str, column: &str, values: &[String]) -> String {
            let mut text = format!("id,{column}\n");
            for (i, v) in values.iter().enumerate() {
                text.push_str(&format!("{i},{v}\n"));
            }
            self.write(name, text)
        }

        /// `deid keygen -o <name>`: a fresh keyset; returns its path as an
        /// argument.
        #[track_caller]
        pub fn keygen(&self, name: &str) -> String {
            let path = self.file(name);
            run(&["keygen", "-o", &path]).assert_success();
            path
        }
    }
}

/// SplitMix64: the deterministic generator of the tests, never for real
/// keys. Seeded by its one field.
pub struct TestRng(pub u64);

impl TestRng {
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.next_u64() as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TestRng {}

/// Asserts that `got` has `want`'s schema and, column by column, row by
/// row, the same values read as text (Arrow's cast to `Utf8`; nulls as
/// nulls): a Parquet output against the in-memory transform of its input.
#[cfg(feature = "arrow")]
#[track_caller]
pub fn assert_same_rows(got: &arrow_array::RecordBatch, want: &arrow_array::RecordBatch) {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    assert_eq!(got.num_rows(), want.num_rows());
    assert_eq!(got.schema().fields(), want.schema().fields());
    for (c, f) in want.schema().fields().iter().enumerate() {
        let text = |a| arrow_cast::cast(a, &arrow_schema::DataType::Utf8).unwrap();
        let (g, e) = (text(got.column(c)), text(want.column(c)));
        let (g, e) = (g.as_string::<i32>(), e.as_string::<i32>());
        for row in 0..want.num_rows() {
            assert_eq!(
                g.is_valid(row).then(|| g.value(row)),
                e.is_valid(row).then(|| e.value(row)),
                "column {} row {row}",
                f.name()
            );
        }
    }
}

/// A CSV table in memory, as the audits read one: `header` then `rows`,
/// each joined with commas (the cells hold no comma, quote or newline).
#[cfg(feature = "std")]
pub fn csv_table<R: AsRef<[String]>>(header: &str, rows: &[R]) -> deid::io::table::TableReader {
    use deid::io::table::{Format, TableOptions, TableReader};
    let mut csv = format!("{header}\n");
    for r in rows {
        csv.push_str(&r.as_ref().join(","));
        csv.push('\n');
    }
    TableReader::from_reader(
        Box::new(std::io::Cursor::new(csv.into_bytes())),
        "t.csv",
        Format::Csv,
        &TableOptions::new(),
    )
    .unwrap()
}
