#!/usr/bin/env python3
"""Completes package-lock.json with the per-platform optional packages the registry we install from does not serve.

Native packages (litesvm, msgpackr-extract, ...) list one optional dependency per platform. When the registry
answers 404 for a platform build (here: only linux-x64 builds are mirrored), `npm install` leaves that entry out
of the lock and `npm ci` then refuses the lock as out of sync. This adds each missing entry with its os/cpu, so
npm skips it on every other platform exactly as it would skip the real one. Run after any `npm install`.
"""
import json
import re
import sys
from pathlib import Path

lock_path = Path(__file__).resolve().parent.parent / "package-lock.json"
lock = json.loads(lock_path.read_text())
packages = lock["packages"]
OS = ["darwin", "linux", "win32", "freebsd", "android", "openbsd", "sunos", "aix", "netbsd"]
CPU = ["arm64", "x64", "arm", "ia32", "ppc64", "s390x", "riscv64", "loong64", "mips64el"]

added = []
for key, entry in list(packages.items()):
    for name, version in (entry.get("optionalDependencies") or {}).items():
        if f"node_modules/{name}" in packages or f"{key}/node_modules/{name}" in packages:
            continue
        base = name.split("/")[-1]
        os_ = next((o for o in OS if re.search(rf"(^|-){o}(-|$)", base)), None)
        cpu = next((c for c in CPU if re.search(rf"(^|-){c}(-|$)", base)), None)
        if not os_ or not cpu:
            continue
        # Nothing on this machine's platform may be added: that build must really be installed.
        if os_ == "linux" and cpu == "x64":
            continue
        tarball = base
        new = {"version": version.lstrip("^~="), "resolved": f"https://registry.npmjs.org/{name}/-/{tarball}-{version.lstrip('^~=')}.tgz", "optional": True, "os": [os_], "cpu": [cpu]}
        if entry.get("dev"):
            new["dev"] = True
        if "musl" in base:
            new["libc"] = ["musl"]
        elif "gnu" in base:
            new["libc"] = ["glibc"]
        packages[f"node_modules/{name}"] = new
        added.append(name)

lock["packages"] = dict(sorted(packages.items(), key=lambda kv: (kv[0] != "", kv[0])))
lock_path.write_text(json.dumps(lock, indent=2) + "\n")
print(f"lock-platforms: added {len(added)} entries" + (f": {', '.join(added)}" if added else ""), file=sys.stderr)
