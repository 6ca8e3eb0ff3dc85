#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ynl_test: the kernel's own ynl CLI (tools/net/ynl/cli.py from
linux-source-6.12) drives the vfio_cxx family from our YNL spec
(Documentation/netlink/specs/vfio_cxx.yaml).

Installed as vfio_cxx/bin/ynl_test of the kselftest collection, with the CLI
in vfio_cxx/ynl/; needs the environment of vfio_cxx_env.sh (VFIO_CXX_GROUP:
the edu group bound to vfio-pci, our module loaded) and root.  A helper
process (bin/ynl_holder) holds a container with one 8 KiB mapping while the
CLI dumps and reads it; another creates and releases one while the CLI
listens to the "events" group.  Every reply is decoded by ynl from the spec:
an attribute the spec does not describe makes it fail.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
TOP = os.path.dirname(HERE)  # the collection: vfio_cxx/
sys.path.insert(0, os.path.join(os.path.dirname(TOP), "kselftest"))
import ksft  # noqa: E402  (the kselftest tree's helpers, installed beside us)

YNL = [sys.executable, os.path.join(TOP, "ynl/cli.py"), "--spec", os.path.join(TOP, "ynl/specs/vfio_cxx.yaml"),
       "--output-json"]
# The first call checks the spec against the schema (jsonschema); the others
# skip it, which saves seconds per call under TCG.
SCHEMA = ["--schema", os.path.join(TOP, "ynl/genetlink-c.yaml")]
NO_SCHEMA = ["--no-schema"]
HOLDER = os.path.join(HERE, "ynl_holder")
CXX_IOMMU = 0x56435831
PLAN = 8


def ynl(*args, schema=False, timeout=120):
    t0 = time.monotonic()
    r = subprocess.run(YNL + (SCHEMA if schema else NO_SCHEMA) + list(args), capture_output=True, text=True,
                       timeout=timeout)
    ksft.print_msg(f"ynl {' '.join(args)}: exit {r.returncode} in {time.monotonic() - t0:.1f}s")
    for line in (r.stdout + r.stderr).splitlines()[-6:]:
        ksft.print_msg(f"  {line}")
    return r


def parsed(r):
    try:
        return json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else None
    except (ValueError, IndexError):
        return None


def in_sleep(pid):
    """Whether pid is in clock_nanosleep (x86_64: 230), i.e. cli.py has
    subscribed (it subscribes, then sleeps)."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            return f.read().split()[0] == "230"
    except (OSError, IndexError):
        return False


def main():
    ksft.print_header()
    group = os.environ.get("VFIO_CXX_GROUP", "")
    if not group.isdigit() or not os.path.exists(f"/dev/vfio/{group}") or os.geteuid() != 0:
        print("1..0 # SKIP needs root and VFIO_CXX_GROUP (source vfio_cxx_env.sh)")
        sys.exit(ksft.KSFT_SKIP)
    ksft.set_plan(PLAN)

    r = ynl("--list-ops", schema=True)
    ops = {line.split()[0]: line for line in r.stdout.splitlines() if line.strip()}
    want = {"get-container": ("do", "dump"), "get-mappings": ("dump",), "get-stats": ("do",),
            "get-preregs": ("dump",)}
    ksft.test_result(r.returncode == 0 and set(ops) == set(want) and
                     all(all(m in ops[o] for m in ms) for o, ms in want.items()),
                     "ynl loads the spec (schema-checked) and lists its operations")

    holder = subprocess.Popen([HOLDER, group, "hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    ready = holder.stdout.readline().split()
    hpid = holder.pid
    cid = None
    try:
        ksft.test_result(len(ready) == 4 and ready[0] == "ready" and int(ready[1]) == hpid,
                         "the holder set up a container with one mapping")
        dump = parsed(ynl("--dump", "get-container")) or []
        mine = [c for c in dump if c.get("owner-tgid") == hpid]
        c = mine[0] if len(mine) == 1 else {}
        cid = c.get("container-id")
        ksft.test_result(cid is not None and c.get("iommu-type") == CXX_IOMMU and c.get("mappings") == 1 and
                         c.get("mapped-bytes") == 8192 and c.get("groups") == 1 and
                         c.get("group-ids", {}).get("group-id") == [int(group)],
                         "dump get-container: the holder's container, decoded from the spec")
        one = parsed(ynl("--do", "get-container", "--json", json.dumps({"container-id": cid or 0})))
        ksft.test_result(one is not None and one.get("container-id") == cid and one.get("owner-tgid") == hpid,
                         "do get-container by container-id")
        maps = parsed(ynl("--dump", "get-mappings", "--json", json.dumps({"container-id": cid or 0}))) or []
        ksft.test_result(len(maps) == 1 and maps[0].get("iova") == 0x100000 and maps[0].get("size") == 8192 and
                         maps[0].get("container-id") == cid and "iommu-mapped" in maps[0].get("map-flags", []) and
                         maps[0].get("pages-pinned") == 2 and maps[0].get("prot") == 3,
                         "dump get-mappings: the mapping, its flags as the spec's flag names")
        st = parsed(ynl("--do", "get-stats")) or {}
        ksft.test_result(st.get("stat-containers-live", 0) >= 1 and st.get("stat-dmas-live", 0) >= 1 and
                         len(st) == 10, "do get-stats: the ten counters")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    gone = ynl("--do", "get-container", "--json", json.dumps({"container-id": cid or 0}))
    ksft.test_result(gone.returncode != 0 and "No such file or directory" in gone.stdout + gone.stderr,
                     "do get-container of the released container: ENOENT")

    # Events: cli.py subscribes, sleeps, then prints what was queued.
    sub = subprocess.Popen(YNL + NO_SCHEMA + ["--subscribe", "events", "--sleep", "15"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    t0 = time.monotonic()
    while not in_sleep(sub.pid) and sub.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.1)
    ksft.print_msg(f"ynl --subscribe events: subscribed after {time.monotonic() - t0:.1f}s")
    brief = subprocess.Popen([HOLDER, group, "brief"])
    brief.wait(timeout=60)
    out, _ = sub.communicate(timeout=180)
    for line in out.splitlines()[-6:]:
        ksft.print_msg(f"  {line}")
    try:
        events = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        events = []
    mine = [e for e in events if e.get("msg", {}).get("owner-tgid") == brief.pid]
    names = [e.get("name") for e in mine]
    ids = {e["msg"].get("container-id") for e in mine}
    ksft.test_result(brief.returncode == 0 and sub.returncode == 0 and
                     names == ["container-created", "container-released"] and len(ids) == 1 and
                     None not in ids and
                     all(e["msg"].get("owner-uid") == 0 and "mm-id" in e["msg"] for e in mine),
                     "--subscribe events: container-created then container-released of one container")
    ksft.finished()


if __name__ == "__main__":
    main()
