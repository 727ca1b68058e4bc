#!/usr/bin/env python3
"""Rebuild an OKX `books` book from the simulator's pushes (wsprobe
output, one frame a line) and compare it with the truth after every push.

  check_okx.py stream FRAMES INST TRUTH [--gaps N] [--window W]
      [--rest REST] [--heartbeats N] [--resets N] [--checksums]
The stream starts with a snapshot push (prevSeqId -1), or with --rest
(the snapshot-less channel of EXCHANGES.md §4.6) is bootstrapped from the
REST body's seqId: updates with seqId <= S dropped, the first applied has
prevSeqId <= S < seqId. Then every update chains, prevSeqId == previous
seqId (a heartbeat has seqId == prevSeqId and no levels; a reset has
seqId < prevSeqId); anything else is a gap, counted and re-seeded from
the truth. After every push the best W levels a side (400) equal the
truth's. With --checksums every push's non-zero CRC32 must match.
The sim's seqIds map back to its update ids: seq % 8 == 1: (seq-1)/8,
seq % 8 == 5: (seq-5)/8 + 10^10 (after --seq-reset).
"""
import argparse
import json
import os
import sys
import zlib
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_truth import Truth  # noqa: E402


def seq_id(seq):
    if seq % 8 == 1:
        return (seq - 1) // 8
    if seq % 8 == 5:
        return (seq - 5) // 8 + 10 ** 10
    sys.exit("seqId %d is not the sim's" % seq)


def top(book, w):
    return {"bid": dict(sorted(book["bid"].items(), reverse=True)[:w]),
            "ask": dict(sorted(book["ask"].items())[:w])}


def plain(book):
    return {s: {p: Decimal(v[1]) for p, v in lv.items()}
            for s, lv in book.items()}


def apply(book, d, w):
    for key, side in (("bids", "bid"), ("asks", "ask")):
        for lv in d[key]:
            px = Decimal(lv[0])
            if Decimal(lv[1]) == 0:
                book[side].pop(px, None)
            else:
                book[side][px] = (lv[0], lv[1])
    for side, rev in (("bid", True), ("ask", False)):
        keep = sorted(book[side], reverse=rev)[:w]
        book[side] = {p: book[side][p] for p in keep}


def crc(book):
    b = sorted(book["bid"].items(), reverse=True)[:25]
    a = sorted(book["ask"].items())[:25]
    parts = []
    for i in range(25):
        if i < len(b):
            parts += list(b[i][1])
        if i < len(a):
            parts += list(a[i][1])
    c = zlib.crc32(":".join(parts).encode())
    return c - 2 ** 32 if c >= 2 ** 31 else c


def pushes(path, inst):
    out = []
    with open(path) as f:
        for line in f:
            if not line.startswith('{"arg"'):
                continue
            m = json.loads(line)
            if m["arg"] != {"channel": "books", "instId": inst}:
                continue
            if len(m["data"]) != 1:
                sys.exit("data with %d elements" % len(m["data"]))
            d = m["data"][0]
            for k in ("ts", "checksum", "prevSeqId", "seqId"):
                if k not in d:
                    sys.exit("push without %s" % k)
            for lv in d["bids"] + d["asks"]:
                if len(lv) != 4 or lv[2] != "0":
                    sys.exit("level %r" % lv)
            out.append((m["action"], d))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["stream"])
    ap.add_argument("frames")
    ap.add_argument("inst")
    ap.add_argument("truth")
    ap.add_argument("--gaps", type=int, default=0)
    ap.add_argument("--window", type=int, default=400)
    ap.add_argument("--rest")
    ap.add_argument("--heartbeats", type=int, default=-1)
    ap.add_argument("--resets", type=int, default=-1)
    ap.add_argument("--checksums", action="store_true")
    a = ap.parse_args()
    truth = Truth(a.truth)
    book, last, applied = None, None, 0
    gaps = hbs = resets = cks = 0
    rest_seq = None
    if a.rest:
        with open(a.rest) as f:
            r = json.load(f)["data"][0]
        book = {"bid": {}, "ask": {}}
        apply(book, r, a.window)
        rest_seq = r["seqId"]
    for action, d in pushes(a.frames, a.inst):
        if action == "snapshot":
            if a.rest:
                sys.exit("a snapshot push in snapshot-less mode")
            if d["prevSeqId"] != -1:
                sys.exit("snapshot with prevSeqId %d" % d["prevSeqId"])
            book = {"bid": {}, "ask": {}}
            apply(book, d, a.window)
        elif book is None:
            sys.exit("an update before the snapshot")
        elif last is None and rest_seq is not None:
            if seq_id(d["seqId"]) <= seq_id(rest_seq):
                continue
            if not seq_id(d["prevSeqId"]) <= seq_id(rest_seq):
                sys.exit("first update %d..%d does not bridge %d" % (
                    d["prevSeqId"], d["seqId"], rest_seq))
            apply(book, d, a.window)
        else:
            if d["prevSeqId"] != last:
                gaps += 1
                book = {s: {p: (str(p), str(v)) for p, v in lv.items()}
                        for s, lv in truth.at(seq_id(d["seqId"])).items()}
                apply(book, {"bids": [], "asks": []}, a.window)
                last = d["seqId"]
                continue
            if d["seqId"] == d["prevSeqId"]:
                if d["bids"] or d["asks"]:
                    sys.exit("heartbeat with levels")
                hbs += 1
            elif d["seqId"] < d["prevSeqId"]:
                resets += 1
            apply(book, d, a.window)
        last = d["seqId"]
        applied += 1
        if a.checksums:
            if d["checksum"] == 0:
                sys.exit("checksum 0 in legacy mode")
            if d["checksum"] != crc(book):
                sys.exit("checksum %d, book gives %d" % (d["checksum"],
                                                          crc(book)))
            cks += 1
        elif d["checksum"] != 0:
            sys.exit("checksum %d, want 0 (deprecated)" % d["checksum"])
        want = top(truth.at(seq_id(d["seqId"])), a.window)
        if plain(book) != want:
            sys.exit("book after seqId %d differs from the truth" % last)
    if applied < 3:
        sys.exit("only %d pushes applied" % applied)
    if gaps != a.gaps:
        sys.exit("%d gaps, want %d" % (gaps, a.gaps))
    if a.heartbeats >= 0 and hbs < a.heartbeats:
        sys.exit("%d heartbeats, want >= %d" % (hbs, a.heartbeats))
    if a.resets >= 0 and resets != a.resets:
        sys.exit("%d resets, want %d" % (resets, a.resets))
    print("%s: %d pushes applied, %d gaps, %d heartbeats, %d resets, "
          "%d checksums, book equals the truth" % (
              a.inst, applied, gaps, hbs, resets, cks))


if __name__ == "__main__":
    main()
