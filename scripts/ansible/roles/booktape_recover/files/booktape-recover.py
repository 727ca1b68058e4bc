#!/usr/bin/python3
"""Bring a rebuilt booktape host's sealed hours back from its offsite copy.

Run on the host by the recover playbook (after the booktape role has
deployed it and its recorders record again) with one argument, a JSON
object: {"data_dir", "config" (backup.yml), "destination", "exchanges",
"recorders" (unit instance names), "keep_hours" (the local retention, 0:
forever), "from" (ISO 8601 UTC or "")}. Prints one JSON object.

What it does, all with the programs the package installs:
  1. `booktape-backup list` at the destination: the hours it holds.
  2. The window: from --from (else now - local retention, but not before
     the first hour the destination holds for that exchange) up to the
     hour recording resumed on this host (the recorders' unit start).
  3. Hours of the window the destination has and this host has not
     (neither an archive nor a live hour directory): restored with
     `booktape-backup restore` (which verifies sidecar, gzip and every
     file against MANIFEST.csv) in contiguous ranges into a staging
     directory, each complete hour then renamed into live/ (so a killed
     run never leaves half an hour there for rotate to seal), with the
     rotate and backup timers stopped.
  4. `booktape-backup verify --pending`: the new ledger learns the
     offsite copies' sha256 (verified); then booktape-rotate seals the
     restored hours again and each new archive's sha256 must equal the
     offsite copy's, so it is byte-identical and never shipped twice.
  5. The timers start again.
Hours of the window the destination does not hold are "missing": the old
host either never shipped them (sealed or still live when it was lost)
or recorded nothing then; with the old ledger gone, which of the two
cannot be known here. A second run finds every hour present and does
nothing. Standard library only.
"""
import csv
import datetime as dt
import json
import os
import pwd
import shutil
import subprocess
import sys
import time

HOUR = 3600
USER = "booktape"


def run(cmd, as_user=True, check=False):
    if as_user:
        cmd = ["runuser", "-u", USER, "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def iso(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    text = text.strip().replace("Z", "").replace("+00:00", "")
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H",
                "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return int(dt.datetime.strptime(text, fmt).replace(
                tzinfo=dt.timezone.utc).timestamp())
        except ValueError:
            pass
    raise ValueError("cannot read time '%s' (use 2026-11-26T03:00Z)" % text)


def archive_rel(exchange, hour):
    d = dt.datetime.fromtimestamp(hour, dt.timezone.utc)
    date = d.strftime("%Y-%m-%d")
    return "%s/%s/%s_%sT%s.tar.gz" % (exchange, date, exchange, date,
                                       d.strftime("%H"))


def parse_rel(rel):
    """'gateio/2026-11-26/gateio_2026-11-26T03.tar.gz' -> (ex, hour)."""
    parts = rel.split("/")
    if len(parts) != 3 or not parts[2].endswith(".tar.gz"):
        return None
    base = parts[2][:-len(".tar.gz")]
    ex, _, stamp = base.rpartition("_")
    try:
        hour = int(dt.datetime.strptime(stamp, "%Y-%m-%dT%H").replace(
            tzinfo=dt.timezone.utc).timestamp())
    except ValueError:
        return None
    return ex, hour


def present_locally(data_dir, exchange, hour):
    d = dt.datetime.fromtimestamp(hour, dt.timezone.utc)
    live = os.path.join(data_dir, "live", exchange, d.strftime("%Y-%m-%d"),
                        d.strftime("%H"))
    return (os.path.exists(os.path.join(data_dir, "archive",
                                        archive_rel(exchange, hour)))
            or os.path.isdir(live))


def resumed_at(recorders):
    """When the recorders' units last became active (the earliest)."""
    times = []
    for name in recorders:
        out = subprocess.run(
            ["systemctl", "show", "--timestamp=unix", "-p",
             "ActiveEnterTimestamp", "booktape-recorder@%s.service" % name],
            capture_output=True, text=True, check=False).stdout
        value = out.strip().partition("=")[2]
        if value.startswith("@"):
            times.append(int(value[1:]))
    return min(times) if times else None


