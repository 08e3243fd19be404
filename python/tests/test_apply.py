"""deid.apply / deid.decrypt on pyarrow, pandas, Polars and DuckDB data:
every value equals what `deid apply` writes for the same rows as CSV."""

from __future__ import annotations

import pickle
import stat

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import deid
from conftest import assert_same, cli_apply, read_csv_text, run_cli


def arrow_text_table(path) -> pa.Table:
    """The CSV as a pyarrow Table of strings (no type inference, empty
    strings kept), the values exactly as written."""
    with open(path, "rb") as f:
        header = f.readline().decode().strip().split(",")
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=False
        ),
    )


@pytest.fixture(scope="module")
def keys(keyset_path):
    return deid.Keyset.load(keyset_path)


@pytest.fixture(scope="module")
def policy(policy_path):
    return deid.Policy.load(policy_path)


def test_pyarrow_table_equals_cli(small_csv, policy, keys, reference):
    out = deid.apply(arrow_text_table(small_csv), policy, keys)
    assert isinstance(out, pa.Table)
    assert_same(out.to_pydict(), reference)


def test_pyarrow_record_batch_returns_a_batch(small_csv, policy, keys, reference):
    batch = arrow_text_table(small_csv).combine_chunks().to_batches()[0]
    out = deid.apply(batch, policy, keys)
    assert isinstance(out, pa.RecordBatch)
    assert_same(out.to_pydict(), reference)


def test_pandas_equals_cli_and_keeps_the_index(small_csv, policy, keys, reference):
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(small_csv, dtype=str, keep_default_na=False)
    df.index = df.index + 100
    out = deid.apply(df, policy, keys)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list(df.index)
    assert_same({c: list(out[c]) for c in out.columns}, reference)


def test_polars_equals_cli(small_csv, policy, keys, reference):
    pl = pytest.importorskip("polars")
    df = pl.read_csv(small_csv, infer_schema=False)
    out = deid.apply(df, policy, keys)
    assert isinstance(out, pl.DataFrame)
    assert_same({c: out[c].to_list() for c in out.columns}, reference)


def test_duckdb_relation_equals_cli(small_csv, policy, keys, reference):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_csv('{small_csv}', all_varchar = true, header = true)")
    out = deid.apply(rel, policy, keys)
    assert isinstance(out, pa.Table)
    assert_same(out.to_pydict(), reference)
    # And back into DuckDB, by name.
    assert con.sql("SELECT count(*) FROM out").fetchall()[0][0] == len(reference["phone"])


def test_typed_columns_use_their_text_form(keys):
    policy = deid.Policy.from_toml('version = 1\n[fields.phone]\nnormalize = ["phone:KR"]\ntransform = "pseudonymize"\n')
    t = pa.table({"balance": pa.array([1, None, 300]), "phone": ["010-1234-5678", None, ""]})
    out = deid.apply(t, policy, keys)
    assert out.column("balance").type == pa.int64()  # kept columns keep their type
    assert out.column("phone").to_pylist()[1:] == [None, ""]  # null stays null, empty stays empty
    # An integer is transformed in its decimal form, as the CLI reads "300".
    p2 = deid.Policy.from_toml('version = 1\n[fields.balance]\ntransform = "pseudonymize"\n')
    as_int = deid.apply(t, p2, keys).column("balance").to_pylist()
    as_text = deid.apply(pa.table({"balance": ["1", None, "300"]}), p2, keys).column("balance").to_pylist()
    assert as_int == as_text


def test_tz_aware_pandas_timestamps_use_their_local_text(keys):
    """pandas names the zone of a tz-aware column ("Asia/Seoul"): its values
    are read as local time with the offset, as docs/FORMAT.md states."""
    import pandas as pd

    p = deid.Policy.from_toml('version = 1\n[fields.seen]\ntransform = "pseudonymize"\n')
    seen = pd.Series(pd.to_datetime(["2023-12-31T20:00:00Z"]).tz_convert("Asia/Seoul"))
    out = deid.apply(pd.DataFrame({"seen": seen}), p, keys)
    text = deid.apply(pa.table({"seen": ["2024-01-01T05:00:00+09:00"]}), p, keys)
    assert list(out["seen"]) == text.column("seen").to_pylist()


