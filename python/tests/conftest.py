"""Shared fixtures: the `deid` CLI (the reference every test compares
with), generated data, a keyset and a policy.

The CLI binary is $DEID_BIN, or target/release/deid of the repository
(scripts/test-python.sh builds it). Missing pieces skip loudly, and fail
under CI=true.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI") == "true"


def need(what: str, why: str) -> None:
    """Skips (locally) or fails (under CI=true) for a missing prerequisite."""
    msg = f"!!!! {what} is missing: {why}"
    if CI:
        pytest.fail(msg)
    pytest.skip(msg)


def deid_bin() -> str:
    exe = os.environ.get("DEID_BIN") or str(ROOT / "target" / "release" / "deid")
    if not os.path.exists(exe):
        need("the deid CLI", f"{exe} not found (cargo build --release --bin deid)")
    return exe


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [deid_bin(), *args], capture_output=True, check=check, stdin=subprocess.DEVNULL
    )


# Every deterministic transform the library has, on the generated columns.
POLICY = """\
version = 1
unlisted = "keep"

[fields.phone]
normalize = ["phone:KR"]
transform = "pseudonymize"
context = "customer-phone"

[fields.email]
normalize = ["email"]
transform = "encrypt"
mode = "deterministic"

[fields.rrn]
transform = "fpe"

[fields.name]
transform = "drop"

[fields.birth_date]
transform = "generalize"
to = "year"

[fields.postal_code]
transform = "generalize"
to = "prefix"
keep = 3

[fields.customer_id]
transform = "pseudonymize"
encoding = "base32"
bytes = 10

[fields.signup_date]
transform = "dateshift"
max_days = 30
subject = "email"

[fields.city]
transform = "mask"
keep_first = 1
"""


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("deid")


@pytest.fixture(scope="session")
def keyset_path(workdir: Path) -> Path:
    p = workdir / "keys.json"
    run_cli("keygen", "-o", str(p))
    return p


@pytest.fixture(scope="session")
def policy_path(workdir: Path) -> Path:
    p = workdir / "policy.toml"
    p.write_text(POLICY)
    return p


def gen_csv(workdir: Path, rows: int, seed: int = 7, naive: bool = False) -> Path:
    p = workdir / f"gen-{rows}-{seed}{'-naive' if naive else ''}.csv"
    if not p.exists():
        args = ["gen", "--rows", str(rows), "--seed", str(seed), "-o", str(p)]
        if naive:
            args.append("--naive-hash")
        run_cli(*args)
    return p


def cli_apply(workdir: Path, data: Path, policy: Path, keys: Path, direction: str = "apply",
              suffix: str = ".csv") -> Path:
    """`deid <direction>` of `data` into the work dir; the output's format follows `suffix`."""
    out = workdir / f"{data.stem}.{direction}.{policy.stem}{suffix}"
    run_cli(direction, "--policy", str(policy), "--keys", str(keys), "-o", str(out), "--quiet", str(data))
    return out


def read_csv_text(path: Path) -> "dict[str, list[str]]":
    """A CSV as the csv module reads it: every value a string."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return {c: [r[i] for r in body] for i, c in enumerate(header)}


@pytest.fixture(scope="session")
def small_csv(workdir: Path) -> Path:
    return gen_csv(workdir, 2000)


@pytest.fixture(scope="session")
def reference(workdir, small_csv, policy_path, keyset_path) -> "dict[str, list[str]]":
    """What `deid apply` writes as CSV for `small_csv` under the shared policy."""
    return read_csv_text(cli_apply(workdir, small_csv, policy_path, keyset_path))


def assert_same(columns: "dict[str, list]", reference: "dict[str, list[str]]") -> None:
    """`columns` (a null read as empty) equal the CLI's CSV output, column by column."""
    assert list(columns) == list(reference), "columns and their order"
    for name, values in reference.items():
        got = ["" if v is None else v for v in columns[name]]
        assert got == values, f"column {name} differs from deid apply"


@pytest.fixture(scope="session")
def spark():
    """A local Spark session on two cores, shared by every test that needs one."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        need("pyspark", "pip install pyspark")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        need("a Java runtime", "apt-get install default-jre-headless")
    # The workers run this interpreter (the one deid is installed in).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    s = (
        SparkSession.builder.master("local[2]")
        .appName("deid-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()
