#!/usr/bin/env python3
"""Checks for the monitoring files in scripts/monitoring/ (standard library
only; every address is the caller's, 127.0.0.1 in the tests).

usage:
  monitoring_check.py static RULES RULES_TEST README
      every alert names its runbook row, the README has that row with the
      rule's `for:`, and the unit tests have a firing and a not-firing
      case for it
  monitoring_check.py dashboard-lint DASHBOARD_JSON
      the dashboard is well formed: ids, datasource, queries, a layout
      without overlaps
  monitoring_check.py dashboard PROM_URL DASHBOARD_JSON [--timeout S]
      the dashboard is well formed, and every panel query and variable
      query parses and returns series from PROM_URL (retried until S)
  monitoring_check.py wait-webhook LOG ALERTNAME STATUS SINCE TIMEOUT
      a notification in LOG (webhook_sink.py) received after SINCE (unix
      time) carries ALERTNAME with STATUS (firing|resolved); prints the
      seconds from SINCE
  monitoring_check.py rules-ok PROM_URL COUNT
      Prometheus has loaded COUNT alerting rules and evaluated every one
      without error
  monitoring_check.py wait-query PROM_URL EXPR TIMEOUT
      EXPR returns at least one series; prints the seconds waited
  monitoring_check.py wait-prom PROM_URL ALERTNAME STATE TIMEOUT
      Prometheus reports ALERTNAME in STATE (firing|pending|inactive:
      none of either); prints the seconds waited
Exit 0 when the check holds, 1 otherwise (with the reason).
"""
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# What the dashboard's variables stand for when its queries are run here:
# every value, and a range long enough for two 1 s scrapes.
SUBST = [("$__rate_interval", "30s"), ("$__interval", "5s"),
         ("$__range", "1m"), ("$host", ".*"), ("$exchange", ".*"),
         ("$symbol", ".*")]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def get(url, path, params):
    q = urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen("%s%s?%s" % (url, path, q),
                                    timeout=5) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        try:
            return json.load(e)
        except ValueError:
            return {"status": "error", "error": "HTTP %d" % e.code}
    except (OSError, ValueError) as e:
        return {"status": "error", "error": str(e)}


# ------------------------------------------------------------------ static

def alert_blocks(text):
    """(name, block text) for each `- alert:` of a rules file."""
    parts = re.split(r"^\s*- alert:\s*", text, flags=re.M)[1:]
    return [(p.split("\n", 1)[0].strip(), p) for p in parts]


def cmd_static(rules, tests, readme):
    rtext = open(rules).read()
    ttext = open(tests).read()
    mtext = open(readme).read()
    alerts = alert_blocks(rtext)
    if not alerts:
        fail("no alert in %s" % rules)
    errs = []
    for name, block in alerts:
        want = 'runbook: "README.md, Runbook: %s"' % name
        if want not in block:
            errs.append("%s: no annotation %s" % (name, want))
        m = re.search(r"^\| `%s` \| ([^|]*) \|" % re.escape(name), mtext, re.M)
        f = re.search(r"^\s*for:\s*(\S+)", block, re.M)
        if not m:
            errs.append("%s: no runbook row in %s" % (name, readme))
        elif m.group(1).strip() != (f.group(1) if f else "0"):
            errs.append("%s: runbook says for %s, the rule %s"
                        % (name, m.group(1).strip(), f.group(1) if f else "0"))
        cases = re.findall(r"alertname:\s*%s\s*\n\s*exp_alerts:(.*)"
                           % re.escape(name), ttext)
        if not any(c.strip() == "[]" for c in cases):
            errs.append("%s: no not-firing case in %s" % (name, tests))
        if not any(c.strip() == "" for c in cases):
            errs.append("%s: no firing case in %s" % (name, tests))
    rows = re.findall(r"^\| `(Booktape\w+)` \|", mtext, re.M)
    names = {n for n, _ in alerts}
    for r in rows:
        if r not in names:
            errs.append("README runbook row %s names no rule" % r)
    if errs:
        fail("; ".join(errs))
    print("%d alerts: runbook rows and firing/not-firing tests present"
          % len(alerts))


# ------------------------------------------------------------------ dashboard

def subst(expr):
    for k, v in SUBST:
        expr = expr.replace(k, v)
    return expr


def check_structure(d):
    errs = []
    for k in ("uid", "title", "schemaVersion", "panels", "templating"):
        if k not in d:
            errs.append("no %s" % k)
    names = [v.get("name") for v in d.get("templating", {}).get("list", [])]
    if "datasource" not in names:
        errs.append("no datasource variable")
    ids = set()
    boxes = []
    for p in d.get("panels", []):
        if p.get("id") in ids:
            errs.append("panel id %s twice" % p.get("id"))
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        if not all(k in g for k in "hwxy") or g["x"] + g["w"] > 24:
            errs.append("panel %r: bad gridPos" % p.get("title"))
            continue
        for t, b in boxes:
            if (g["x"] < b["x"] + b["w"] and b["x"] < g["x"] + g["w"]
                    and g["y"] < b["y"] + b["h"] and b["y"] < g["y"] + g["h"]):
                errs.append("panels %r and %r overlap" % (t, p.get("title")))
        boxes.append((p.get("title"), g))
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            errs.append("panel %r: datasource is not $datasource"
                        % p.get("title"))
        if not p.get("targets"):
            errs.append("panel %r: no query" % p.get("title"))
        for t in p.get("targets", []):
            if not t.get("expr") or not t.get("refId"):
                errs.append("panel %r: target without expr or refId"
                            % p.get("title"))
    return errs


