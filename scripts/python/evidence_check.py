#!/usr/bin/env python3
"""A second, independent implementation of `ownership-audit evidence check`.

    python3 scripts/python/evidence_check.py BUNDLE_DIR [--root-hash HEX] [--json]

Reads an evidence bundle written by `ownership-audit verify --evidence BUNDLE_DIR` and
recomputes its verdict from the raw answers alone, written from docs/evidence-format.md
(and docs/calibration-format.md) with nothing but Python's standard library and numpy
(Debian: python3-numpy). It never takes a metric value or a tau from verify.json or from the
calibration: those are only compared with the recomputed ones at the end, and every
difference is reported.

Exit status: 0 when every check passes; 2 when the evidence does not check (a changed,
missing or extra file, a calibration whose content hash differs, a stated figure that the
answers do not give, ...), each problem naming its file; 1 for a usage error.

Arithmetic follows the reference implementation operation for operation where a result
feeds a discrete decision (sums in index order, the same Cholesky / Jacobi steps for ZEST's
least squares), so the figures agree with it to rounding, not merely to a tolerance.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import re
import sys

try:
    import numpy as np
except ImportError:  # pragma: no cover - exercised by the test's message instead
    sys.stderr.write(
        "evidence_check.py needs numpy: install Debian's python3-numpy (apt-get install -y python3-numpy)\n"
    )
    sys.exit(1)

EVIDENCE_FORMAT = "ownership-audit-evidence"
MANIFEST_FILE = "manifest.json"
CLAIM_FILE = "verify.json"
TEST_LABELS_FILE = "test-labels.json"
FIDELITY_SET = "fidelity"
#: Relative tolerance between a recomputed value and the one a file states (scale max(1, |a|, |b|)).
RECOMPUTE_TOLERANCE = 1e-4
#: How far the victim may sit from a metric's identity value on its own fingerprints (scale max(1, |tau|)).
IDENTITY_TOLERANCE = 1e-3
EPS = 2.0**-52

#: The defences' metrics in registry order: (id, kind, identity value).
DEFENSE_METRICS = {
    "deepjudge": [("deepjudge.lod", "distance", 0.0), ("deepjudge.lad", "distance", 0.0)],
    "zest": [("zest.l2", "distance", 0.0), ("zest.cosine", "distance", 0.0)],
    "modeldiff": [("modeldiff.ddv", "similarity", 1.0)],
    "ipguard": [("ipguard.mr", "similarity", 1.0)],
    "mistakes": [("mistakes.agreement", "similarity", 1.0)],
}
#: Voting metrics judged in their defence's own verdict but left out of the combined one (`combined: false`).
NOT_COMBINED = {"mistakes.agreement"}
WHITE_BOX = {"deepjudge"}
RESPONSE_OUTPUTS = ("activations", "logits", "probabilities", "labels")
BLACK_BOX_ORDER = ("logits", "probabilities", "labels")
RULE_DEFAULTS = {"paper": None, "normal": 0.05, "confidence": 0.99, "quantile": 0.05, "reference-ratio": 1.0}


class Mismatch(Exception):
    """The evidence does not check (exit 2)."""


class NotApplicable(Exception):
    """The answers cannot give a metric (it then has no value and does not vote)."""


# ---------------------------------------------------------------------------------------
# JSON as JavaScript reads and writes it


def js_number(x) -> str:
    """Number.prototype.toString / JSON.stringify of a double: shortest round-trip digits,
    decimal notation for 1e-7 <= |x| < 1e21, else d.ddde+N / d.ddde-N."""
    x = float(x)
    if x != x or x in (math.inf, -math.inf):
        return "null"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number(-x)
    mant, _, exp = repr(x).partition("e")
    e10 = int(exp) if exp else 0
    ip, _, fp = mant.partition(".")
    digits = (ip + fp).lstrip("0")
    e10 -= len(fp)
    stripped = digits.rstrip("0")
    e10 += len(digits) - len(stripped)
    s, k = stripped, len(stripped)
    n = k + e10  # x = 0.s * 10^n
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + s
    e = n - 1
    sign = "+" if e >= 0 else "-"
    return (s if k == 1 else s[0] + "." + s[1:]) + "e" + sign + str(abs(e))


_SURROGATE = re.compile("[\ud800-\udfff]")


def js_string(s: str) -> str:
    """JSON.stringify of a string (Python's escaping equals it but for lone surrogates)."""
    out = json.dumps(s, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), out)


def _array_index(k: str) -> bool:
    return k.isdigit() and (k == "0" or not k.startswith("0")) and int(k) < 2**32 - 1


def js_key_order(keys):
    """Own-property order of a JS object: array-index keys ascending, then insertion order."""
    idx = sorted((k for k in keys if _array_index(k)), key=int)
    return idx + [k for k in keys if not _array_index(k)]


