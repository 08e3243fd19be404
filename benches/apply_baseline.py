#!/usr/bin/env python3
"""What engineers write by hand today: the same policy as benches/apply.sh
with the standard csv and hmac modules (and `cryptography` for AES-SIV).

    apply_baseline.py KEYS.json INPUT.csv OUTPUT.csv

phone: E.164 (KR) then HMAC-SHA256 pseudonym (16 bytes, hex); email: trim +
lowercase then AES-SIV token; birth_date: year; name: dropped. Same keys
and formats as deid, so the outputs can be compared.
"""
import base64
import csv
import hashlib
import hmac
import json
import re
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def subkey(secret, purpose, context, n):
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=None, info=f"deid/v1/{purpose}/{context}".encode()).derive(secret)


def main():
    keys = json.load(open(sys.argv[1]))
    secret = base64.b64decode(keys["keys"][0]["secret"])
    key_id = keys["primary"].to_bytes(4, "big")
    phone_key = subkey(secret, "pseudonym", "phone", 32)
    siv = AESSIV(subkey(secret, "siv", "email", 64))
    sep = re.compile(r"[\s\-.()/]")
    with open(sys.argv[2], newline="", encoding="utf-8") as fin, open(sys.argv[3], "w", newline="", encoding="utf-8") as fout:
        r = csv.reader(fin)
        w = csv.writer(fout, lineterminator="\n")
        header = next(r)
        ip, ie, ib, iname = header.index("phone"), header.index("email"), header.index("birth_date"), header.index("name")
        keep = [i for i in range(len(header)) if i != iname]
        w.writerow([header[i] for i in keep])
        for row in r:
            digits = sep.sub("", row[ip])
            phone = "+82" + (digits[3:] if digits.startswith("+82") else digits[1:])
            row[ip] = hmac.new(phone_key, phone.encode(), hashlib.sha256).digest()[:16].hex()
            email = row[ie].strip().lower().encode()
            row[ie] = base64.urlsafe_b64encode(b"\x01" + key_id + siv.encrypt(email, [b"email"])).decode().rstrip("=")
            row[ib] = row[ib][:4]
            w.writerow([row[i] for i in keep])


if __name__ == "__main__":
    main()
