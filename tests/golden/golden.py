#!/usr/bin/env python3
"""Independent reference for deid's token formats (docs/FORMAT.md), in Python.

Uses only the standard library and `cryptography`. It writes
  golden.json          single values: pseudonyms in each encoding, an AES-SIV
                       token, an AES-GCM token with a fixed nonce, FF1,
                       a dateshift offset;
  expected_python.csv  tests/fixtures/customers.csv transformed per
                       tests/fixtures/policy.toml, computed here from scratch.
tests/it/golden.rs checks deid reproduces both byte for byte. Run it again with
  python3 tests/golden/golden.py
whenever the fixtures change; the outputs are checked in.
"""
import base64
import csv
import datetime
import hashlib
import hmac
import json
import os
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")


def subkey(secret, purpose, context, n):
    info = f"deid/v1/{purpose}/{context}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=None, info=info).derive(secret)


def pseudonym(secret, context, value, nbytes=16, encoding="hex"):
    mac = hmac.new(subkey(secret, "pseudonym", context, 32), value, hashlib.sha256).digest()[:nbytes]
    if encoding == "hex":
        return mac.hex()
    if encoding == "base32":
        return base64.b32encode(mac).decode().rstrip("=").lower()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def siv_token(secret, key_id, context, value):
    out = AESSIV(subkey(secret, "siv", context, 64)).encrypt(value, [context.encode()])  # siv || ct
    return b64url(b"\x01" + key_id.to_bytes(4, "big") + out)


def gcm_token(secret, key_id, context, value, nonce):
    ct_tag = AESGCM(subkey(secret, "aead", context, 32)).encrypt(nonce, value, context.encode())
    return b64url(b"\x01" + key_id.to_bytes(4, "big") + nonce + ct_tag)


def ff1_encrypt(key, tweak, digits):
    """NIST SP 800-38G FF1, radix 10, AES-256 (algorithm 7)."""
    aes = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    radix, n, t = 10, len(digits), len(tweak)
    u, v = n // 2, n - n // 2
    a, b = digits[:u], digits[u:]
    bl = ((10 ** v - 1).bit_length() + 7) // 8
    d = 4 * ((bl + 3) // 4) + 4
    p = bytes([1, 2, 1]) + radix.to_bytes(3, "big") + bytes([10, u % 256]) + n.to_bytes(4, "big") + t.to_bytes(4, "big")
    for i in range(10):
        q = tweak + bytes((-t - bl - 1) % 16) + bytes([i]) + int(b or "0").to_bytes(bl, "big")
        y = bytes(16)
        for j in range(0, len(p + q), 16):
            blk = (p + q)[j:j + 16]
            y = aes.update(bytes(x ^ z for x, z in zip(y, blk)))
        s = y
        j = 1
        while len(s) < d:
            s += aes.update(bytes(x ^ z for x, z in zip(y, j.to_bytes(16, "big"))))
            j += 1
        m = u if i % 2 == 0 else v
        c = (int(a) + int.from_bytes(s[:d], "big")) % (10 ** m)
        a, b = b, str(c).zfill(m)
    return a + b


def fpe(secret, context, value):
    digits = "".join(ch for ch in value if ch.isdigit())
    enc = iter(ff1_encrypt(subkey(secret, "fpe", context, 32), context.encode(), digits))
    return "".join(next(enc) if ch.isdigit() else ch for ch in value)


def dateshift_offset(secret, context, subject, max_days):
    mac = hmac.new(subkey(secret, "dateshift", context, 32), subject, hashlib.sha256).digest()
    return int.from_bytes(mac[:8], "big") % (2 * max_days + 1) - max_days


def phone_kr(value):
    digits = re.sub(r"[\s\-.()/]", "", value)
    if digits.startswith("+82"):
        digits = digits[3:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return "+82" + digits


def main():
    golden = {}
    key7 = bytes([7] * 32)
    golden["pseudonym_hex"] = pseudonym(key7, "customer-phone", b"+821012345678")
    golden["pseudonym_base32"] = pseudonym(key7, "customer-phone", b"+821012345678", 32, "base32")
    golden["pseudonym_base64url"] = pseudonym(key7, "customer-phone", b"+821012345678", 8, "base64url")
    golden["siv_token"] = siv_token(key7, 1, "email", b"ada@example.com")
    golden["gcm_token_nonce_0_11"] = gcm_token(key7, 1, "email", b"ada@example.com", bytes(range(12)))
    golden["fpe_phone"] = fpe(key7, "phone", "010-1234-5678")
    golden["dateshift_offset_c1_max30"] = dateshift_offset(key7, "visit_date", b"C000000001", 30)
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=2, sort_keys=True)
        f.write("\n")

    keys = json.load(open(os.path.join(FIXTURES, "keys.json")))
    secret = base64.b64decode(keys["keys"][0]["secret"])
    rows = list(csv.DictReader(open(os.path.join(FIXTURES, "customers.csv"), encoding="utf-8")))
    out_cols = ["customer_id", "phone", "email", "rrn", "birth_date", "sex", "postal_code", "city", "signup_date", "balance"]
    with open(os.path.join(HERE, "expected_python.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(out_cols)
        for r in rows:
            signup = datetime.date.fromisoformat(r["signup_date"])
            shifted = signup + datetime.timedelta(days=dateshift_offset(secret, "signup_date", r["customer_id"].encode(), 30))
            w.writerow([
                r["customer_id"],
                pseudonym(secret, "customer-phone", phone_kr(r["phone"]).encode()),
                siv_token(secret, 1, "email", r["email"].strip().lower().encode()),
                fpe(secret, "rrn", r["rrn"]),
                r["birth_date"][:4],
                r["sex"],
                r["postal_code"][:3],
                r["city"],
                shifted.isoformat(),
                r["balance"],
            ])


if __name__ == "__main__":
    main()
