"""deid.audit: the figures and keys of `deid audit risk --json` and
`deid audit hashes --json` on the same rows."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

import deid
from conftest import gen_csv, run_cli
from test_apply import arrow_text_table


QI = ["birth_date", "sex", "postal_code"]


def cli_json(*args):
    r = run_cli(*args, check=False)
    assert r.returncode in (0, 3), r.stderr.decode()
    return json.loads(r.stdout)


def figures(doc):
    """The document without its `parameters` (the CLI names its input file
    and flags, Python its arguments); `deid_version` stays and must agree."""
    doc = dict(doc)
    assert "parameters" in doc and "deid_version" in doc, sorted(doc)
    doc.pop("parameters")
    return doc


@pytest.mark.parametrize("extra", [[], ["--sampling-fraction", "0.05"], ["--population", "100000"]])
def test_risk_equals_cli(workdir, extra):
    data = gen_csv(workdir, 5000, seed=3)
    ref = cli_json("audit", "risk", str(data), "--qi", ",".join(QI), "--json", *extra)
    kw = {}
    if extra:
        kw = {"sampling_fraction": float(extra[1])} if extra[0] == "--sampling-fraction" else {"population": int(extra[1])}
    got = deid.audit.risk(arrow_text_table(data), qi=QI, **kw)
    assert figures(got) == figures(ref)


def test_risk_with_sensitive_and_find_qi_equals_cli(workdir):
    data = gen_csv(workdir, 3000, seed=4)
    ref = cli_json("audit", "risk", str(data), "--qi", "sex,city,birth_date", "--sensitive", "balance", "--find-qi", "--max-qi", "2", "--json")
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    got = deid.audit.risk(df, qi=["sex", "city", "birth_date"], sensitive="balance", find_qi=2)
    assert figures(got) == figures(ref)


def test_risk_from_class_sizes_equals_cli(workdir):
    data = gen_csv(workdir, 5000, seed=3)
    ref = cli_json("audit", "risk", str(data), "--qi", ",".join(QI), "--json", "--sampling-fraction", "0.05")
    t = arrow_text_table(data)
    classes = Counter(zip(*(t.column(c).to_pylist() for c in QI)))
    fof = Counter(classes.values())
    assert figures(deid.audit.risk_from_class_sizes(fof, qi=QI, sampling_fraction=0.05)) == figures(ref)
    assert figures(deid.audit.risk_from_class_sizes(list(classes.values()), qi=QI, sampling_fraction=0.05)) == figures(ref)
    with pytest.raises(deid.AuditError, match="sampling_fraction"):
        deid.audit.risk_from_class_sizes([1, 2], sampling_fraction=1.5)


def strip_timing(doc):
    """Drops what depends on the machine and the moment (times, rates) and
    the input's name."""
    doc = figures(json.loads(json.dumps(doc)))
    doc.pop("input", None)
    for c in doc["columns"]:
        c["verdict"] = re.sub(r" in [0-9.]+ [a-z]+ on this machine", " in T on this machine", c["verdict"])
        for k in ("seconds", "candidates_per_second"):
            c.pop(k, None)
        for a in c.get("attempts", []):
            for k in ("seconds", "rate", "per_second", "candidates_per_second"):
                a.pop(k, None)
    return doc


def test_hashes_equals_cli(workdir):
    data = gen_csv(workdir, 300, seed=5, naive=True)
    t = arrow_text_table(data)
    dictionary = workdir / "phones.txt"
    phones = t.column("phone").to_pylist()
    # Half the phones known to the recipient: half the digests reversed.
    dictionary.write_text("\n".join(phones[::2]) + "\n")
    ref = cli_json("audit", "hashes", str(data), "-c", "phone_sha256", "--dict", str(dictionary), "--space", "010-0000-?d?d?d?d", "--json")
    got = deid.audit.hashes(t, ["phone_sha256"], dictionary=dictionary, spaces=["010-0000-?d?d?d?d"])
    assert strip_timing(got) == strip_timing(ref)
    col = got["columns"][0]
    assert got["reversed_any"] and col["reversed_distinct"] == len(set(phones[::2]))
    # Recovered identifiers never come back, only masked samples.
    assert not any(p in json.dumps(got) for p in phones)
    # One column given alone.
    alone = deid.audit.hashes(t.column("phone_sha256"), dictionary=dictionary, spaces=["010-0000-?d?d?d?d"])
    assert alone["columns"][0]["reversed_rows"] == col["reversed_rows"]


def test_hashes_errors(workdir):
    data = gen_csv(workdir, 300, seed=5, naive=True)
    t = arrow_text_table(data)
    with pytest.raises(deid.AuditError, match="sha1"):
        deid.audit.hashes(t, ["phone_sha256"], algorithms=["sha1"], spaces=["010-0000-?d?d?d?d"])
    with pytest.raises(deid.AuditError, match="column 'nope': no such column"):
        deid.audit.hashes(t, ["nope"])


def nested_table(n):
    """Rows with the quasi-identifiers inside a struct (one of them typed),
    a list beside them, a digest inside another struct, and nulls."""
    import hashlib

    pa = pytest.importorskip("pyarrow")
    phones = [f"0101234{i % 97:04d}" for i in range(n)]
    address = pa.array(
        [None if i % 41 == 0 else {"zip": f"{i * 7 % 13:05d}", "floor": i % 3} for i in range(n)],
        pa.struct([("zip", pa.string()), ("floor", pa.int32())]),
    )
    return pa.table(
        {
            "sex": pa.array([["F", "M", None][i % 3] for i in range(n)]),
            "address": address,
            "tags": pa.array([[f"t{i % 4}"] * (i % 2) for i in range(n)], pa.list_(pa.string())),
            "contact": pa.array(
                [{"phone_sha256": hashlib.sha256(p.encode()).hexdigest()} for p in phones],
                pa.struct([("phone_sha256", pa.string())]),
            ),
        }
    ), phones


def test_audits_read_struct_fields_and_lists_as_the_cli_reads_parquet(workdir):
    """The package reads an Arrow table's columns as `deid audit` reads the
    same table written as Parquet: a struct field by its dotted path, a
    list as its JSON text, a value under a null struct as empty."""
    pq = pytest.importorskip("pyarrow.parquet")
    t, phones = nested_table(2000)
    path = workdir / "nested.parquet"
    pq.write_table(t, path)
    qi = ["sex", "address.zip", "address.floor", "tags"]
    ref = cli_json("audit", "risk", str(path), "--qi", ",".join(qi), "--json")
    assert figures(deid.audit.risk(t, qi=qi)) == figures(ref)
    ref = cli_json("audit", "risk", str(path), "--find-qi", "--max-qi", "2", "--json")
    assert figures(deid.audit.risk(t, find_qi=2)) == figures(ref)
    space = ["0101234?d?d?d?d"]
    ref = cli_json("audit", "hashes", str(path), "-c", "contact.phone_sha256", "--space", space[0], "--json")
    got = deid.audit.hashes(t, ["contact.phone_sha256"], spaces=space)
    assert strip_timing(got) == strip_timing(ref)
    assert got["columns"][0]["reversed_distinct"] == len(set(phones))
    with pytest.raises(deid.AuditError, match=r"column 'address': no such column \(the input has: sex, address.zip"):
        deid.audit.risk(t, qi=["address"])