def js_stringify(v, sort_keys=False) -> str:
    """JSON.stringify(v) without whitespace; with sort_keys, keys sorted by UTF-16 code units."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return js_number(v)
    if isinstance(v, str):
        return js_string(v)
    if isinstance(v, list):
        return "[" + ",".join(js_stringify(x, sort_keys) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be", "surrogatepass")) if sort_keys else js_key_order(list(v))
        return "{" + ",".join(js_string(k) + ":" + js_stringify(v[k], sort_keys) for k in keys) + "}"
    raise TypeError(f"not JSON: {type(v)}")


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json_bytes(data: bytes, name: str):
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise Mismatch(f"{name}: not valid JSON ({e})") from None


def read_json(path: str, name: str):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Mismatch(f"{name}: cannot be read ({e.strerror})") from None
    return parse_json_bytes(data, name)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical_json(v) -> str:
    return js_stringify(v, sort_keys=True)


def calibration_content_hash(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k not in ("contentHash", "signature")}
    return sha256_hex(canonical_json(body).encode("utf-8"))


# ---------------------------------------------------------------------------------------
# Arrays: little-endian float32 in base64


def decode_array(stored, name: str) -> np.ndarray:
    if not isinstance(stored, dict) or not isinstance(stored.get("shape"), list) or not isinstance(stored.get("base64"), str):
        raise Mismatch(f"{name}: an array is not {{shape, base64}}")
    shape = stored["shape"]
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise Mismatch(f"{name}: an array's shape {shape} is not a list of non-negative integers")
    raw = base64.b64decode(stored["base64"])  # lenient, as Node's Buffer.from(s, 'base64')
    count = 1
    for d in shape:
        count *= d
    if len(raw) != count * 4:
        raise Mismatch(f"{name}: an array holds {len(raw) // 4} values where its shape {shape} needs {count}")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)


def encode_array(a: np.ndarray, shape) -> dict:
    return {"shape": shape, "base64": base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")}


# ---------------------------------------------------------------------------------------
# Sums in index order (JavaScript's loops); numpy's own reductions sum pairwise.


def seqsum(a: np.ndarray, axis=-1):
    a = np.asarray(a, dtype=np.float64)
    if a.shape[axis] == 0:
        return np.sum(a, axis=axis)
    return np.take(np.cumsum(a, axis=axis), -1, axis=axis)


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """math.ts softmaxRows: exp in double, stored as float32, divided by the double sum."""
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=1, keepdims=True))
    s = seqsum(e, axis=1)[:, None]
    return (e.astype(np.float32).astype(np.float64) / s).astype(np.float32)


def argmax_rows(x: np.ndarray) -> np.ndarray:
    """The first largest value of each row (strictly greater wins)."""
    return np.argmax(x, axis=1)


def cosine_similarity(a, b) -> float:
    """math.ts cosineSimilarity: two zero vectors 1, one zero vector 0, clamped to [-1, 1]."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size != b.size:
        raise Mismatch(f"length mismatch: {a.size} vs {b.size}")
    dot, na, nb = float(seqsum(a * b)), float(seqsum(a * a)), float(seqsum(b * b))
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    return max(-1.0, min(1.0, dot / math.sqrt(na * nb)))


def matching_rate(expected, actual) -> float:
    expected = np.asarray(expected, dtype=np.float64).ravel()
    actual = np.asarray(actual, dtype=np.float64).ravel()
    if expected.size != actual.size:
        raise Mismatch(f"length mismatch: {expected.size} vs {actual.size}")
    if expected.size == 0:
        raise Mismatch("matching rate of an empty set")
    return int(np.count_nonzero(expected == actual)) / expected.size


# ---------------------------------------------------------------------------------------
# Answers


class Answer:
    def __init__(self, output: str, data: np.ndarray):
        self.output = output
        self.data = data


def read_answers(path: str, name: str) -> dict:
    doc = read_json(path, name)
    if not isinstance(doc, dict) or doc.get("formatVersion") != 1 or not isinstance(doc.get("sets"), dict):
        raise Mismatch(f"{name}: not an answers file (formatVersion 1 with sets)")
    model = doc.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("role"), str) or not model["role"]:
        raise Mismatch(f"{name}: model.role is missing")
    out = {}
    for sid, s in doc["sets"].items():
        if not isinstance(s, dict) or s.get("output") not in RESPONSE_OUTPUTS:
            raise Mismatch(f"{name}: sets.{sid}.output is not one of {', '.join(RESPONSE_OUTPUTS)}")
        if not isinstance(s.get("shape"), list) or not 1 <= len(s["shape"]) <= 2:
            raise Mismatch(f"{name}: sets.{sid}.shape must have one or two dimensions")
        data = decode_array(s, f"{name}: sets.{sid}")
        if not np.all(np.isfinite(data)):
            raise Mismatch(f"{name}: sets.{sid} holds a non-finite value")
        out[sid] = Answer(s["output"], data)
    return out


def cannot_serve(given: str, needs: str):
    if given == needs:
        return None
    if needs == "activations":
        return "it needs a block's activations, which only the suspect's weights give"
    if given == "activations":
        return f"it needs {needs}, the answers hold activations"
    if BLACK_BOX_ORDER.index(given) < BLACK_BOX_ORDER.index(needs):
        return None
    return f"it needs {needs}; the answers hold {given} only"


def response_as(answers: dict, set_id: str, needs: str, rows: int, width=None) -> np.ndarray:
    """responses.ts responseAs: the answer in the form a metric needs (softmax, argmax)."""
    r = answers.get(set_id)
    if r is None:
        raise NotApplicable(f"no answers to the {set_id} queries")
    why = cannot_serve(r.output, needs)
    if why:
        raise NotApplicable(f"{set_id}: {why}")
    shape = r.data.shape
    n = shape[0] if shape else 0
    w = 1 if r.output == "labels" else (shape[1] if len(shape) > 1 else 0)
    if n != rows or (r.output != "labels" and len(shape) != 2) or not w > 0:
        raise Mismatch(f"the {set_id} answers have shape {list(shape)}; the queries need {rows} rows")
    if width is not None and r.output != "labels" and w != width:
        raise Mismatch(f"the {set_id} answers have {w} values per row, the victim {width}")
    if r.output == needs:
        return r.data
    if needs == "probabilities":
        return softmax_rows(r.data)
    return argmax_rows(r.data.reshape(n, w)).astype(np.float32)


# ---------------------------------------------------------------------------------------
# Fingerprints


def fingerprint_array(fp: dict, name: str, rank=None) -> np.ndarray:
    a = fp["arrays"].get(name)
    if a is None:
        raise Mismatch(f'the {fp["defense"]} fingerprint set has no "{name}" array')
    if rank is not None and a.ndim != rank:
        raise Mismatch(f'the {fp["defense"]} fingerprint array "{name}" has shape {list(a.shape)}, expected rank {rank}')
    if a.shape[0] == 0:
        raise Mismatch(f'the {fp["defense"]} fingerprint set is empty ("{name}" has no rows)')
    return a


def read_fingerprints(path: str, name: str):
    """The fingerprint set and its hash: sha256 of JSON.stringify({formatVersion: 1, ...rest,
    arrays re-encoded}), key order kept (fingerprint-file.ts serializeFingerprints)."""
    stored = read_json(path, name)
    if not isinstance(stored, dict) or stored.get("formatVersion") != 1 or not isinstance(stored.get("defense"), str) or not isinstance(stored.get("arrays"), dict):
        raise Mismatch(f"{name}: not an Ownership Audit fingerprint set")
    arrays = {k: decode_array(a, f"{name}: arrays.{k}") for k, a in stored["arrays"].items()}
    rest = {k: v for k, v in stored.items() if k != "formatVersion"}
    again = {"formatVersion": 1}
    for k in js_key_order(list(rest)):
        again[k] = rest[k]
    again["arrays"] = {k: encode_array(arrays[k], stored["arrays"][k]["shape"]) for k in js_key_order(list(arrays))}
    fp = dict(rest)
    fp["arrays"] = arrays
    fp.setdefault("params", {})
    return fp, sha256_hex(js_stringify(again).encode("utf-8"))


