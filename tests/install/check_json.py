#!/usr/bin/env python3
"""Asserts on a `phyllome-shell --check --json` report: check_json.py FILE id=status[:substring] ..."""
import json
import sys

report = json.load(open(sys.argv[1]))
by_id = {c["id"]: c for c in report["checks"]}
failed = False
for spec in sys.argv[2:]:
    if spec.startswith("ready="):
        want = spec.split("=", 1)[1] == "true"
        if report["ready"] != want:
            print(f"FAIL: ready is {report['ready']}, expected {want}", file=sys.stderr)
            failed = True
        continue
    key, want = spec.split("=", 1)
    status, _, text = want.partition(":")
    check = by_id.get(key)
    if check is None:
        print(f"FAIL: no check {key}", file=sys.stderr)
        failed = True
    elif check["status"] != status or text not in check["detail"]:
        print(f"FAIL: {key} is {check['status']} '{check['detail']}', expected {status} containing '{text}'",
              file=sys.stderr)
        failed = True
    elif status != "ok" and not check["action"]:
        print(f"FAIL: {key} is {status} but says nothing to do", file=sys.stderr)
        failed = True
sys.exit(1 if failed else 0)