def queries(d):
    """(what, kind, query) for every panel target and variable."""
    out = []
    for p in d["panels"]:
        for t in p.get("targets", []):
            out.append(("panel %r %s" % (p["title"], t["refId"]), "expr",
                        subst(t["expr"])))
    for v in d["templating"]["list"]:
        if v.get("type") != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q.strip())
        if not m:
            out.append(("variable %s" % v["name"], "bad", q))
        else:
            out.append(("variable %s" % v["name"], "label",
                        (subst(m.group(1)), m.group(2))))
    return out


def run_query(prom, kind, q):
    """None when the query parses and returns series, else why not."""
    if kind == "bad":
        return "not label_values(selector, label): %s" % q
    if kind == "label":
        sel, label = q
        r = get(prom, "/api/v1/series", {"match[]": sel})
        if r.get("status") != "success":
            return "%s: %s" % (sel, r.get("error"))
        if not any(label in s for s in r["data"]):
            return "no series of %s has label %s" % (sel, label)
        return None
    r = get(prom, "/api/v1/query", {"query": q})
    if r.get("status") != "success":
        return "%s: %s" % (q, r.get("error"))
    if not r["data"]["result"]:
        return "%s: no series" % q
    return None


def cmd_dashboard_lint(path):
    d = json.load(open(path))
    errs = check_structure(d)
    if errs:
        fail("%s: %s" % (path, "; ".join(errs)))
    print("dashboard: %d panels, %d queries, well formed"
          % (len(d["panels"]), len(queries(d))))


def cmd_dashboard(prom, path, timeout):
    d = json.load(open(path))
    errs = check_structure(d)
    if errs:
        fail("%s: %s" % (path, "; ".join(errs)))
    qs = queries(d)
    deadline = time.time() + timeout
    while True:
        bad = [(w, e) for w, k, q in qs for e in [run_query(prom, k, q)] if e]
        if not bad or time.time() > deadline:
            break
        time.sleep(1)
    if bad:
        fail("; ".join("%s: %s" % b for b in bad))
    print("%d dashboard queries parse and return series" % len(qs))


# ------------------------------------------------------------------ alerts

def cmd_wait_webhook(log, name, status, since, timeout):
    since, deadline = float(since), time.time() + float(timeout)
    while time.time() <= deadline:
        try:
            lines = open(log).read().splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            n = json.loads(line)
            if n["received"] < since:
                continue
            for a in n["body"].get("alerts", []):
                if (a.get("labels", {}).get("alertname") == name
                        and a.get("status") == status):
                    print("%.1f" % (n["received"] - since))
                    return
        time.sleep(0.2)
    fail("no %s %s notification within %s s" % (name, status, timeout))


def cmd_rules_ok(prom, count):
    r = get(prom, "/api/v1/rules", {"type": "alert"})
    if r.get("status") != "success":
        fail("rules API: %s" % r.get("error"))
    rules = [x for g in r["data"]["groups"] for x in g["rules"]]
    bad = ["%s: %s %s" % (x["name"], x.get("health"), x.get("lastError", ""))
           for x in rules if x.get("health") != "ok"]
    if bad:
        fail("rules not evaluating: " + "; ".join(bad))
    if len(rules) != int(count):
        fail("Prometheus loaded %d alerting rules, not %s" % (len(rules), count))
    print("%d alerting rules loaded, every one evaluated without error"
          % len(rules))


def cmd_wait_query(prom, expr, timeout):
    start = time.time()
    deadline = start + float(timeout)
    r = {}
    while time.time() <= deadline:
        r = get(prom, "/api/v1/query", {"query": expr})
        if r.get("status") == "success" and r["data"]["result"]:
            print("%.1f" % (time.time() - start))
            return
        time.sleep(0.2)
    fail("%s returned nothing within %s s (%s)"
         % (expr, timeout, r.get("error", "no series")))


def cmd_wait_prom(prom, name, state, timeout):
    start = time.time()
    deadline = start + float(timeout)
    while time.time() <= deadline:
        r = get(prom, "/api/v1/alerts", {})
        if r.get("status") == "success":
            states = {a["state"] for a in r["data"]["alerts"]
                      if a["labels"].get("alertname") == name}
            if (state in states) or (state == "inactive" and not states):
                print("%.1f" % (time.time() - start))
                return
        time.sleep(0.2)
    fail("Prometheus alert %s not %s within %s s" % (name, state, timeout))


def main(argv):
    if len(argv) >= 2 and argv[1] == "static" and len(argv) == 5:
        cmd_static(*argv[2:])
    elif len(argv) == 3 and argv[1] == "dashboard-lint":
        cmd_dashboard_lint(argv[2])
    elif len(argv) >= 4 and argv[1] == "dashboard":
        timeout = 30.0
        if len(argv) == 6 and argv[4] == "--timeout":
            timeout = float(argv[5])
        cmd_dashboard(argv[2], argv[3], timeout)
    elif len(argv) == 7 and argv[1] == "wait-webhook":
        cmd_wait_webhook(*argv[2:])
    elif len(argv) == 4 and argv[1] == "rules-ok":
        cmd_rules_ok(*argv[2:])
    elif len(argv) == 5 and argv[1] == "wait-query":
        cmd_wait_query(*argv[2:])
    elif len(argv) == 6 and argv[1] == "wait-prom":
        cmd_wait_prom(*argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