# ---------------------------------------------------------------------------------------
# DeepJudge


def deepjudge_scores(fp: dict, answers: dict) -> dict:
    victim = fingerprint_array(fp, "activations", 2).astype(np.float64)
    n, channels = victim.shape
    acts = response_as(answers, "deepjudge", "activations", n, channels).astype(np.float64)
    d = victim - acts
    lod = float(seqsum(np.sqrt(seqsum(d * d, axis=1)), axis=0)) / n

    def pattern(v):
        lo = v.min(axis=1, keepdims=True)
        hi = v.max(axis=1, keepdims=True)
        return (v - lo) / (hi - lo + 1e-6) > 0.5

    diff = int(np.count_nonzero(pattern(victim) != pattern(acts)))
    lad = diff / (n * channels) if fp["params"].get("ladNormalized") is True else diff / n
    return {"deepjudge.lod": lod, "deepjudge.lad": lad}


# ---------------------------------------------------------------------------------------
# ZEST: least squares exactly as least-squares.ts computes it


def _accumulate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over rows r of outer(a[r], b[r]), added in row order (gram, transposeTimes)."""
    rows, p = a.shape
    q = b.shape[1]
    total = np.zeros((p, q))
    for start in range(0, rows, 256):
        chunk = a[start : start + 256, :, None] * b[start : start + 256, None, :]
        total = np.cumsum(np.concatenate([total[None], chunk]), axis=0)[-1]
    return total


def _cholesky(a: np.ndarray):
    n = a.shape[0]
    l = np.zeros((n, n))
    max_diag = float(np.max(np.abs(np.diag(a)))) if n else 0.0
    tol = n * EPS * max_diag
    for j in range(n):
        d = float(a[j, j])
        for k in range(j):
            d -= float(l[j, k]) * float(l[j, k])
        if not d > tol:
            return None
        ljj = math.sqrt(d)
        l[j, j] = ljj
        s = a[j + 1 :, j].copy()
        for k in range(j):
            s -= l[j + 1 :, k] * l[j, k]
        l[j + 1 :, j] = s / ljj
    return l


def _cholesky_solve(l: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = l.shape[0]
    x = b.copy()
    for i in range(n):
        s = x[i].copy()
        for j in range(i):
            s -= l[i, j] * x[j]
        x[i] = s / l[i, i]
    for i in range(n - 1, -1, -1):
        s = x[i].copy()
        for j in range(i + 1, n):
            s -= l[j, i] * x[j]
        x[i] = s / l[i, i]
    return x


def _jacobi_eigen(a: np.ndarray, max_sweeps=100):
    n = a.shape[0]
    m = a.copy()
    v = np.eye(n)
    offdiag = ~np.eye(n, dtype=bool)
    for _ in range(max_sweeps):
        sq = (m * m).ravel()
        total = float(seqsum(sq)) if n else 0.0
        off = float(seqsum(np.where(offdiag.ravel(), sq, 0.0))) if n else 0.0
        if off <= 1e-30 * total or off == 0:
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                apq = float(m[p, q])
                if apq == 0:
                    continue
                theta = (float(m[q, q]) - float(m[p, p])) / (2 * apq)
                th = theta if (theta != 0 and theta == theta) else 1.0
                sign = 1.0 if th > 0 else -1.0
                t = sign / (abs(theta) + math.sqrt(theta * theta + 1))
                c = 1 / math.sqrt(t * t + 1)
                s = t * c
                mkp, mkq = m[:, p].copy(), m[:, q].copy()
                m[:, p] = c * mkp - s * mkq
                m[:, q] = s * mkp + c * mkq
                mpk, mqk = m[p, :].copy(), m[q, :].copy()
                m[p, :] = c * mpk - s * mqk
                m[q, :] = s * mpk + c * mqk
                vkp, vkq = v[:, p].copy(), v[:, q].copy()
                v[:, p] = c * vkp - s * vkq
                v[:, q] = s * vkp + c * vkq
    return np.diag(m).copy(), v


def _pinv_symmetric(a: np.ndarray) -> np.ndarray:
    n = a.shape[0]
    values, vectors = _jacobi_eigen(a)
    max_abs = float(np.max(np.abs(values))) if n else 0.0
    tol = n * EPS * max_abs * 16
    out = np.zeros((n, n))
    for k in range(n):
        if abs(values[k]) <= tol:
            continue
        inv = 1 / values[k]
        out += np.outer(vectors[:, k] * inv, vectors[:, k])
    return out


def least_squares(m: np.ndarray, y: np.ndarray) -> np.ndarray:
    """W = pinv(M^T M) M^T Y: Cholesky when M^T M is positive definite, else the pseudo-inverse."""
    g = _accumulate(m, m)
    b = _accumulate(m, y)
    l = _cholesky(g)
    if l is not None:
        return _cholesky_solve(l, b)
    p = _pinv_symmetric(g)
    out = np.zeros_like(b)
    for j in range(p.shape[1]):
        out += np.outer(p[:, j], b[j])
    return out


def zest_probes(fp: dict) -> dict:
    arr = fp["arrays"]
    for key in ("images", "segments", "segmentCounts", "masks"):
        if key not in arr:
            raise Mismatch(f"the ZEST fingerprints lack the array '{key}'")
    images = arr["images"]
    counts = arr["segmentCounts"].astype(np.int64).ravel()
    masks = arr["masks"]
    if images.ndim != 4:
        raise Mismatch("the ZEST fingerprint arrays do not fit together")
    count = images.shape[0]
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if count else np.zeros(0, np.int64)
    total = int(counts.sum())
    if arr["segments"].size != count * images.shape[1] * images.shape[2] or counts.size != count or masks.ndim != 2 or masks.shape[1] != total:
        raise Mismatch("the ZEST fingerprint arrays do not fit together")
    return {"count": count, "counts": counts, "offsets": offsets, "total": total, "masks": masks, "numMasks": masks.shape[0]}


def distinct_probes(pr: dict):
    """zest-signature.ts distinctProbes: one query per distinct masked image, in first-seen order."""
    num_masks = pr["numMasks"]
    row_to_query = np.zeros(pr["count"] * num_masks, dtype=np.int64)
    queries = []
    seen = {}
    for i in range(pr["count"]):
        k, o = int(pr["counts"][i]), int(pr["offsets"][i])
        on = pr["masks"][:, o : o + k] != 0
        for m in range(num_masks):
            bits = on[m].tobytes()
            key = (i, bits) if on[m].any() else "zero"
            q = seen.get(key)
            if q is None:
                q = len(queries)
                queries.append((i, m))
                seen[key] = q
            row_to_query[i * num_masks + m] = q
    return row_to_query, queries


def signature_from_logits(pr: dict, row_to_query: np.ndarray, logits: np.ndarray) -> np.ndarray:
    classes = logits.shape[1]
    num_masks = pr["numMasks"]
    logits64 = logits.astype(np.float64)
    weights = np.zeros((pr["total"], classes))
    for i in range(pr["count"]):
        k, o = int(pr["counts"][i]), int(pr["offsets"][i])
        m = pr["masks"][:, o : o + k].astype(np.float64)
        y = logits64[row_to_query[i * num_masks : (i + 1) * num_masks]]
        weights[o : o + k] = least_squares(m, y)
    return weights


def l2_distance(a, b) -> float:
    d = np.asarray(a, np.float64).ravel() - np.asarray(b, np.float64).ravel()
    return math.sqrt(float(seqsum(d * d)))


def cosine_distance(a, b) -> float:
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    dot, na, nb = float(seqsum(a * b)), float(seqsum(a * a)), float(seqsum(b * b))
    if na == 0 and nb == 0:
        return 0.0
    if na == 0 or nb == 0:
        return 1.0
    return min(2.0, max(0.0, 1 - dot / math.sqrt(na * nb)))


def _column_distances(p: np.ndarray, q: np.ndarray, metric: str) -> list:
    out = []
    for j in range(p.shape[1]):
        pj = p[:, j : j + 1]
        if metric == "l2":
            d = q - pj
            row = np.sqrt(seqsum(d * d, axis=0))
        else:
            dot = seqsum(pj * q, axis=0)
            na = float(seqsum(pj[:, 0] * pj[:, 0]))
            nb = seqsum(q * q, axis=0)
            row = []
            for kk in range(q.shape[1]):
                if na == 0 and nb[kk] == 0:
                    row.append(0.0)
                elif na == 0 or nb[kk] == 0:
                    row.append(1.0)
                else:
                    row.append(min(2.0, max(0.0, 1 - float(dot[kk]) / math.sqrt(na * float(nb[kk])))))
        out.append([float(x) for x in row])
    return out


def greedy_align(w1: np.ndarray, w2: np.ndarray, metric: str):
    """ZEST's lime_align: the model with fewer classes (the victim on a tie) keeps its order;
    repeatedly the closest unused pair (first in row-major order on ties) is matched."""
    victim_first = w1.shape[1] <= w2.shape[1]
    p, q = (w1, w2) if victim_first else (w2, w1)
    cp, cq = p.shape[1], q.shape[1]
    d = _column_distances(p, q, metric)
    used_row, used_col = [False] * cp, [False] * cq
    pairs = [0] * cp
    for _ in range(cp):
        best, bj, bk = math.inf, -1, -1
        for j in range(cp):
            if used_row[j]:
                continue
            for k in range(cq):
                if used_col[k]:
                    continue
                v = d[j][k]
                if v < best or bj < 0:
                    best, bj, bk = v, j, k
        used_row[bj] = used_col[bk] = True
        pairs[bj] = bk
    return p, q[:, pairs]


def zest_scores(fp: dict, answers: dict) -> dict:
    pr = zest_probes(fp)
    alignment = fp["params"].get("alignment", "greedy")
    if alignment not in ("greedy", "none"):
        raise Mismatch(f"ZEST parameter alignment must be greedy or none, got {alignment}")
    cached = fp["arrays"].get("victimWeights")
    if cached is None or cached.ndim != 2 or cached.shape[0] != pr["total"]:
        raise Mismatch("the ZEST fingerprints lack the victim's signature")
    row_to_query, queries = distinct_probes(pr)
    logits = response_as(answers, "zest", "logits", len(queries))
    if alignment == "none" and logits.shape[1] != cached.shape[1]:
        raise Mismatch("ZEST with alignment=none needs equal class counts")
    victim = cached.astype(np.float64)
    suspect = signature_from_logits(pr, row_to_query, logits).astype(np.float32).astype(np.float64)
    out = {}
    for metric, dist in (("l2", l2_distance), ("cosine", cosine_distance)):
        if alignment == "none":
            out[metric] = dist(victim, suspect)
        else:
            a, b = greedy_align(victim, suspect, metric)
            out[metric] = dist(a, b)
    return {"zest.l2": out["l2"], "zest.cosine": out["cosine"]}


# ---------------------------------------------------------------------------------------
# ModelDiff, IPGuard


def decision_distance_vector(outputs: np.ndarray, variant: str) -> np.ndarray:
    """modeldiff.ts decisionDistanceVector, float32 like the reference."""
    n, classes = outputs.shape
    o64 = outputs.astype(np.float64)
    if variant == "eq3":
        out = []
        for i in range(n):
            for j in range(i + 1, n):
                out.append(l2_distance(o64[i], o64[j]))
        return np.asarray(out, dtype=np.float32)
    k = n // 2
    return np.asarray([1 - cosine_similarity(o64[i], o64[k + i]) for i in range(k)], dtype=np.float32)


def modeldiff_scores(fp: dict, answers: dict) -> dict:
    inputs = fingerprint_array(fp, "inputs", 4)
    victim = fingerprint_array(fp, "victimOutputs", 2)
    if inputs.shape[0] % 2 != 0 or inputs.shape[0] != victim.shape[0]:
        raise Mismatch("the ModelDiff fingerprint set does not hold K pairs matching its outputs")
    suspect = response_as(answers, "modeldiff", "probabilities", inputs.shape[0])
    variant = fp["params"].get("variant", "ddv")
    variant = js_stringify(variant) if not isinstance(variant, str) else variant
    ddv_v = decision_distance_vector(victim, variant)
    ddv_s = decision_distance_vector(suspect, variant)
    return {"modeldiff.ddv": cosine_similarity(ddv_v, ddv_s)}


def ipguard_scores(fp: dict, answers: dict) -> dict:
    labels = fingerprint_array(fp, "labels", 1)
    pred = response_as(answers, "ipguard", "labels", labels.shape[0])
    return {"ipguard.mr": matching_rate(labels, pred)}


def mistakes_scores(fp: dict, answers: dict) -> dict:
    """The share of the victim's misclassified inputs on which the suspect gives the victim's wrong label."""
    victim_labels = fingerprint_array(fp, "victimLabels", 1)
    pred = response_as(answers, "mistakes", "labels", victim_labels.shape[0])
    return {"mistakes.agreement": matching_rate(victim_labels, pred)}


SCORERS = {
    "deepjudge": deepjudge_scores,
    "zest": zest_scores,
    "modeldiff": modeldiff_scores,
    "ipguard": ipguard_scores,
    "mistakes": mistakes_scores,
}


def metrics_from_answers(sets: list, answers: dict, not_applicable=None) -> list:
    """score-answers.ts metricsFromAnswers: every metric of every defence, in calibration order."""
    not_applicable = not_applicable or {}
    out = []
    for defense, fp in sets:
        values, reason = None, not_applicable.get(defense)
        if reason is None:
            try:
                values = SCORERS[defense](fp, answers)
            except NotApplicable as e:
                reason = str(e)
        for mid, kind, _identity in DEFENSE_METRICS[defense]:
            v = values.get(mid) if values else None
            m = {"id": mid, "kind": kind, "value": v, "applicable": v is not None, "votes": True}
            if mid in NOT_COMBINED:
                m["combined"] = False
            if v is None:
                m["reason"] = reason or "not computed"
            out.append(m)
    return out


def fidelity_from_answers(answers: dict, test_labels: np.ndarray, victim_labels: np.ndarray, num_classes: int) -> list:
    a = answers.get(FIDELITY_SET)
    reason, pred = None, None
    if a is None:
        reason = "no answers on the test split"
    elif a.output == "activations":
        reason = "the answers hold activations, not classes"
    elif a.output != "labels" and (a.data.shape[1] if a.data.ndim > 1 else None) != num_classes:
        reason = f"the suspect has {a.data.shape[1] if a.data.ndim > 1 else None} classes, the victim {num_classes}"
    else:
        pred = response_as(answers, FIDELITY_SET, "labels", test_labels.size)

    def metric(mid, value):
        m = {"id": mid, "kind": "similarity", "value": value, "applicable": value is not None, "votes": False}
        if value is None:
            m["reason"] = reason
        return m

    return [
        metric("fidelity.accuracy", matching_rate(test_labels, pred) if pred is not None else None),
        metric("fidelity.agreement", matching_rate(victim_labels, pred) if pred is not None else None),
    ]


# ---------------------------------------------------------------------------------------
# Thresholds (rules.ts)


def normal_quantile(p: float) -> float:
    """Acklam's rational approximation of the inverse standard normal CDF."""
    a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
    b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
    c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
    d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
    lo = 0.02425
    if not 0 < p < 1:
        raise Mismatch(f"a rule parameter gives p = {p}, outside (0, 1)")
    if p < lo:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    if p > 1 - lo:
        return -normal_quantile(1 - p)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (
        ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1
    )