def test_decrypt_round_trip(small_csv, policy, keys, workdir, policy_path, keyset_path):
    original = arrow_text_table(small_csv)
    back = deid.decrypt(deid.apply(original, policy, keys), policy, keys)
    assert back.column("rrn").to_pylist() == original.column("rrn").to_pylist()
    assert back.column("email").to_pylist() == [
        e.strip().lower() for e in original.column("email").to_pylist()
    ]
    # And equals `deid decrypt` of the CLI's output.
    applied = cli_apply(workdir, small_csv, policy_path, keyset_path)
    ref = read_csv_text(cli_apply(workdir, applied, policy_path, keyset_path, "decrypt"))
    assert_same(back.to_pydict(), ref)


def test_randomized_encryption_round_trip(keys):
    p = deid.Policy.from_toml('version = 1\n[fields.email]\ntransform = "encrypt"\nmode = "randomized"\n')
    t = pa.table({"email": ["a@example.com", "a@example.com", None]})
    out = deid.apply(t, p, keys)
    tokens = out.column("email").to_pylist()
    assert tokens[0] != tokens[1] and tokens[2] is None
    assert deid.decrypt(out, p, keys).column("email").to_pylist() == t.column("email").to_pylist()


def test_bad_value_names_row_and_column_never_the_value(policy, keys, workdir, policy_path, keyset_path):
    secret = "010-99-SECRET"
    rows = {c: ["x"] * 3 for c in ["customer_id", "name", "email", "rrn", "birth_date", "postal_code", "city", "signup_date"]}
    rows["email"] = ["a@example.com"] * 3
    rows["rrn"] = ["880808-1541681"] * 3
    rows["birth_date"] = ["1988-08-08"] * 3
    rows["signup_date"] = ["2020-01-01"] * 3
    rows["phone"] = ["010-1234-5678", "010-1234-5678", secret]
    t = pa.table(rows)
    with pytest.raises(deid.InputError) as e:
        deid.apply(t, policy, keys)
    msg = str(e.value)
    assert secret not in msg and "SECRET" not in msg
    assert e.value.row == 3 and e.value.column == "phone", msg
    assert "row 3" in msg and "column 'phone'" in msg
    # The CLI names the same row and column for the same rows.
    path = workdir / "bad.csv"
    pacsv.write_csv(t, path)
    r = run_cli("apply", "--policy", str(policy_path), "--keys", str(keyset_path), "--quiet", str(path), check=False)
    assert r.returncode == 1
    cli = r.stderr.decode()
    assert "row 3" in cli and "column 'phone'" in cli and secret not in cli


def test_drop_record_leaves_the_row_out(keys):
    p = deid.Policy.from_toml(
        'version = 1\non_error = "drop-record"\n[fields.phone]\nnormalize = ["phone:KR"]\ntransform = "pseudonymize"\n'
    )
    out = deid.apply(pa.table({"phone": ["010-1234-5678", "garbage", "010-1234-5679"], "i": [1, 2, 3]}), p, keys)
    assert out.column("i").to_pylist() == [1, 3]


def test_policy_errors_are_the_clis(workdir, keyset_path, small_csv):
    bad = workdir / "bad-policy.toml"
    bad.write_text('version = 1\n[fields.phone]\ntransform = "pseudonymize"\nkeep = 3\n')
    with pytest.raises(deid.PolicyError) as e:
        deid.Policy.load(bad)
    r = run_cli("apply", "--policy", str(bad), "--keys", str(keyset_path), str(small_csv), check=False)
    assert r.returncode != 0
    assert str(e.value) in r.stderr.decode(), (str(e.value), r.stderr.decode())
    assert "`keep` does not apply to `pseudonymize`" in str(e.value)
    assert e.value.source == str(bad)
    with pytest.raises(deid.PolicyError):
        deid.Policy.from_toml("version = 1\nunlisted = 'sometimes'\n")


def test_policy_that_does_not_fit_the_columns(keys):
    p = deid.Policy.from_toml('version = 1\nunlisted = "error"\n[fields.phone]\ntransform = "drop"\n')
    with pytest.raises(deid.InputError) as e:
        deid.apply(pa.table({"phone": ["1"], "extra": ["2"]}), p, keys)
    assert "extra" in str(e.value)


