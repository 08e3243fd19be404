"""Presidio's analyzer + anonymizer on the generated memo corpus, scored
against the ground truth with the same rule as deid's detections.

Usage: redact_presidio.py MEMO_CSV TRUTH_JSONL DEID_DETECTIONS_JSONL DEID_FIGURES_JSON N

Presidio is configured without a downloaded language model: a blank spaCy
pipeline (`spacy.blank("xx")`, tokenization only) as its NLP engine, and its
pattern recognizers for the same identifiers: EMAIL_ADDRESS, PHONE_NUMBER
(the regions of deid's e164 detectors: KR, US, JP, CN, GB, DE, FR, ES, NL,
CA, AU, IN, SG, HK, TW), CREDIT_CARD, IP_ADDRESS and its Korean
recognizers KR_RRN, KR_FRN, KR_BRN, KR_PASSPORT, KR_DRIVER_LICENSE (language
"ko"). Presidio has no bank-account recognizer. The anonymizer replaces each
finding with its SHA-256 hash (operator "hash"), the nearest to deid's keyed
pseudonyms. Presidio runs on the first N notes (it is slow); deid is scored
on the same N notes.

Scoring (both tools): a planted identifier is found when a detection of the
same class covers its whole span; a detection is correct when it overlaps a
planted identifier of its class. Classes: phone (phone:KR, e164), email,
rrn, frn, brn, card, ip (ipv4, ipv6), passport, driver, account.
"""

import csv
import json
import sys
import time

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IpRecognizer,
    KrBrnRecognizer,
    KrDriverLicenseRecognizer,
    KrFrnRecognizer,
    KrPassportRecognizer,
    KrRrnRecognizer,
    PhoneRecognizer,
)
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

DEID_CLASS = {
    "phone:KR": "phone", "e164": "phone", "email": "email", "rrn": "rrn", "frn": "frn",
    "brn": "brn", "card": "card", "ipv4": "ip", "ipv6": "ip", "passport:KR": "passport",
    "driver:KR": "driver", "account:KR": "account",
}
PRESIDIO_CLASS = {
    "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email", "KR_RRN": "rrn", "KR_FRN": "frn",
    "KR_BRN": "brn", "CREDIT_CARD": "card", "IP_ADDRESS": "ip", "KR_PASSPORT": "passport",
    "KR_DRIVER_LICENSE": "driver",
}
CLASSES = ["phone", "email", "rrn", "frn", "brn", "card", "ip", "passport", "driver", "account"]


class BlankSpacy(SpacyNlpEngine):
    """Tokenization only: no model to download."""

    def load(self):
        self.nlp = {"ko": spacy.blank("xx")}