def student_t_quantile(p: float, df: float) -> float:
    """Cornish-Fisher expansion around the normal quantile (as rules.ts)."""
    z = normal_quantile(p)
    z3, z5, z7 = z**3, z**5, z**7
    return (
        z
        + (z3 + z) / (4 * df)
        + (5 * z5 + 16 * z3 + 3 * z) / (96 * df**2)
        + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df**3)
    )


def _mean(xs):
    s = 0.0
    for x in xs:
        s += x
    return s / len(xs)


def _sample_std(xs):
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    s = 0.0
    for x in xs:
        s += (x - m) ** 2
    return math.sqrt(s / (len(xs) - 1))


def compute_threshold(kind: str, reference_values: list, rule: dict):
    """rules.ts computeThreshold: (tau, degenerate, parameter used)."""
    values = [float(v) for v in reference_values if math.isfinite(v)]
    name = rule.get("name")
    param = rule.get("parameter", RULE_DEFAULTS.get(name))
    if not values:
        return math.nan, True, param
    below = kind == "distance"
    if name == "paper":
        tau = min(values) if below else max(values)
    elif name == "normal":
        z = normal_quantile(1 - param)
        tau = _mean(values) - z * _sample_std(values) if below else _mean(values) + z * _sample_std(values)
    elif name == "confidence":
        k = len(values)
        t = student_t_quantile(param, k - 1) if k >= 2 else 0.0
        spread = t * _sample_std(values) * math.sqrt(1 + 1 / k)
        tau = _mean(values) - spread if below else _mean(values) + spread
    elif name == "quantile":
        s = sorted(values)
        q = param if below else 1 - param
        pos = (len(s) - 1) * q
        lo, hi = math.floor(pos), math.ceil(pos)
        tau = s[lo] + (s[hi] - s[lo]) * (pos - lo)
    elif name == "reference-ratio":
        tau = param * _mean(values)
    else:
        raise Mismatch(f"unknown threshold rule {name}")
    degenerate = all(abs(v - values[0]) <= 1e-12 * max(1.0, abs(values[0])) for v in values)
    return tau, degenerate, param


