#!/usr/bin/env python3
"""Check what booktape-recorder wrote against the simulator's truth.

For each pair, the incremental_book_L2 files of every hour are replayed in
order: a run of is_snapshot=true rows replaces the book, other rows set a
level's absolute amount (0 deletes). book_events (recorded with
update_events: true) gives, for each receive time, the last update id the
rows of that time bring the book to; after each such group the rebuilt
book must equal the truth at that id. The files must also be whole: one
header, every line complete, every hourly L2 file opening with a snapshot
block.

With --window W the book is a window stream's: after each message the
rebuilt book keeps its best W levels per side (the reader's rule, see the
README) and is compared with the truth's best W. With --exact K (a
whole-book stream such as MEXC's, where the recorder guarantees the best
depth_limit/2 levels) nothing is trimmed and only the best K levels a
side are compared. With --top-n N the book_snapshot_N rows are checked too: each must equal the truth's best N
at the update its local_timestamp names, and carry the exchange time of
that update's rows. With --okx-seq the ids in book_events are the
simulator's OKX seqIds, mapped back to its update ids (tests/sim/sim_okx.c).

With --continuous-ids the update ids in book_events must follow each
other: every `update` row starts at the previous row's last id + 1, with
two exceptions, the first update after a `rollover` row or a REST
`snapshot` row, which may overlap (U <= last+1 <= u); a rollover row's
id must be the last one applied; snapshot and full_refresh rows set a new base; gap, resync
and disconnect rows are failures (until the recorder's shutdown row).

With --final STREAM (a booktape-sim --flood run; tests/sim/sim_flood.c)
only the end is checked, fast enough for millions of rows: the book
rebuilt from every row must equal TRUTH_DIR/<SYMBOL>.final.csv, and the
diff rows (is_snapshot=false) must be exactly the levels the flood pushed
(the `levels` of SYMBOL's STREAM row in TRUTH_DIR/tapes.csv): every
pushed level written once. Diffs buffered while a REST snapshot was
awaited are applied to it and written inside its snapshot block: the
`snapshot` row of book_events names the ids they covered, and their
levels (5 ids a push from the snapshot's id, collapsed per level, as the
simulator pushed them; TRUTH_DIR/<SYMBOL>.truth.csv) are not expected as
diff rows.

usage: recorder_check.py DATA_DIR TRUTH_DIR EXCHANGE SYMBOL... [--min-checks N]
       [--expect-events gap,resync] [--forbid-events gap] [--allow-crossed]
       [--no-truth] [--window W] [--top-n N] [--okx-seq] [--final STREAM]
Prints a summary line per symbol; exit 0 when everything matched.
"""
import argparse
import csv
import glob
import os
import sys
from decimal import Decimal

L2_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp",
             "is_snapshot", "side", "price", "amount"]