def remote_hours(cfg, dest, problems):
    """{exchange: {hour: bytes}} of the archives at the destination."""
    res = run(["booktape-backup", "--config", cfg, "--destination", dest,
               "list"])
    if res.returncode != 0:
        problems.append("booktape-backup list at '%s' failed (exit %d): %s"
                        % (dest, res.returncode, res.stderr.strip()))
        return None
    out = {}
    for line in res.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 3:
            continue
        p = parse_rel(f[1])
        if p:
            out.setdefault(p[0], {})[p[1]] = int(f[2])
    return out


def ranges(hours):
    """Sorted hours -> [(start, end)) of consecutive ones."""
    out = []
    for h in sorted(hours):
        if out and out[-1][1] == h:
            out[-1][1] = h + HOUR
        else:
            out.append([h, h + HOUR])
    return out


def timers(action):
    subprocess.run(["systemctl", action, "booktape-rotate.timer",
                    "booktape-backup.timer"], check=False,
                   capture_output=True)


def wait_jobs_idle(limit=600):
    """Until no rotate or backup run is in progress."""
    end = time.time() + limit
    while time.time() < end:
        busy = subprocess.run(
            ["systemctl", "is-active", "-q", "booktape-rotate.service"],
            check=False).returncode == 0 or subprocess.run(
            ["systemctl", "is-active", "-q", "booktape-backup.service"],
            check=False).returncode == 0
        if not busy:
            return True
        time.sleep(1)
    return False


def ledger_verified(data_dir, dest):
    """{archive: sha256} verified on dest, by the ledger's last records."""
    path = os.path.join(data_dir, "state", "backup-ledger.csv")
    last = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("destination") == dest:
                    last[row["archive"]] = row
    except FileNotFoundError:
        return {}
    return {a: r["sha256"] for a, r in last.items()
            if r.get("status") == "verified"}


def sidecar_sha(data_dir, rel):
    try:
        with open(os.path.join(data_dir, "archive", rel + ".sha256"),
                  encoding="utf-8") as f:
            return f.read().split()[0]
    except (OSError, IndexError):
        return None


def hour_dir(root, exchange, hour):
    d = dt.datetime.fromtimestamp(hour, dt.timezone.utc)
    return os.path.join(root, exchange, d.strftime("%Y-%m-%d"),
                        d.strftime("%H"))


def restore_range(a, staging, ex, start, end):
    """booktape-backup restore of [start, end) into staging: rc, stderr."""
    res = run(["booktape-backup", "--config", a["config"], "--destination",
               a["destination"], "restore", "--exchange", ex, "--from",
               iso(start), "--to", iso(end), "--into", staging])
    return res.returncode, res.stderr.strip()


def move_in(a, staging, ex, hour):
    """Rename a complete restored hour into live/, owned by booktape."""
    src = hour_dir(staging, ex, hour)
    if not os.path.isdir(src):
        return
    dst = hour_dir(os.path.join(a["data_dir"], "live"), ex, hour)
    user = pwd.getpwnam(USER)
    parent = os.path.dirname(dst)
    for d in (os.path.dirname(parent), parent):
        if not os.path.isdir(d):
            os.mkdir(d, 0o755)
            os.chown(d, user.pw_uid, user.pw_gid)
    os.rename(src, dst)


def restore(a, report, todo):
    problems = report["problems"]
    took = report["seconds"]
    timers("stop")
    if not wait_jobs_idle():
        problems.append("a rotate or backup run did not finish in 10 min")
        return
    t0 = time.monotonic()
    staging = os.path.join(a["data_dir"], "state", "recover-staging")
    shutil.rmtree(staging, ignore_errors=True)
    for ex, hours in sorted(todo.items()):
        for start, end in ranges(hours):
            rc, err = restore_range(a, staging, ex, start, end)
            if rc == 0:
                for hour in range(start, end, HOUR):
                    move_in(a, staging, ex, hour)
                continue
            # Which hours are whole is known only hour by hour.
            shutil.rmtree(os.path.join(staging, ex), ignore_errors=True)
            for hour in range(start, end, HOUR):
                rc, err = restore_range(a, staging, ex, hour, hour + HOUR)
                if rc == 0:
                    move_in(a, staging, ex, hour)
                else:
                    shutil.rmtree(hour_dir(staging, ex, hour),
                                  ignore_errors=True)
                    problems.append("restore %s exited %d: %s"
                                    % (archive_rel(ex, hour), rc,
                                       err[-600:]))
    shutil.rmtree(staging, ignore_errors=True)
    took["restore"] = round(time.monotonic() - t0, 1)
    # The ledger learns what the destination holds (downloaded and
    # checked against the remote sidecars)...
    t0 = time.monotonic()
    res = run(["booktape-backup", "--config", a["config"], "--destination",
               a["destination"], "verify", "--pending"])
    if res.returncode != 0:
        problems.append("verify --pending exited %d: %s"
                        % (res.returncode, res.stderr.strip()[-600:]))
    took["verify"] = round(time.monotonic() - t0, 1)
    # ...then rotate seals the restored hours again, as its timer would.
    t0 = time.monotonic()
    res = run(["systemctl", "start", "booktape-rotate.service"],
              as_user=False)
    if res.returncode != 0:
        problems.append("booktape-rotate failed after the restore: %s"
                        % res.stderr.strip())
    took["reseal"] = round(time.monotonic() - t0, 1)


