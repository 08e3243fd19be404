"""deid.pseudonymize and friends on one column: the values of the
equivalent policy field, in the kind the column came in."""

from __future__ import annotations

import pyarrow as pa
import pytest

import deid
from conftest import read_csv_text, run_cli


@pytest.fixture(scope="module")
def keys(keyset_path):
    return deid.Keyset.load(keyset_path)


def test_pseudonymize_equals_the_cli(workdir, keys, keyset_path):
    phones = ["010-1234-5678", "01012345678", " 010 9999 0000 ", ""]
    src = workdir / "phones.csv"
    src.write_text("phone,i\n" + "".join(f'"{p}",{i}\n' for i, p in enumerate(phones)))
    pol = workdir / "phones.toml"
    pol.write_text('version = 1\n[fields.phone]\nnormalize = ["phone:KR"]\ntransform = "pseudonymize"\ncontext = "customer-phone"\n')
    out = workdir / "phones.out.csv"
    run_cli("apply", "-p", str(pol), "-k", str(keyset_path), "-o", str(out), "--quiet", str(src))
    ref = read_csv_text(out)["phone"]
    got = deid.pseudonymize(phones, context="customer-phone", keyset=keys, normalize=["phone:KR"])
    assert got == ref
    assert got[0] == got[1]  # normalized first: one person, one pseudonym
    assert got[3] == ""


def test_known_vector():
    # The library's documented vector (src/lib.rs): key 1 = [7; 32].
    import base64, json

    k = deid.Keyset.from_json(json.dumps({
        "version": 1, "primary": 1,
        "keys": [{"id": 1, "created": "2024-01-01T00:00:00Z", "secret": base64.b64encode(bytes([7] * 32)).decode()}],
    }))
    assert deid.pseudonymize(["+821012345678"], context="customer-phone", keyset=k) == ["410fd2904e78b0ee5841242f57ee8474"]
    assert deid.encrypt(["ada@example.com"], context="email", keyset=k) == ["AQAAAAFLEEmuouMOTJwbGTMK-UNYIM-sS9ky4w4pOSxFkMiS"]
    assert deid.fpe(["010-1234-5678"], context="phone", keyset=k) == ["529-6761-4496"]


def test_kinds_are_kept(keys):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    vals = ["a", None, "b"]
    arr = deid.pseudonymize(pa.array(vals), context="c", keyset=keys)
    assert isinstance(arr, pa.Array) and arr.null_count == 1
    chunked = deid.pseudonymize(pa.chunked_array([vals]), context="c", keyset=keys)
    assert isinstance(chunked, pa.ChunkedArray)
    s = pd.Series(vals, index=[5, 6, 7], name="who")
    ps = deid.pseudonymize(s, context="c", keyset=keys)
    assert isinstance(ps, pd.Series) and list(ps.index) == [5, 6, 7] and ps.name == "who"
    pls = deid.pseudonymize(pl.Series("who", vals), context="c", keyset=keys)
    assert isinstance(pls, pl.Series) and pls.name == "who"
    assert ps.iloc[0] == pls[0] == arr[0].as_py() == chunked[0].as_py()


def test_encrypt_and_fpe_reveal(keys):
    emails = ["ada@example.com", "bob@example.com", None]
    tokens = deid.encrypt(emails, context="email", keyset=keys)
    assert deid.reveal(tokens, context="email", keyset=keys) == emails
    rnd = deid.encrypt(emails, context="email", keyset=keys, mode="randomized")
    assert rnd[0] != tokens[0]
    assert deid.reveal(rnd, context="email", keyset=keys, mode="randomized") == emails
    cards = ["4111-1111-1111-1111"]
    enc = deid.fpe(cards, context="card", keyset=keys)
    assert len(enc[0]) == len(cards[0]) and enc != cards
    assert deid.reveal(enc, context="card", keyset=keys, transform_name="fpe") == cards
    with pytest.raises(deid.InputError):
        deid.reveal(["not-a-token"], context="email", keyset=keys)


def test_generic_transform_and_spec_errors(keys):
    assert deid.transform(["0101234567"], {"transform": "mask", "keep_last": 4}, keyset=keys) == ["******4567"]
    with pytest.raises(deid.PolicyError, match="keep"):
        deid.transform(["x"], {"transform": "pseudonymize", "keep": 3}, keyset=keys)
    with pytest.raises(TypeError):
        deid.pseudonymize("one string", context="c", keyset=keys)
    with pytest.raises(TypeError):
        deid.pseudonymize(["x"], context="", keyset=keys)