def test_keyset_load_generate_save_and_secrecy(tmp_path, keyset_path):
    k = deid.Keyset.load(keyset_path)
    secret = __import__("json").loads(keyset_path.read_text())["keys"][0]["secret"]
    assert secret not in repr(k) and "primary_id=1" in repr(k)
    with pytest.raises(TypeError):
        pickle.dumps(k)
    g = deid.Keyset.generate()
    assert g.ids == [1]
    out = tmp_path / "k.json"
    g.save(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = deid.Keyset.load(out)
    # Same secret: same pseudonyms.
    assert deid.pseudonymize(["x"], context="c", keyset=again) == deid.pseudonymize(["x"], context="c", keyset=g)
    out.chmod(0o644)
    with pytest.warns(UserWarning, match="readable by group or others"):
        deid.Keyset.load(out)


def test_keyset_errors_are_the_clis(tmp_path, small_csv, policy_path):
    bad = tmp_path / "bad-keys.json"
    bad.write_text('{"version": 1, "primary": 1, "keys": [{"id": 1, "created": "x", "secret": "c2hvcnQ="}]}')
    bad.chmod(0o600)
    with pytest.raises(deid.KeysetError) as e:
        deid.Keyset.load(bad)
    assert "c2hvcnQ=" not in str(e.value)
    r = run_cli("apply", "--policy", str(policy_path), "--keys", str(bad), str(small_csv), check=False)
    assert str(e.value) in r.stderr.decode(), (str(e.value), r.stderr.decode())
def test_policy_fields():
    p = deid.Policy.from_toml("version = 1\n[fields.a]\ntransform = \"drop\"\n[fields.b]\ntransform = \"keep\"\n")
    assert p.fields == {"a": "drop", "b": "keep"}
    assert repr(p) == "Policy(a=drop, b=keep)"
    assert "[fields.a]" in p.toml


def test_generalize_with_a_hierarchy_and_level(keys, workdir):
    # Built-in hierarchy: level 2 of `date` is the year, as `deid apply` writes it.
    p = deid.Policy.from_toml('version = 1\n[fields.d]\ntransform = "generalize"\nhierarchy = "date"\nlevel = 2\n')
    out = deid.apply(pa.table({"d": ["1988-08-08", None]}), p, keys)
    assert out.column("d").to_pylist() == ["1988", None]
    # A hierarchy file is read from the policy file's folder.
    (workdir / "age.csv").write_text("34;<50;*\n70;>=50;*\n")
    (workdir / "p.toml").write_text('version = 1\n[fields.age]\ntransform = "generalize"\nhierarchy = "age.csv"\nlevel = 1\n')
    p = deid.Policy.load(workdir / "p.toml")
    assert p.base_dir == workdir
    assert deid.apply(pa.table({"age": ["34", "70"]}), p, keys).column("age").to_pylist() == ["<50", ">=50"]
    # Record suppression needs a first pass over the whole input: refused.
    with pytest.raises(deid.InputError) as e:
        deid.apply(
            pa.table({"d": ["1988-08-08"]}),
            deid.Policy.from_toml(
                'version = 1\n[fields.d]\ntransform = "generalize"\nhierarchy = "date"\nlevel = 2\n'
                '[suppress]\nquasi_identifiers = ["d"]\nk = 2\n'
            ),
            keys,
        )
    assert "suppress" in str(e.value)


def test_a_bug_raises_deid_error_without_the_panics_message(capfd):
    """A panic in deid (a bug) raises DeidError; neither the exception nor
    stderr carries what the panic said, only where it happened. The test
    wheel has a `_panic` function for this (feature fault-injection)."""
    from deid import _native

    secret = "010-1234-5678 held by the failing code"
    with pytest.raises(deid.DeidError) as raised:
        _native._panic(secret)
    assert type(raised.value) is deid.DeidError
    assert "internal error" in str(raised.value)
    assert "010-1234-5678" not in str(raised.value)
    err = capfd.readouterr().err
    assert "deid: internal error: thread" in err
    assert "src/lib.rs:" in err
    assert "010-1234-5678" not in err
    assert "held by" not in err
    # The module still works after the panic.
    assert deid.Keyset.generate().ids