# ---------------------------------------------------------------------------------------
# Verdict (verdict.ts, score-answers.ts judge)


def is_flagged(kind: str, value: float, tau: float) -> bool:
    return value < tau if kind == "distance" else value > tau


def judge(metrics: list, taus: dict, rule: str):
    scored = []
    for m in metrics:
        m = dict(m)
        t = taus.get(m["id"])
        if t is not None:
            m["tau"], m["degenerate"] = t
        if m["value"] is None or "tau" not in m or not m["applicable"]:
            m["flagged"] = None
        else:
            m["flagged"] = is_flagged(m["kind"], m["value"], m["tau"])
        scored.append(m)
    voting = [
        m for m in scored
        if m["votes"] and m.get("combined") is not False and m["applicable"] and not m.get("degenerate")
        and m["value"] is not None and "tau" in m
    ]
    votes = sum(1 for m in voting if is_flagged(m["kind"], m["value"], m["tau"]))
    of = len(voting)
    if of == 0:
        derived = False
    elif rule == "any":
        derived = votes > 0
    elif rule == "all":
        derived = votes == of
    else:
        derived = votes * 2 > of
    # Taus of metrics outside the combined vote do not count towards "the calibration has two or more".
    outside = {m["id"] for m in metrics if m.get("combined") is False}
    insufficient = of < min(2, max(1, sum(1 for mid in taus if mid not in outside)))
    verdict = {"derived": False if insufficient else derived, "votes": votes, "of": of, "rule": rule, "insufficientEvidence": insufficient}
    return scored, verdict


