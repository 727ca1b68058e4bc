#!/usr/bin/env python3
"""Rebuild a Gate.io book from captured frames and compare it with the
simulator's truth file after every applied push.

Frames come from wsprobe (one frame per line, '#' lines are events).
With --snapshot, the documented REST sync for spot.order_book_update is
used (drop u < id+1, first applied push has U <= id+1 <= u, then
U == prev_u + 1); without it the stream must start with a full push
(spot.obu, or the first full push of spot.order_book_update).

A gap (U > prev_u + 1) is counted, then the book is re-seeded from the
truth at U-1 so the rest of the stream is still checked; --gaps N says how
many gaps to expect (default 0). Exit 0 when everything matched.
"""
import argparse
import csv
import json
import sys
from decimal import Decimal


class Truth:
    """The truth CSV replayed forward: the true book at any update id."""

    def __init__(self, path):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        if rows[0] != ["update_id", "side", "price", "amount"]:
            sys.exit("truth: bad header %r" % rows[0])
        self.rows = [(int(r[0]), r[1], Decimal(r[2]), Decimal(r[3]))
                     for r in rows[1:]]
        for a, b in zip(self.rows, self.rows[1:]):
            if b[0] != a[0] + 1:
                sys.exit("truth: ids not contiguous at %d" % b[0])
        self.pos = 0
        self.book = {"bid": {}, "ask": {}}
        self.id = self.rows[0][0] - 1

    def at(self, uid):
        if uid < self.id:
            raise ValueError("truth asked to go back to %d" % uid)
        while self.pos < len(self.rows) and self.rows[self.pos][0] <= uid:
            _, side, px, amt = self.rows[self.pos]
            if amt == 0:
                self.book[side].pop(px, None)
            else:
                self.book[side][px] = amt
            self.pos += 1
        if self.rows[self.pos - 1][0] < uid:
            raise ValueError("truth ends before id %d" % uid)
        self.id = uid
        return self.book


def levels(arr):
    return {Decimal(p): Decimal(a) for p, a in arr}


def apply(book, res):
    for side, key in (("bid", "b"), ("ask", "a")):
        for px, amt in levels(res.get(key, [])).items():
            if amt == 0:
                book[side].pop(px, None)
            else:
                book[side][px] = amt


def load_frames(path, channel, pair):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            msg = json.loads(line)
            if msg.get("channel") != channel or "result" not in msg:
                continue
            res = msg["result"]
            if not isinstance(res, dict) or "u" not in res:
                continue
            s = res.get("s", "")
            if s != pair and s.split(".")[1:2] != [pair]:
                continue
            out.append(res)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", help="without it: only contiguity and "
                    "uncrossed checks (real captures)")
    ap.add_argument("--frames", required=True)
    ap.add_argument("--pair", required=True)
    ap.add_argument("--channel", default="spot.order_book_update")
    ap.add_argument("--snapshot")
    ap.add_argument("--gaps", type=int, default=0)
    ap.add_argument("--stale", type=int, help="expected stale pushes")
    ap.add_argument("--gap-size", type=int, help="ids each gap skips")
    ap.add_argument("--min-applied", type=int, default=5)
    a = ap.parse_args()

    truth = Truth(a.truth) if a.truth else None
    frames = load_frames(a.frames, a.channel, a.pair)
    book = None
    local = None
    if a.snapshot:
        snap = json.load(open(a.snapshot))
        book = {"bid": levels(snap["bids"]), "ask": levels(snap["asks"])}
        local = snap["id"]
        if truth and book != truth.at(local):
            sys.exit("snapshot %d differs from the truth" % local)
    applied = gaps = stale = fulls = 0
    synced = False
    for res in frames:
        U, u = res.get("U", res["u"]), res["u"]
        if local is not None and u < local + 1:
            stale += 1
            continue
        if res.get("full"):
            book = {"bid": levels(res["b"]), "ask": levels(res["a"])}
            local = u
            synced = True
            fulls += 1
        elif book is None:
            continue
        elif not synced:
            if not (U <= local + 1 <= u):
                sys.exit("first push U=%d u=%d does not bridge id %d"
                         % (U, u, local))
            apply(book, res)
            local = u
            synced = True
        else:
            if U != local + 1:
                gaps += 1
                print("gap: expected U=%d got U=%d" % (local + 1, U))
                if a.gap_size is not None and U - local - 1 != a.gap_size:
                    sys.exit("gap of %d ids, expected %d"
                             % (U - local - 1, a.gap_size))
                if not truth:
                    sys.exit("gap in a stream without truth")
                tb = truth.at(U - 1)
                book = {"bid": dict(tb["bid"]), "ask": dict(tb["ask"])}
            apply(book, res)
            local = u
        tb = truth.at(local) if truth else book
        if book != tb:
            diff = {s: sorted(set(book[s].items()) ^ set(tb[s].items()))
                    for s in ("bid", "ask")}
            sys.exit("book differs from truth at %d: %s" % (local, diff))
        if book["bid"] and book["ask"] and \
                max(book["bid"]) >= min(book["ask"]):
            sys.exit("crossed book at %d" % local)
        applied += 1
    print("pair %s: %d frames, %d applied, %d full, %d stale, %d gaps, "
          "last id %s" % (a.pair, len(frames), applied, fulls, stale, gaps,
                          local))
    if applied < a.min_applied:
        sys.exit("too few pushes applied (%d)" % applied)
    if gaps != a.gaps:
        sys.exit("expected %d gaps, saw %d" % (a.gaps, gaps))
    if a.stale is not None and stale != a.stale:
        sys.exit("expected %d stale pushes, saw %d" % (a.stale, stale))


if __name__ == "__main__":
    main()
