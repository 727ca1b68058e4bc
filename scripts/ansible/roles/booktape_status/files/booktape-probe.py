#!/usr/bin/python3
"""What a booktape host is really doing, as one JSON object on stdout.

Run on the host (by the status playbook) with one argument, a JSON object:
{"data_dir", "textfile_dir", "stale_after", "max_window", "rotate_max_age",
 "backup_max_age", "min_free_pct", "recorders": [{"name", "exchange",
 "metrics_listen", "config": {"stale_after", ...}}]} (the inventory's). For each recorder: the unit's state,
/healthz asked on the host, the newest row written and whether the files
grow, the pairs that are not synced; then rotate's and backup's last
success from their textfile metrics and the free disk under data_dir.
Every finding that is not healthy is a line in "problems". Standard
library only: the hosts have python3 for Ansible and nothing else.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request


def unit_state(unit):
    props = "ActiveState,SubState,UnitFileState,Result,NRestarts,LoadState"
    out = subprocess.run(["systemctl", "show", unit, "-p", props],
                         capture_output=True, text=True, check=False).stdout
    state = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        state[key] = value
    return {
        "active": state.get("ActiveState", "unknown"),
        "sub": state.get("SubState", "unknown"),
        "enabled": state.get("UnitFileState", "unknown"),
        "result": state.get("Result", "unknown"),
        "restarts": int(state.get("NRestarts", "0") or 0),
        "loaded": state.get("LoadState", "unknown"),
    }


def healthz(listen):
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = "[" + host + "]"
    url = "http://%s:%s/healthz" % (host, port)
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            code, body = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        code, body = err.code, err.read()
    except (OSError, ValueError) as err:
        return {"code": None, "error": str(err)}
    try:
        doc = json.loads(body)
    except ValueError:
        return {"code": code, "error": "body is not JSON"}
    doc["code"] = code
    return doc


def last_line(path):
    """The last complete line of a file (rows end with LF)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        f.seek(max(0, end - 65536))
        tail = f.read()
    lines = tail.split(b"\n")
    if len(lines) < 2:
        return None
    return lines[-2].decode("utf-8", "replace")


def newest_hour_dir(live):
    """<live>/<YYYY-MM-DD>/<HH>, the newest one, or None."""
    try:
        days = sorted(d for d in os.listdir(live) if len(d) == 10)
    except OSError:
        return None
    for day in reversed(days):
        try:
            hours = sorted(h for h in os.listdir(os.path.join(live, day))
                           if len(h) == 2)
        except OSError:
            continue
        if hours:
            return os.path.join(live, day, hours[-1])
    return None


def recorder_files(data_dir, exchange, symbols):
    hour = newest_hour_dir(os.path.join(data_dir, "live", exchange))
    if hour is None:
        return []
    files = []
    for name in os.listdir(hour):
        if not name.endswith(".csv"):
            continue
        if symbols and name.split(".", 1)[0] not in symbols:
            continue
        files.append(os.path.join(hour, name))
    return files


def newest_row_age(files, now):
    """Age of the newest row by its local_timestamp (µs), or None, and
    why not."""
    newest, why = None, "no data file"
    for path in files:
        try:
            with open(path, "rb") as f:
                header = f.readline().decode("utf-8", "replace").strip()
            cols = header.split(",")
            line = last_line(path)
            if line is None or line.strip() == header:
                why = "no row after the header"
                continue
            cell = line.split(",")[cols.index("local_timestamp")]
            ts = int(cell) / 1e6
        except (OSError, ValueError, IndexError) as err:
            why = "%s: %s" % (os.path.basename(path), err)
            continue
        if newest is None or ts > newest:
            newest = ts
    if newest is None:
        return None, why
    return round(now - newest, 3), None


def total_size(files):
    size = 0
    for path in files:
        try:
            size += os.stat(path).st_size
        except OSError:
            pass
    return size


def textfile(path):
    """Samples of a Prometheus text file: {name{labels}: value}."""
    samples = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                key, _, value = line.strip().rpartition(" ")
                try:
                    samples[key] = float(value)
                except ValueError:
                    pass
    except OSError:
        return None
    return samples