# ---------------------------------------------------------------------------------------
# The check


def close(a: float, b: float, tol: float) -> bool:
    return a == b or abs(a - b) <= tol * max(1.0, abs(a), abs(b))


class Findings:
    def __init__(self):
        self.checks = []

    def add(self, name: str, problems: list, ok_detail: str):
        self.checks.append({"name": name, "ok": not problems, "detail": "; ".join(problems) if problems else ok_detail})

    @property
    def problems(self):
        return [f'{c["name"]}: {c["detail"]}' for c in self.checks if not c["ok"]]


def list_files(root: str) -> list:
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in files:
            out.append(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/"))
    return sorted(out, key=lambda p: p.encode("utf-16-be", "surrogatepass"))


def check_manifest(manifest) -> None:
    ok = (
        isinstance(manifest, dict)
        and manifest.get("format") == EVIDENCE_FORMAT
        and manifest.get("formatVersion") == 1
        and isinstance(manifest.get("files"), list)
        and isinstance(manifest.get("calibration"), str)
        and isinstance(manifest.get("references"), list)
        and isinstance(manifest.get("notApplicable"), dict)
        and isinstance(manifest.get("parameters"), dict)
        and manifest["parameters"].get("rule") in ("majority", "any", "all")
        and isinstance(manifest.get("victim"), dict)
    )
    if not ok:
        raise Mismatch(f"{MANIFEST_FILE} is not an {EVIDENCE_FORMAT} formatVersion 1 manifest")
    for f in manifest["files"]:
        if not (isinstance(f, dict) and isinstance(f.get("path"), str) and re.fullmatch(r"[0-9a-f]{64}", str(f.get("sha256")))):
            raise Mismatch(f"{MANIFEST_FILE}: a files entry is not {{path, sha256, bytes}}")


def file_problems(root: str, manifest: dict) -> list:
    problems = []
    listed = {f["path"] for f in manifest["files"]}
    for f in manifest["files"]:
        p = os.path.join(root, f["path"])
        if ".." in f["path"].split("/") or f["path"].startswith("/"):
            problems.append(f'{f["path"]}: a path outside the bundle')
        elif not os.path.isfile(p):
            problems.append(f'{f["path"]}: missing')
        elif file_sha256(p) != f["sha256"]:
            problems.append(f'{f["path"]}: its sha256 differs from the manifest (the file was changed)')
    for p in list_files(root):
        if p != MANIFEST_FILE and p not in listed:
            problems.append(f"{p}: not listed in the manifest (added after the bundle was written)")
    return problems


VOTING = {m[0]: (d, m[1]) for d, ms in DEFENSE_METRICS.items() for m in ms}


def load_calibration(path: str, name: str):
    """The calibration document, checked as calibration-file.ts loadCalibration does (but for
    the Ed25519 signature, which Python's standard library cannot verify)."""
    raw = read_json(path, name)
    if not isinstance(raw, dict) or raw.get("formatVersion") not in (1, 2):
        raise Mismatch(f"{name}: not an Ownership Audit calibration (formatVersion 1 or 2)")
    content_hash = None
    if raw["formatVersion"] == 2:
        content_hash = raw.get("contentHash")
        if not isinstance(content_hash, str) or not re.fullmatch(r"[0-9a-f]{64}", content_hash):
            raise Mismatch(f"{name}: contentHash is required in formatVersion 2")
        got = calibration_content_hash(raw)
        if got != content_hash:
            raise Mismatch(f"{name}: its content hashes to {got}, the file states {content_hash} (the calibration was changed)")
    elif "signature" in raw:
        raise Mismatch(f"{name}: a signature needs formatVersion 2")
    problems = []
    defenses = raw.get("defenses")
    refs = raw.get("references")
    metrics = raw.get("metrics")
    if not isinstance(defenses, list) or not defenses:
        raise Mismatch(f"{name}: defenses must list one or more defences")
    if not isinstance(refs, list) or len(refs) < 2:
        raise Mismatch(f"{name}: references must list two or more models")
    if not isinstance(metrics, list) or not metrics:
        raise Mismatch(f"{name}: metrics must list one or more metrics")
    expected = {}
    for i, d in enumerate(defenses):
        if not isinstance(d, dict) or d.get("id") not in DEFENSE_METRICS:
            problems.append(f"defenses[{i}].id: unknown defence {d.get('id') if isinstance(d, dict) else d!r}")
            continue
        if [x.get("id") for x in defenses].index(d["id"]) != i:
            problems.append(f"defenses[{i}].id: {d['id']} is listed twice")
        for mid, kind, _ in DEFENSE_METRICS[d["id"]]:
            expected[mid] = kind
    seen = set()
    for i, m in enumerate(metrics):
        mid = m.get("id") if isinstance(m, dict) else None
        if mid not in expected:
            problems.append(f"metrics[{i}].id: {mid} is not a voting metric of the listed defences")
            continue
        if mid in seen:
            problems.append(f"metrics[{i}].id: {mid} is listed twice")
        seen.add(mid)
        if m.get("kind") != expected[mid]:
            problems.append(f"metrics[{i}].kind: {mid} is a {expected[mid]}, not a {m.get('kind')}")
        vals = m.get("values")
        if not isinstance(vals, list) or len(vals) != len(refs) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in vals):
            problems.append(f"metrics[{i}].values: must hold one finite value per reference ({len(refs)})")
        tau = m.get("tau")
        if not isinstance(tau, (int, float)) or isinstance(tau, bool) or not math.isfinite(tau):
            problems.append(f"metrics[{i}].tau: must be a finite number")
        rule = m.get("rule")
        if not isinstance(rule, dict) or rule.get("name") not in RULE_DEFAULTS:
            problems.append(f"metrics[{i}].rule.name: must be one of {', '.join(RULE_DEFAULTS)}")
        if not isinstance(m.get("degenerate"), bool):
            problems.append(f"metrics[{i}].degenerate: must be a boolean")
    for mid in expected:
        if mid not in seen:
            problems.append(f"metrics: has no entry for {mid}")
    if problems:
        raise Mismatch(f"{name} is not valid: {'; '.join(problems)}")
    # Every stored tau must follow from the stored values with the stored rule (1e-12).
    for m in metrics:
        tau, degenerate, param = compute_threshold(m["kind"], m["values"], m["rule"])
        same = tau == m["tau"] or abs(tau - m["tau"]) <= 1e-12 * max(abs(tau), abs(m["tau"]))
        if param != m["rule"].get("parameter") or not same or degenerate != m["degenerate"]:
            raise Mismatch(
                f"{name}: the threshold of {m['id']} does not follow from its reference values: stored tau {m['tau']}, the {m['rule']['name']} rule gives {tau}"
            )
    signature = "unsigned" if "signature" not in raw else "unchecked (this implementation does not verify Ed25519 signatures)"
    return raw, content_hash, signature


