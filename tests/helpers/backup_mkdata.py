#!/usr/bin/env python3
"""Make recorder-shaped hourly CSVs and seal them the way booktape-rotate
does (GNU tar + sha256sum, MANIFEST.csv at the archive root), for the
backup tests. Independent of our C code on purpose.

usage: backup_mkdata.py --data-dir D --exchange gateio --start 2026-11-20T00
         --hours 3 [--symbols BTC_USDT,ETH_USDT] [--rows 200]
         [--pad-bytes N] [--originals DIR] [--keep-live]
"""
import argparse
import datetime as dt
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile

HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"


def make_csv(path, exchange, symbol, hour_us, rows, pad, rnd):
    first = last = None
    lines = [HEADER]
    ts = hour_us
    for i in range(rows):
        ts += rnd.randint(1, 3_000_000 // max(rows, 1) + 1)
        if ts >= hour_us + 3600 * 10**6:
            ts = hour_us + 3600 * 10**6 - 1
        first = ts if first is None else first
        last = ts
        side = "bid" if i % 2 else "ask"
        price = "%d.%04d" % (rnd.randint(100, 99999), rnd.randint(0, 9999))
        amount = "%d.%06d" % (rnd.randint(0, 50), rnd.randint(0, 999999))
        lines.append("%s,%s,%d,%d,%s,%s,%s,%s\n" % (
            exchange, symbol, ts - 1000, ts, "true" if i < 4 else "false",
            side, price, amount))
    data = "".join(lines).encode()
    if pad:
        # Incompressible rows so archives have a predictable size.
        blob = os.urandom(pad // 2).hex()
        extra = []
        for k in range(0, len(blob), 64):
            last += 1
            extra.append("%s,%s,%d,%d,false,bid,%s,1\n" % (
                exchange, symbol, last, last, blob[k:k + 64]))
        data += "".join(extra).encode()
        rows += len(extra)
    with open(path, "wb") as f:
        f.write(data)
    return len(data), rows, hashlib.sha256(data).hexdigest(), first, last


def seal(args, hour, rnd):
    hour_us = int(hour.replace(tzinfo=dt.timezone.utc).timestamp()) * 10**6
    date = hour.strftime("%Y-%m-%d")
    hh = hour.strftime("%H")
    rel_dir = "%s/%s/%s" % (args.exchange, date, hh)
    live = os.path.join(args.data_dir, "live", rel_dir)
    os.makedirs(live, exist_ok=True)
    manifest = ["file,bytes,rows,sha256,first_local_timestamp,last_local_timestamp\n"]
    members = []
    for sym in args.symbols.split(","):
        name = "%s.incremental_book_L2.csv" % sym
        path = os.path.join(live, name)
        size, rows, sha, first, last = make_csv(
            path, args.exchange, sym, hour_us, args.rows, args.pad_bytes, rnd)
        member = "%s/%s" % (rel_dir, name)
        members.append(member)
        manifest.append("%s,%d,%d,%s,%s,%s\n" % (
            member, size, rows, sha, first if first else "", last if last else ""))
        if args.originals:
            dst = os.path.join(args.originals, member)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(path, dst)
    arch_dir = os.path.join(args.data_dir, "archive", args.exchange, date)
    os.makedirs(arch_dir, exist_ok=True)
    base = "%s_%sT%s.tar.gz" % (args.exchange, date, hh)
    with tempfile.TemporaryDirectory() as stage:
        with open(os.path.join(stage, "MANIFEST.csv"), "w") as f:
            f.write("".join(manifest))
        for m in members:
            os.makedirs(os.path.join(stage, os.path.dirname(m)), exist_ok=True)
            shutil.copy2(os.path.join(args.data_dir, "live", m),
                         os.path.join(stage, m))
        out = os.path.join(arch_dir, base)
        subprocess.run(["tar", "-C", stage, "--no-recursion", "--format=ustar",
                        "-czf", out + ".tmp", "MANIFEST.csv"] + members,
                       check=True)
        os.rename(out + ".tmp", out)
    digest = subprocess.run(["sha256sum", base], cwd=arch_dir, check=True,
                            capture_output=True).stdout
    with open(os.path.join(arch_dir, base + ".sha256"), "wb") as f:
        f.write(digest)
    if not args.keep_live:
        shutil.rmtree(os.path.join(args.data_dir, "live", rel_dir))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--exchange", default="gateio")
    ap.add_argument("--start", required=True, help="YYYY-MM-DDTHH (UTC)")
    ap.add_argument("--hours", type=int, default=1)
    ap.add_argument("--symbols", default="BTC_USDT,ETH_USDT")
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--pad-bytes", type=int, default=0)
    ap.add_argument("--originals")
    ap.add_argument("--keep-live", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    start = dt.datetime.strptime(args.start, "%Y-%m-%dT%H")
    rnd = random.Random(args.seed)
    for h in range(args.hours):
        seal(args, start + dt.timedelta(hours=h), rnd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