def backup_once(report):
    """One backup run as its timer starts it: the new host ships (the
    restored hours are verified already: nothing goes twice)."""
    t0 = time.monotonic()
    res = run(["systemctl", "start", "booktape-backup.service"],
              as_user=False)
    if res.returncode != 0:
        report["problems"].append("the first backup run failed: %s"
                                  % res.stderr.strip())
    report["seconds"]["backup"] = round(time.monotonic() - t0, 1)


def check_sealed(a, report, restored):
    """Each restored hour is an archive again, identical to the offsite."""
    verified = ledger_verified(a["data_dir"], a["destination"])
    for item in restored:
        rel = item["archive"]
        local = sidecar_sha(a["data_dir"], rel)
        remote = verified.get(rel)
        item["sha256"] = local
        if local is None:
            report["problems"].append(
                "%s: restored but not sealed again (no archive)" % rel)
        elif remote is None:
            report["problems"].append(
                "%s: the destination's copy is not verified in the ledger"
                % rel)
        elif local != remote:
            report["problems"].append(
                "%s: sealed again with sha256 %.12s..., the offsite copy "
                "has %.12s... (not byte-identical)" % (rel, local, remote))


def main():
    a = json.loads(sys.argv[1])
    now = int(time.time())
    report = {"destination": a["destination"], "restored": [],
              "present": [], "missing": [], "windows": {}, "problems": [],
              "changed": False, "seconds": {}}
    resumed = resumed_at(a["recorders"])
    report["resumed"] = iso(resumed) if resumed else None
    if resumed is None:
        report["problems"].append("no recorder is running")
        resumed = now
    end = resumed - resumed % HOUR
    keep = int(a.get("keep_hours") or 0)
    floor = (now - keep * HOUR) if keep else 0
    start = floor
    if a.get("from"):
        start = parse_iso(a["from"])
        if start < floor:
            report["problems"].append(
                "--from %s is older than the local retention (%s): those "
                "hours would be removed again; fetch them with "
                "`booktape-backup restore --into DIR`" % (a["from"],
                                                          iso(floor)))
            print(json.dumps(report))
            return 0
    start -= start % HOUR
    remote = remote_hours(a["config"], a["destination"], report["problems"])
    if remote is None:
        print(json.dumps(report))
        return 0
    todo = {}
    for ex in a["exchanges"]:
        have = remote.get(ex, {})
        ex_start = start
        if not a.get("from"):
            # Before the first hour shipped, the old host (or this
            # exchange on it) had nothing to ship: not missing.
            ex_start = max(start, min(have)) if have else end
        report["windows"][ex] = {"from": iso(ex_start), "to": iso(end)}
        if not have:
            report["problems"].append(
                "the destination holds no hour of '%s'" % ex)
        for hour in range(ex_start, end, HOUR):
            rel = archive_rel(ex, hour)
            if present_locally(a["data_dir"], ex, hour):
                report["present"].append(rel)
            elif hour in have:
                todo.setdefault(ex, []).append(hour)
                report["restored"].append({"archive": rel,
                                           "bytes": have[hour]})
            else:
                report["missing"].append(rel)
    if todo:
        report["changed"] = True
        try:
            restore(a, report, todo)
        finally:
            timers("start")
        check_sealed(a, report, report["restored"])
        if not report["problems"]:
            backup_once(report)
    report["restored_bytes"] = sum(r["bytes"] for r in report["restored"])
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
