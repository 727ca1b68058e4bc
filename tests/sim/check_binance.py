#!/usr/bin/env python3
"""Check the simulator's Binance depthUpdate pushes (wsprobe output, one
JSON text frame a line) against the truth file, with check_mexc.py's
rules: both venues are whole-book diff streams synced from a REST
snapshot {"lastUpdateId","bids","asks"} (EXCHANGES.md §3.5 = §2.6).

  check_binance.py snapshot REST TRUTH
  check_binance.py stream FRAMES SYMBOL REST TRUTH [--gaps N]
Exit 0 when everything matched.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_mexc  # noqa: E402


def pushes(path, symbol, speed):
    del speed
    out = []
    with open(path) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            d = json.loads(line)
            d = d.get("data", d) if "stream" in d else d
            if d.get("e") != "depthUpdate" or d.get("s") != symbol:
                continue
            if not 1.7e12 < d.get("E", 0) < 4e12:
                sys.exit("E %r" % d.get("E"))
            if not isinstance(d["U"], int) or d["U"] > d["u"]:
                sys.exit("bad U/u %r %r" % (d["U"], d["u"]))
            out.append({"fromVersion": d["U"], "toVersion": d["u"],
                        "bids": d["b"], "asks": d["a"]})
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "decode":
        sys.exit(__doc__)
    check_mexc.pushes = pushes
    check_mexc.main()