def run_check(root: str, published_root_hash=None):
    findings = Findings()
    manifest_path = os.path.join(root, MANIFEST_FILE)
    if not os.path.isfile(manifest_path):
        raise Mismatch(f"{MANIFEST_FILE} is missing: this is not an evidence bundle")
    with open(manifest_path, "rb") as f:
        manifest_bytes = f.read()
    root_hash = sha256_hex(manifest_bytes)
    manifest = parse_json_bytes(manifest_bytes, MANIFEST_FILE)
    check_manifest(manifest)
    state = {"rootHash": root_hash, "files": len(manifest["files"]), "findings": findings}
    if published_root_hash is not None:
        findings.add(
            "root hash",
            [] if published_root_hash.lower() == root_hash else [f"manifest.json hashes to {root_hash}, not the published {published_root_hash}"],
            root_hash,
        )
    problems = file_problems(root, manifest)
    findings.add("files", problems, f'{len(manifest["files"])} files match the manifest')
    if problems:  # a changed file makes everything after it meaningless
        return state

    # The calibration and its fingerprints.
    cal_name = manifest["calibration"]
    cal_path = os.path.join(root, cal_name)
    cal, content_hash, signature = load_calibration(cal_path, cal_name)
    victim_hash = cal["victim"]["contentHash"]
    findings.add(
        "calibration",
        [] if victim_hash == manifest["victim"].get("contentHash") else [f'{cal_name} was made for victim {victim_hash}, the manifest names {manifest["victim"].get("contentHash")}'],
        f"content hash {content_hash}, signature {signature}",
    )
    sets = []
    for d in cal["defenses"]:
        fp_path = d["fingerprintsFile"]
        fp_path = fp_path if os.path.isabs(fp_path) else os.path.join(os.path.dirname(cal_path), fp_path)
        fp_name = os.path.relpath(fp_path, root).replace(os.sep, "/")
        if not os.path.isfile(fp_path):
            raise Mismatch(f"{fp_name}: the calibration's {d['id']} fingerprints are missing")
        fp, h = read_fingerprints(fp_path, fp_name)
        if h != d["fingerprintsHash"] or fp.get("victimHash") != victim_hash:
            raise Mismatch(f"{fp_name}: the {d['id']} fingerprints changed since the calibration")
        sets.append((d["id"], fp))

    suspect = read_answers(os.path.join(root, "answers", "suspect.json"), "answers/suspect.json")
    victim = read_answers(os.path.join(root, "answers", "victim.json"), "answers/victim.json")
    labels_doc = read_json(os.path.join(root, TEST_LABELS_FILE), TEST_LABELS_FILE)
    test_labels = decode_array(labels_doc.get("labels") if isinstance(labels_doc, dict) else None, TEST_LABELS_FILE).ravel()

    # Taus from the references' answers, with the calibration's rule.
    if len(manifest["references"]) != len(cal["references"]):
        findings.add("references", [f'the manifest lists {len(manifest["references"])} answer files, the calibration {len(cal["references"])} references'], "")
    ref_metrics = [metrics_from_answers(sets, read_answers(os.path.join(root, f), f)) for f in manifest["references"]]
    taus = {}
    tau_problems = []
    for m in cal["metrics"]:
        values = [next((x["value"] for x in r if x["id"] == m["id"]), None) for r in ref_metrics]
        if any(v is None for v in values):
            tau_problems.append(f'{m["id"]}: a reference\'s answers do not give it')
            continue
        tau, degenerate, _ = compute_threshold(m["kind"], values, m["rule"])
        taus[m["id"]] = (tau, degenerate)
        for i, v in enumerate(values):
            if i >= len(m["values"]) or not close(v, m["values"][i], RECOMPUTE_TOLERANCE):
                stated = m["values"][i] if i < len(m["values"]) else None
                tau_problems.append(f'{m["id"]}: reference {i + 1} recomputes to {v}, {cal_name} states {stated}')
        if not close(tau, m["tau"], RECOMPUTE_TOLERANCE):
            tau_problems.append(f'{m["id"]}: tau recomputes to {tau}, {cal_name} states {m["tau"]}')
    findings.add("thresholds", tau_problems, f"{len(taus)} taus re-derived from {len(ref_metrics)} references' answers")

    # The victim against its own fingerprints: every metric at its identity value.
    identity = {mid: ident for ms in DEFENSE_METRICS.values() for mid, _, ident in ms}
    self_problems = []
    for m in metrics_from_answers(sets, victim):
        if m["value"] is None:
            continue
        scale = max(1.0, abs(taus.get(m["id"], (0.0, False))[0]))
        if abs(m["value"] - identity[m["id"]]) > IDENTITY_TOLERANCE * scale:
            self_problems.append(f'{m["id"]}: the victim\'s answers give {m["value"]}, its fingerprints imply {identity[m["id"]]}')
    findings.add("victim answers", self_problems, "the victim's answers reproduce its fingerprints")

    # The suspect: metrics, fidelity, verdict.
    na_problems = []
    metrics = []
    for m in metrics_from_answers(sets, suspect):
        reason = manifest["notApplicable"].get(m["id"].split(".")[0])
        if reason is not None:
            if m["value"] is not None:
                na_problems.append(f'the manifest calls {m["id"]} not applicable, but the suspect\'s answers give it')
            m = dict(m, reason=reason)
        metrics.append(m)
    findings.add("applicability", na_problems, f'{len(manifest["notApplicable"])} defences not applicable, as stated')
    vf = victim.get(FIDELITY_SET)
    if vf is None or vf.data.ndim != 2:
        raise Mismatch("answers/victim.json: the victim's answers on the test split (set fidelity) are missing")
    count = manifest["data"]["testCount"]
    findings.add(
        TEST_LABELS_FILE,
        [] if len(test_labels) == count and vf.data.shape[0] == len(test_labels)
        else [f"{len(test_labels)} labels and {vf.data.shape[0]} victim answers for the {count} test images the manifest states"],
        f"{len(test_labels)} test labels",
    )
    fidelity = fidelity_from_answers(suspect, test_labels, argmax_rows(vf.data), vf.data.shape[1])
    scored, verdict = judge(metrics + fidelity, taus, manifest["parameters"]["rule"])

    # Only now: the claimed result, compared.
    claim = read_json(os.path.join(root, CLAIM_FILE), CLAIM_FILE)
    claim = claim if isinstance(claim, dict) else {}
    stated_metrics = {c.get("id"): c for c in claim.get("metrics") or [] if isinstance(c, dict)}
    claim_problems = []
    for m in scored:
        s = stated_metrics.get(m["id"])
        m["stated"] = {"value": s.get("value"), "tau": s.get("tau")} if s else None
        if s is None:
            claim_problems.append(f'{m["id"]} is missing')
        elif (s.get("value") is None) != (m["value"] is None) or (m["value"] is not None and not close(m["value"], s["value"], RECOMPUTE_TOLERANCE)):
            claim_problems.append(f'{m["id"]} is stated as {s.get("value")}, recomputed {m["value"]}')
        elif s.get("tau") is not None and m.get("tau") is not None and not close(m["tau"], s["tau"], RECOMPUTE_TOLERANCE):
            claim_problems.append(f'{m["id"]}\'s tau is stated as {s["tau"]}, recomputed {m["tau"]}')
    cv = claim.get("verdict") or {}
    if any(cv.get(k) != verdict[k] for k in ("derived", "votes", "of", "insufficientEvidence")):
        claim_problems.append(
            f'the verdict is stated as {"derived" if cv.get("derived") else "not derived"} ({cv.get("votes")}/{cv.get("of")}), recomputed {"derived" if verdict["derived"] else "not derived"} ({verdict["votes"]}/{verdict["of"]})'
        )
    findings.add(CLAIM_FILE, claim_problems, "the stated result equals the recomputed one")
    state["metrics"] = scored
    state["verdict"] = verdict
    return state