def presidio_engine():
    nlp = BlankSpacy(models=[{"lang_code": "ko", "model_name": "blank"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["ko"])
    for r in [
        EmailRecognizer(supported_language="ko"),
        PhoneRecognizer(supported_language="ko", supported_regions=["KR", "US", "JP", "CN", "GB", "DE", "FR", "ES", "NL", "CA", "AU", "IN", "SG", "HK", "TW"]),
        CreditCardRecognizer(supported_language="ko"),
        IpRecognizer(supported_language="ko"),
        KrRrnRecognizer(),
        KrFrnRecognizer(),
        KrBrnRecognizer(),
        KrPassportRecognizer(),
        KrDriverLicenseRecognizer(),
    ]:
        registry.add_recognizer(r)
    return AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["ko"])


def score(truth_rows, found_rows):
    """Per class [tp_recall, fn, tp_precision, fp] under the rule above."""
    s = {c: [0, 0, 0, 0] for c in CLASSES}
    for truth, found in zip(truth_rows, found_rows):
        for c, a, b in truth:
            if any(fc == c and fa <= a and fb >= b for fc, fa, fb in found):
                s[c][0] += 1
            else:
                s[c][1] += 1
        for fc, fa, fb in found:
            if fc not in s:
                continue
            if any(c == fc and fa < b and fb > a for c, a, b in truth):
                s[fc][2] += 1
            else:
                s[fc][3] += 1
    return s


def totals(s):
    tp_r = sum(v[0] for v in s.values())
    fn = sum(v[1] for v in s.values())
    tp_p = sum(v[2] for v in s.values())
    fp = sum(v[3] for v in s.values())
    return (tp_p / (tp_p + fp) if tp_p + fp else 1.0, tp_r / (tp_r + fn) if tp_r + fn else 1.0)


def main():
    memo_csv, truth_path, deid_path, deid_figures, n = sys.argv[1:6]
    n = int(n)
    with open(memo_csv, newline="", encoding="utf-8") as f:
        memos = [row[-1] for row in csv.reader(f)][1:]
    truth = []
    with open(truth_path, encoding="utf-8") as f:
        for line in f:
            spans = json.loads(line)["spans"]
            truth.append([(DEID_CLASS[s["type"]], s["start"], s["end"]) for s in spans])
    deid = []
    with open(deid_path, encoding="utf-8") as f:
        for line in f:
            deid.append([(DEID_CLASS[k], a, b) for k, a, b in json.loads(line)])
    figures = json.loads(open(deid_figures, encoding="utf-8").read())

    analyzer = presidio_engine()
    anonymizer = AnonymizerEngine()
    ops = {"DEFAULT": OperatorConfig("hash", {"hash_type": "sha256"})}
    sample = memos[:n]
    presidio = []
    t = time.perf_counter()
    for text in sample:
        results = analyzer.analyze(text=text, language="ko")
        anonymizer.anonymize(text=text, analyzer_results=results, operators=ops)
        row = []
        for r in results:
            c = PRESIDIO_CLASS.get(r.entity_type)
            if c:
                # Character offsets to byte offsets, as the truth is written.
                a = len(text[: r.start].encode("utf-8"))
                b = a + len(text[r.start : r.end].encode("utf-8"))
                row.append((c, a, b))
        presidio.append(row)
    p_seconds = time.perf_counter() - t
    p_bytes = sum(len(m.encode("utf-8")) for m in sample)

    d_same = score(truth[:n], deid[:n])
    d_all = score(truth, deid)
    p_same = score(truth[:n], presidio)
    dp, dr = totals(d_same)
    pp, pr = totals(p_same)
    dap, dar = totals(d_all)
    p_vps = n / p_seconds
    d_vps = figures["redact_values_per_s"]
    print(f"\nnotes: {len(memos)} generated (deid), first {n} for Presidio; "
          f"{sum(len(t) for t in truth[:n])} planted identifiers in those {n}\n")
    print("| tool | precision | recall | values/s | MB/s |")
    print("|---|---|---|---|---|")
    print(f"| deid redact (1 thread, pseudonyms) | {dp:.4f} | {dr:.4f} | {d_vps:,.0f} | {figures['redact_mb_per_s']:.1f} |")
    print(f"| Presidio analyzer + anonymizer (hash) | {pp:.4f} | {pr:.4f} | {p_vps:,.1f} | {p_bytes / 1e6 / p_seconds:.3f} |")
    print(f"\ndeid / Presidio values/s: {d_vps / p_vps:,.0f}x")
    print(f"deid on all {len(memos)} notes: precision {dap:.4f}, recall {dar:.4f}; "
          f"detection alone {figures['detect_values_per_s']:,.0f} values/s, {figures['detect_mb_per_s']:.1f} MB/s\n")
    print("| class | deid recall | deid precision | Presidio recall | Presidio precision |")
    print("|---|---|---|---|---|")
    for c in CLASSES:
        d, p = d_same[c], p_same[c]
        f = lambda a, b: f"{a / (a + b):.3f}" if a + b else "-"
        print(f"| {c} | {f(d[0], d[1])} | {f(d[2], d[3])} | {f(p[0], p[1])} | {f(p[2], p[3])} |")


if __name__ == "__main__":
    main()
