#!/usr/bin/env python3
"""monitor-probe.py ARGS_JSON: the monitor node's health, as JSON on stdout.

ARGS_JSON: {"prometheus": URL, "alertmanager": URL} (the node's own
addresses). Reports Prometheus's and Alertmanager's readiness, every
scrape target with its health, every alerting rule that failed to
evaluate, whether Prometheus knows the Alertmanager, and the alerts that
fire. "problems" lists what is unhealthy (firing alerts are reported, not
counted: they are the fleet's state, not the monitor's). Exits 0; the
caller judges. Standard library only.
"""
import json
import sys
import urllib.error
import urllib.request


def fetch(url, as_json=True):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = r.read()
            return (json.loads(body) if as_json else r.status), None
    except urllib.error.HTTPError as e:
        return None, "HTTP %d" % e.code
    except (OSError, ValueError) as e:
        return None, str(getattr(e, "reason", e))


def main():
    args = json.loads(sys.argv[1])
    prom, am = args["prometheus"], args["alertmanager"]
    rep = {"prometheus": {"url": prom}, "alertmanager": {"url": am},
           "targets": [], "rules": {"count": 0, "failing": []},
           "firing": [], "problems": []}
    probs = rep["problems"]

    for key, url, what in (("prometheus", prom, "Prometheus"),
                           ("alertmanager", am, "Alertmanager")):
        status, err = fetch(url + "/-/ready", as_json=False)
        rep[key]["ready"] = status == 200
        if status != 200:
            probs.append("%s not ready at %s: %s" % (what, url, err))

    if rep["prometheus"]["ready"]:
        doc, err = fetch(prom + "/api/v1/targets?state=active")
        if doc is None:
            probs.append("Prometheus targets: %s" % err)
        else:
            for t in doc["data"]["activeTargets"]:
                lab = t.get("labels", {})
                row = {"job": lab.get("job", t.get("scrapePool")),
                       "instance": lab.get("instance", t.get("scrapeUrl")),
                       "host": lab.get("host"), "recorder": lab.get("recorder"),
                       "health": t.get("health"),
                       "error": t.get("lastError") or None}
                rep["targets"].append(row)
                if row["health"] != "up":
                    probs.append("target %s %s%s is %s%s" % (
                        row["job"], row["instance"],
                        " (%s)" % "/".join(x for x in (row["host"], row["recorder"]) if x)
                        if row["host"] else "",
                        row["health"],
                        ": " + row["error"] if row["error"] else ""))
            if not rep["targets"]:
                probs.append("Prometheus has no targets")

        doc, err = fetch(prom + "/api/v1/rules?type=alert")
        if doc is None:
            probs.append("Prometheus rules: %s" % err)
        else:
            for g in doc["data"]["groups"]:
                for r in g["rules"]:
                    rep["rules"]["count"] += 1
                    if r.get("health") != "ok":
                        rep["rules"]["failing"].append(
                            {"name": r["name"], "health": r.get("health"),
                             "error": r.get("lastError")})
                        probs.append("rule %s: %s %s" % (
                            r["name"], r.get("health"), r.get("lastError") or ""))
                    for a in r.get("alerts", []):
                        if a.get("state") == "firing":
                            rep["firing"].append(a.get("labels", {}))
            if rep["rules"]["count"] == 0:
                probs.append("Prometheus has no alerting rules")

        doc, err = fetch(prom + "/api/v1/alertmanagers")
        active = doc["data"]["activeAlertmanagers"] if doc else []
        rep["prometheus"]["alertmanagers"] = [a["url"] for a in active]
        if not active:
            probs.append("Prometheus knows no Alertmanager%s"
                         % (": " + err if err else ""))

    json.dump(rep, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