def job_state(job, args, now, problems, required):
    """rotate or backup: timer, last run and last success. Backup is
    optional (a host may have no destination); rotate is not."""
    timer = unit_state("booktape-%s.timer" % job)
    service = unit_state("booktape-%s.service" % job)
    prom = textfile(os.path.join(args["textfile_dir"],
                                 "booktape_%s.prom" % job))
    state = {"timer": timer["active"], "service_result": service["result"],
             "last_success_age": None, "last_run_age": None, "errors": None}
    configured = timer["enabled"] == "enabled"
    state["configured"] = configured
    if not configured:
        if required:
            problems.append("%s: timer not enabled" % job)
        return state
    if timer["active"] != "active":
        problems.append("%s: timer %s" % (job, timer["active"]))
    if service["active"] == "failed" or service["result"] not in (
            "success", "unknown", ""):
        problems.append("%s: last run failed (%s)" % (job, service["result"]))
    if prom is None:
        return state
    prefix = "booktape_%s_" % job
    succ = [v for k, v in prom.items()
            if k.startswith(prefix + "last_success_timestamp_seconds")]
    runs = [v for k, v in prom.items()
            if k.startswith(prefix + "last_run_timestamp_seconds")]
    errors = prom.get(prefix + "errors")
    if runs:
        state["last_run_age"] = round(now - max(runs))
    if succ and min(succ) > 0:
        # Backup has one per destination: the stalest one counts.
        state["last_success_age"] = round(now - min(succ))
    state["errors"] = errors
    max_age = args["%s_max_age" % job]
    if runs and (not succ or min(succ) <= 0):
        problems.append("%s: never succeeded" % job)
    elif succ and now - min(succ) > max_age:
        problems.append("%s: last success %d s ago (more than %d)"
                        % (job, now - min(succ), max_age))
    if errors:
        problems.append("%s: %d errors in the last run" % (job, errors))
    return state


def probe_recorder(rec, args, now, problems):
    name = rec["name"]
    unit = unit_state("booktape-recorder@%s.service" % name)
    health = healthz(rec["metrics_listen"])
    stale = float((rec.get("config") or {}).get("stale_after")
                  or args["stale_after"])
    out = {"name": name, "exchange": rec["exchange"], "unit": unit,
           "healthz": health.get("code"), "unsynced": [], "files": 0}
    if unit["active"] != "active":
        problems.append("%s: unit %s (%s)" % (name, unit["active"],
                                               unit["sub"]))
    if health.get("code") != 200:
        problems.append("%s: /healthz %s" % (
            name, health.get("code") or health.get("error")))
    symbols = set()
    for pair in health.get("pairs", []):
        symbols.add(pair.get("symbol"))
        age = pair.get("last_message_age_seconds", -1)
        if pair.get("state") != "synced" or age < 0 or age > stale:
            out["unsynced"].append({"pair": pair.get("pair"),
                                    "state": pair.get("state"),
                                    "age": age})
            problems.append("%s: pair %s %s, last message %s" % (
                name, pair.get("pair"), pair.get("state"),
                "never" if age < 0 else "%.1f s ago" % age))
    if health.get("code") is not None and not health.get("connected", True):
        problems.append("%s: not connected to the exchange" % name)
    if health.get("code") is not None and not health.get("writing", True):
        problems.append("%s: a write failed recently" % name)
    files = recorder_files(args["data_dir"], rec["exchange"], symbols)
    out["files"] = len(files)
    out["newest_row_age"], why = newest_row_age(files, now)
    if out["newest_row_age"] is None:
        problems.append("%s: no row in the newest hour (%s)" % (name, why))
    elif out["newest_row_age"] > stale:
        problems.append("%s: newest row %.1f s old" % (
            name, out["newest_row_age"]))
    out["size0"] = total_size(files)
    out["symbols"] = sorted(s for s in symbols if s)
    return out


def wait_growth(recs, args):
    """Rows may wait flush_interval before write(2): poll until each
    recorder's files grew or max_window seconds passed."""
    deadline = time.time() + float(args["max_window"])
    pending = [r for r in recs if r["files"] > 0]
    while True:
        for rec in list(pending):
            files = recorder_files(args["data_dir"], rec["exchange"],
                                   set(rec["symbols"]))
            if total_size(files) != rec["size0"]:
                rec["grew"] = True
                pending.remove(rec)
        if not pending or time.time() >= deadline:
            break
        time.sleep(0.5)
    for rec in recs:
        rec.setdefault("grew", False)
        del rec["size0"]


def main():
    args = json.loads(sys.argv[1])
    now = time.time()
    problems = []
    recs = [probe_recorder(r, args, now, problems)
            for r in args["recorders"]]
    wait_growth(recs, args)
    for rec in recs:
        if not rec["grew"]:
            problems.append("%s: files did not grow within %s s" % (
                rec["name"], args["max_window"]))
    now = time.time()
    rotate = job_state("rotate", args, now, problems, True)
    backup = job_state("backup", args, now, problems, False)
    disk = {"path": args["data_dir"]}
    try:
        st = os.statvfs(args["data_dir"])
        disk["free_bytes"] = st.f_bavail * st.f_frsize
        disk["free_pct"] = round(100.0 * st.f_bavail / st.f_blocks, 1)
        if disk["free_pct"] < float(args["min_free_pct"]):
            problems.append("disk: %.1f %% free under %s" % (
                disk["free_pct"], args["data_dir"]))
    except OSError as err:
        problems.append("disk: %s" % err)
    json.dump({"recorders": recs, "rotate": rotate, "backup": backup,
               "disk": disk, "problems": problems, "time": now},
              sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
