#!/usr/bin/env python3
"""Decode the simulator's MEXC protobuf pushes (wsprobe --binary-hex
lines) and check them against the truth file.

  check_mexc.py decode HEX            print one push as JSON
  check_mexc.py snapshot REST TRUTH   the REST body equals the truth at
                                      its lastUpdateId (every level)
  check_mexc.py stream FRAMES SYMBOL REST TRUTH [--gaps N] [--speed S]
      the pushes of SYMBOL are well-formed, contiguous (from == prev_to
      + 1, except N gaps), and the book rebuilt per EXCHANGES.md §2.6
      (snapshot V, drop to <= V, first push from <= V+1 <= to) equals
      the truth after every push.
Exit 0 when everything matched.
"""
import json
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_truth import Truth  # noqa: E402

PREFIX = "spot@public.aggre.depth.v3.api.pb@"


def varint(b, i):
    x = shift = 0
    while True:
        if i >= len(b) or shift > 63:
            raise ValueError("bad varint")
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return x, i


def fields(b):
    i, out = 0, []
    while i < len(b):
        tag, i = varint(b, i)
        num, wt = tag >> 3, tag & 7
        if num == 0:
            raise ValueError("field 0")
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            if i + n > len(b):
                raise ValueError("length past the end")
            v, i = b[i:i + n], i + n
        elif wt in (1, 5):
            n = 8 if wt == 1 else 4
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, v))
    return out


def decode(hexs):
    """A PushDataV3ApiWrapper with body 313 as a dict."""
    w = {"asks": [], "bids": []}
    for num, v in fields(bytes.fromhex(hexs)):
        if num == 1:
            w["channel"] = v.decode()
        elif num == 3:
            w["symbol"] = v.decode()
        elif num == 6:
            w["sendTime"] = v
        elif num == 313:
            for m, x in fields(v):
                if m in (1, 2):
                    it = dict(fields(x))
                    side = "asks" if m == 1 else "bids"
                    w[side].append((it[1].decode(), it[2].decode()))
                elif m == 3:
                    w["eventType"] = x.decode()
                elif m == 4:
                    w["fromVersion"] = int(x.decode())
                elif m == 5:
                    w["toVersion"] = int(x.decode())
                elif m == 6:
                    w["lastOrderCreateTime"] = x
    return w


def load_rest(path):
    with open(path) as f:
        body = json.load(f)
    book = {"bid": {Decimal(p): Decimal(a) for p, a in body["bids"]},
            "ask": {Decimal(p): Decimal(a) for p, a in body["asks"]}}
    return int(body["lastUpdateId"]), book


def same(a, b):
    return a["bid"] == b["bid"] and a["ask"] == b["ask"]


def cmd_snapshot(rest, truth):
    uid, book = load_rest(rest)
    if not same(book, Truth(truth).at(uid)):
        sys.exit("snapshot at %d differs from the truth" % uid)
    print("snapshot at %d equals the truth (%d bids, %d asks)"
          % (uid, len(book["bid"]), len(book["ask"])))


def pushes(path, symbol, speed):
    out = []
    with open(path) as f:
        for line in f:
            if not line.startswith("#binary "):
                continue
            w = decode(line.split()[1])
            if w.get("symbol") != symbol:
                continue
            want = PREFIX + speed + "@" + symbol
            if w.get("channel") != want:
                sys.exit("channel %r, want %r" % (w.get("channel"), want))
            if w.get("eventType") != PREFIX + speed:
                sys.exit("eventType %r" % w.get("eventType"))
            if not 1.7e12 < w.get("sendTime", 0) < 4e12:
                sys.exit("sendTime %r" % w.get("sendTime"))
            if w["fromVersion"] > w["toVersion"]:
                sys.exit("fromVersion > toVersion")
            out.append(w)
    return out


def apply(book, w):
    for key, side in (("bids", "bid"), ("asks", "ask")):
        for px, amt in w[key]:
            px, amt = Decimal(px), Decimal(amt)
            if amt == 0:
                book[side].pop(px, None)
            else:
                book[side][px] = amt


def cmd_stream(frames, symbol, rest, truth_path, gaps_want, speed):
    ws = pushes(frames, symbol, speed)
    v, book = load_rest(rest)
    truth = Truth(truth_path)
    prev, applied, gaps = None, 0, 0
    for w in ws:
        if prev is not None and w["fromVersion"] != prev + 1:
            gaps += 1
        prev = w["toVersion"]
        if w["toVersion"] <= v:
            continue
        if applied == 0 and not w["fromVersion"] <= v + 1 <= w["toVersion"]:
            sys.exit("first push %d..%d does not bridge %d"
                     % (w["fromVersion"], w["toVersion"], v))
        if applied > 0 and w["fromVersion"] != last + 1:
            # A gap: re-seed from the truth, as a resync would.
            book = {s: dict(lv) for s, lv in truth.at(w["fromVersion"] - 1)
                    .items()}
        apply(book, w)
        last = w["toVersion"]
        applied += 1
        if not same(book, truth.at(last)):
            sys.exit("book after %d..%d differs from the truth"
                     % (w["fromVersion"], last))
    if applied < 3:
        sys.exit("only %d pushes applied after the snapshot" % applied)
    if gaps != gaps_want:
        sys.exit("%d gaps, want %d" % (gaps, gaps_want))
    print("%s: %d pushes, %d applied, %d gaps, book equals the truth"
          % (symbol, len(ws), applied, gaps))


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "decode":
        print(json.dumps(decode(a[1])))
    elif len(a) == 3 and a[0] == "snapshot":
        cmd_snapshot(a[1], a[2])
    elif len(a) >= 5 and a[0] == "stream":
        opts = dict(zip(a[5::2], a[6::2]))
        cmd_stream(a[1], a[2], a[3], a[4], int(opts.get("--gaps", 0)),
                   opts.get("--speed", "100ms"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