def metric_json(m: dict) -> dict:
    out = {"id": m["id"], "kind": m["kind"], "value": m["value"], "tau": m.get("tau"), "flagged": m.get("flagged"), "votes": m["votes"]}
    if m.get("combined") is False:
        out["combined"] = False
    if "degenerate" in m:
        out["degenerate"] = m["degenerate"]
    if m.get("reason"):
        out["reason"] = m["reason"]
    if "stated" in m:
        out["stated"] = m["stated"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Recompute an Ownership Audit evidence bundle's verdict from its answers alone.")
    ap.add_argument("bundle", help="the folder written by `ownership-audit verify --evidence DIR`")
    ap.add_argument("--root-hash", help="the root hash the bundle author published: manifest.json must hash to it")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.bundle):
        sys.stderr.write(f"{args.bundle}: not a folder\n")
        return 1
    root = os.path.abspath(args.bundle)
    state = {"rootHash": None, "files": 0, "findings": Findings()}
    error = None
    try:
        state = run_check(root, args.root_hash)
    except Mismatch as e:
        error = str(e)
    findings = state["findings"]
    problems = findings.problems + ([error] if error else [])
    ok = not problems
    if args.json:
        out = {"ok": ok, "rootHash": state["rootHash"], "files": state["files"], "checks": findings.checks}
        if "metrics" in state:
            out["metrics"] = [metric_json(m) for m in state["metrics"]]
            out["verdict"] = state["verdict"]
        if not ok:
            out["problems"] = problems
        sys.stdout.write(json.dumps(out, allow_nan=False) + "\n")
    else:
        for c in findings.checks:
            sys.stdout.write(f'check {c["name"]}: {"ok" if c["ok"] else "FAILED"} ({c["detail"]})\n')
        for m in state.get("metrics", []):
            tau = "" if m.get("tau") is None else f' tau {m["tau"]:.6g}{" (degenerate)" if m.get("degenerate") else ""}'
            flag = "" if m.get("flagged") is None else (" FLAGGED" if m["flagged"] else " not flagged")
            value = "n/a (" + str(m.get("reason")) + ")" if m["value"] is None else f'{m["value"]:.6g}'
            outside = " (not in the combined vote)" if m.get("combined") is False else ""
            sys.stdout.write(f'{m["id"]}: {value}{tau}{flag}{outside}\n')
        if "verdict" in state:
            v = state["verdict"]
            word = "insufficient evidence" if v["insufficientEvidence"] else ("DERIVED" if v["derived"] else "not derived")
            sys.stdout.write(f'verdict: {word} ({v["votes"]}/{v["of"]} metrics, rule {v["rule"]})\n')
        if state["rootHash"]:
            sys.stdout.write(f'root hash {state["rootHash"]}\n')
        if not ok:
            sys.stderr.write("The evidence does not check:\n" + "".join(f"  {p}\n" for p in problems))
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