EV_HEADER = ["local_timestamp", "event", "first_update_id", "last_update_id",
             "expected_update_id", "detail"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def read_csv(path, header):
    with open(path, newline="") as f:
        data = f.read()
    if data and not data.endswith("\n"):
        fail("%s: last line is not complete" % path)
    rows = list(csv.reader(data.splitlines()))
    if not rows or rows[0] != header:
        fail("%s: bad header %r" % (path, rows[0] if rows else None))
    for i, r in enumerate(rows[1:], 2):
        if len(r) != len(header):
            fail("%s:%d: %d fields" % (path, i, len(r)))
        if r[0] == header[0]:
            fail("%s:%d: a second header" % (path, i))
    return rows[1:]


def hour_files(data, exchange, symbol, dataset):
    pat = os.path.join(data, "live", exchange, "*", "*",
                       "%s.%s.csv" % (symbol, dataset))
    return sorted(glob.glob(pat))


def top(book, w):
    """The best w levels of each side (all of them when w is 0)."""
    if not w:
        return book
    bids = sorted(book["bid"], reverse=True)[:w]
    asks = sorted(book["ask"])[:w]
    return {"bid": {p: book["bid"][p] for p in bids},
            "ask": {p: book["ask"][p] for p in asks}}


def trim(book, w):
    if w:
        t = top(book, w)
        book["bid"], book["ask"] = t["bid"], t["ask"]


class Truth:
    def __init__(self, path):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        self.rows = [(int(r[0]), r[1], Decimal(r[2]), Decimal(r[3]))
                     for r in rows[1:] if len(r) == 4]
        self.pos = 0
        self.book = {"bid": {}, "ask": {}}
        self.id = self.rows[0][0] - 1 if self.rows else 0

    def at(self, uid):
        if uid < self.id:
            fail("truth asked to go back from %d to %d" % (self.id, uid))
        while self.pos < len(self.rows) and self.rows[self.pos][0] <= uid:
            _, side, px, amt = self.rows[self.pos]
            if amt == 0:
                self.book[side].pop(px, None)
            else:
                self.book[side][px] = amt
            self.pos += 1
        if self.pos == 0 or self.rows[self.pos - 1][0] < uid:
            return None  # the truth file was cut before this id
        self.id = uid
        return self.book


def book_diff(got, want):
    """The levels where two books differ, as text."""
    diff = []
    for side in ("bid", "ask"):
        for px in sorted(set(got[side]) | set(want[side])):
            if got[side].get(px) != want[side].get(px):
                diff.append("%s %s: recorded %s, truth %s" % (
                    side, px, got[side].get(px), want[side].get(px)))
    return diff


def okx_seq_id(seq):
    """The simulator's OKX seqId back to its update id (sim_okx.c)."""
    if seq % 8 == 1:
        return (seq - 1) // 8
    if seq % 8 == 5:
        return (seq - 5) // 8 + 10 ** 10
    fail("seqId %d is not the simulator's" % seq)


def check_symbol(args, symbol):
    l2_files = hour_files(args.data, args.exchange, symbol,
                          "incremental_book_L2")
    ev_files = hour_files(args.data, args.exchange, symbol, "book_events")
    if not l2_files:
        fail("%s: no incremental_book_L2 file" % symbol)
    ids = {}
    events = []
    ev_rows = []
    for p in ev_files:
        for r in read_csv(p, EV_HEADER):
            events.append(r[1])
            ev_rows.append((r[1], r[2], r[3]))
            if r[3] and r[1] in ("update", "snapshot", "full_refresh"):
                ts = int(r[0])
                uid = int(r[3])
                if args.okx_seq:
                    uid = okx_seq_id(uid)
                ids[ts] = max(ids.get(ts, 0), uid)
    truth = None
    if not args.no_truth:
        truth = Truth(os.path.join(args.truth, symbol + ".truth.csv"))
    book = {"bid": {}, "ask": {}}
    checks = 0
    torn = 0
    prev_snap = False
    for p in l2_files:
        rows = read_csv(p, L2_HEADER)
        if rows and rows[0][4] != "true":
            fail("%s: does not open with a snapshot block" % p)
        i = 0
        while i < len(rows):
            ts = rows[i][3]
            while i < len(rows) and rows[i][3] == ts:
                r = rows[i]
                if r[0] != args.exchange or r[1] != symbol:
                    fail("%s: row for %s/%s" % (p, r[0], r[1]))
                snap = r[4] == "true"
                if snap and not prev_snap:
                    book = {"bid": {}, "ask": {}}
                prev_snap = snap
                px, amt = Decimal(r[6]), Decimal(r[7])
                if amt == 0:
                    book[r[5]].pop(px, None)
                else:
                    book[r[5]][px] = amt
                i += 1
            trim(book, args.window)
            uid = ids.get(int(ts))
            if uid is None:
                continue
            want = truth.at(uid) if truth else book
            if want is not None:
                want = top(want, args.window or args.exact)
            if want is None:
                continue
            got = top(book, args.exact) if args.exact else book
            if got != want and args.crash_tolerant and i < len(rows) \
                    and rows[i][4] == "true":
                # A kill can leave part of a message's rows on disk; the
                # snapshot block written after the restart repairs it.
                torn += 1
                continue
            if got != want:
                fail("%s at update %d (local %s): book differs from truth: "
                     "%s" % (symbol, uid, ts,
                             "; ".join(book_diff(got, want)[:5])))
            if not args.allow_crossed and book["bid"] and book["ask"] and \
                    max(book["bid"]) >= min(book["ask"]):
                fail("%s at update %d: crossed book" % (symbol, uid))
            checks += 1
    if checks < args.min_checks:
        fail("%s: only %d points checked (want >= %d)" % (
            symbol, checks, args.min_checks))
    top_checks = 0
    if args.top_n:
        top_checks = check_top_n(args, symbol, ids, l2_times(l2_files))
    for ev in args.forbid_events:
        if ev in events:
            fail("%s: unexpected '%s' event in book_events" % (symbol, ev))
    for ev in args.expect_events:
        if ev not in events:
            fail("%s: no '%s' event in book_events" % (symbol, ev))
    if args.continuous_ids:
        n = check_continuous(symbol, ev_rows)
        if n < args.min_rollovers:
            fail("%s: %d rollovers (want >= %d)" % (symbol, n,
                                                    args.min_rollovers))
    print("ok: %s: %d points checked against %s (%d torn before a snapshot block), "
          "%d book_snapshot_%d rows, events: %s" % (
              symbol, checks, "the truth" if truth else "themselves", torn,
              top_checks, args.top_n, ",".join(sorted(set(events)))))


def check_continuous(symbol, rows):
    """rows: (event, first, last) of book_events in order. Returns the
    number of rollover rows seen."""
    prev = None
    bridge = False
    rollovers = 0
    for i, (ev, first, last) in enumerate(rows):
        where = "%s: book_events row %d (%s %s..%s)" % (symbol, i + 1, ev,
                                                        first, last)
        if ev == "shutdown":
            break  # the recorder stopping: its closes are no hole
        if ev in ("gap", "resync", "disconnect", "dropped"):
            fail("%s: a hole in the ids" % where)
        if ev in ("snapshot", "full_refresh"):
            prev = int(last)
            # The first diff on a REST snapshot may overlap it too.
            bridge = ev == "snapshot"
        elif ev == "rollover":
            if prev is None or int(last) != prev:
                fail("%s: switch id is not the last applied (%s)" % (
                    where, prev))
            bridge = True
            rollovers += 1
        elif ev == "update":
            f, l = int(first), int(last)
            if prev is None:
                fail("%s: an update before any snapshot" % where)
            if bridge:
                if not f <= prev + 1 <= l:
                    fail("%s: does not bridge %d" % (where, prev))
            elif f != prev + 1:
                fail("%s: expected first id %d" % (where, prev + 1))
            prev = l
            bridge = False
    return rollovers


def l2_times(l2_files):
    """local_timestamp -> exchange timestamp of the diff rows at it."""
    times = {}
    for p in l2_files:
        for r in read_csv(p, L2_HEADER):
            if r[4] == "false":
                times[int(r[3])] = r[2]
    return times


def check_top_n(args, symbol, ids, times):
    n = args.top_n
    header = ["exchange", "symbol", "timestamp", "local_timestamp"]
    for i in range(n):
        header += ["asks[%d].price" % i, "asks[%d].amount" % i,
                   "bids[%d].price" % i, "bids[%d].amount" % i]
    files = hour_files(args.data, args.exchange, symbol, "book_snapshot_%d" % n)
    if not files:
        fail("%s: no book_snapshot_%d file" % (symbol, n))
    truth = Truth(os.path.join(args.truth, symbol + ".truth.csv"))
    checks = 0
    last = {}  # messages received in the same µs: the last row counts
    for p in files:
        for r in read_csv(p, header):
            last[int(r[3])] = r
    for lts in sorted(last):
        r = last[lts]
        uid = ids.get(lts)
        if uid is None:
            continue
        if lts in times and r[2] != times[lts]:
            fail("%s: book_snapshot_%d at local %d has timestamp %s, "
                 "the update's rows %s" % (symbol, n, lts, r[2],
                                           times[lts]))
        want = truth.at(uid)
        if want is None:
            continue
        # Beyond the stream's window nothing is known: empty fields.
        deep = args.window or args.exact
        want = top(want, min(n, deep) if deep else n)
        asks = sorted(want["ask"])
        bids = sorted(want["bid"], reverse=True)
        for i in range(n):
            exp = []
            for lv, side in ((asks, "ask"), (bids, "bid")):
                if i < len(lv):
                    exp += [lv[i], want[side][lv[i]]]
                else:
                    exp += [None, None]
            got = [Decimal(x) if x else None
                   for x in r[4 + 4 * i:8 + 4 * i]]
            if got != exp:
                fail("%s: book_snapshot_%d at update %d level %d: "
                     "recorded %s, truth %s" % (symbol, n, uid, i,
                                                got, exp))
        checks += 1
    if checks < args.min_checks:
        fail("%s: only %d book_snapshot_%d rows checked (want >= %d)" % (
            symbol, checks, n, args.min_checks))
    return checks


def is_zero(amount):
    return amount.strip("0.") == ""


def folded_levels(args, symbol):
    """Levels of the flood pushes a REST snapshot block absorbed."""
    spans = []
    for p in hour_files(args.data, args.exchange, symbol, "book_events"):
        for r in read_csv(p, EV_HEADER):
            if r[1] == "snapshot" and r[2] and r[3]:
                spans.append((int(r[2]), int(r[3])))
            elif r[1] in ("gap", "resync"):
                fail("%s: a %s during the flood" % (symbol, r[1]))
    if not spans:
        return 0
    if len(spans) > 1:
        fail("%s: %d REST snapshots during the flood" % (symbol, len(spans)))
    first, last = spans[0]
    groups = {}
    with open(os.path.join(args.truth, symbol + ".truth.csv"),
              newline="") as f:
        for r in csv.reader(f):
            if not r[0].isdigit() or int(r[0]) <= first:
                continue
            if int(r[0]) > last:
                break
            groups.setdefault((int(r[0]) - first - 1) // 5, set()).add(
                (r[1], r[2]))
    return sum(len(g) for g in groups.values())


def check_final(args, symbol):
    """The rebuilt end of a flood against the simulator's final book."""
    l2_files = hour_files(args.data, args.exchange, symbol,
                          "incremental_book_L2")
    if not l2_files:
        fail("%s: no incremental_book_L2 file" % symbol)
    book = {"bid": {}, "ask": {}}
    diffs = 0
    prev_snap = False
    for p in l2_files:
        with open(p, newline="") as f:
            rows = csv.reader(f)
            if next(rows, None) != L2_HEADER:
                fail("%s: bad header" % p)
            for r in rows:
                snap = r[4] == "true"
                if snap and not prev_snap:
                    book = {"bid": {}, "ask": {}}
                prev_snap = snap
                if not snap:
                    diffs += 1
                if is_zero(r[7]):
                    book[r[5]].pop(r[6], None)
                else:
                    book[r[5]][r[6]] = r[7]
    want = {"bid": {}, "ask": {}}
    with open(os.path.join(args.truth, symbol + ".final.csv"),
              newline="") as f:
        for r in list(csv.reader(f))[1:]:
            want[r[0]][Decimal(r[1])] = Decimal(r[2])
    got = {side: {Decimal(p): Decimal(a) for p, a in book[side].items()}
           for side in book}
    got, want = top(got, args.exact), top(want, args.exact)
    if got != want:
        diff = book_diff(got, want)
        fail("%s: final book differs from the truth (%d levels): %s" % (
            symbol, len(diff), "; ".join(diff[:5])))
    pushed = None
    with open(os.path.join(args.truth, "tapes.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if r["pair"] == symbol and r["stream"] == args.final:
                pushed = int(r["levels"])
    if pushed is None:
        fail("%s: no %s tape in tapes.csv" % (symbol, args.final))
    folded = folded_levels(args, symbol)
    if diffs != pushed - folded:
        fail("%s: %d diff rows, the flood pushed %d levels (%d of them "
             "into the snapshot block)" % (symbol, diffs, pushed, folded))
    print("ok: %s: final book equals the truth (%d levels), %d diff rows = "
          "levels pushed (%d more in the snapshot block)" % (
              symbol, len(want["bid"]) + len(want["ask"]), diffs, folded))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("truth")
    ap.add_argument("exchange")
    ap.add_argument("symbols", nargs="+")
    ap.add_argument("--min-checks", type=int, default=1)
    ap.add_argument("--expect-events", default="",
                    type=lambda s: [x for x in s.split(",") if x])
    ap.add_argument("--allow-crossed", action="store_true")
    ap.add_argument("--window", type=int, default=0,
                    help="levels per side the stream maintains")
    ap.add_argument("--exact", type=int, default=0,
                    help="a whole-book stream: compare only the best N "
                    "levels a side (no trim)")
    ap.add_argument("--top-n", type=int, default=0,
                    help="check book_snapshot_N rows against the truth")
    ap.add_argument("--crash-tolerant", action="store_true",
                    help="a message may be torn just before a snapshot "
                    "block that follows a kill or a write error")
    ap.add_argument("--okx-seq", action="store_true",
                    help="event ids are the simulator's OKX seqIds")
    ap.add_argument("--no-truth", action="store_true",
                    help="no truth file: check wholeness and crossing only")
    ap.add_argument("--forbid-events", default="",
                    type=lambda s: [x for x in s.split(",") if x])
    ap.add_argument("--continuous-ids", action="store_true",
                    help="update ids continuous in book_events, overlap "
                    "allowed only right after a rollover")
    ap.add_argument("--min-rollovers", type=int, default=0,
                    help="with --continuous-ids: rollover rows wanted")
    ap.add_argument("--final", default="",
                    help="a flood: check the final book and the diff rows "
                    "against the simulator's STREAM tape")
    args = ap.parse_args()
    for s in args.symbols:
        if args.final:
            check_final(args, s)
        else:
            check_symbol(args, s)


if __name__ == "__main__":
    main()
