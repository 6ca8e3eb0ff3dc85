#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the vfio_cxx YNL spec against the code that implements the family.

Usage: check-ynl.py <linux-source-6.12 tree> <repo top> <work dir>

The tree needs tools/net/ynl, Documentation/netlink/*.yaml and MAINTAINERS
(scripts/linux-source.sh extracts them; ynl-gen-c.py looks for MAINTAINERS
to find the tree's root).  The spec is copied into the tree's
Documentation/netlink/specs/ (where the generator wants it) and fed to the
kernel's own tools:

- lib/nlspec.py validates it against Documentation/netlink/genetlink-c.yaml;
- ynl-gen-c.py renders the uAPI header and the kernel source (policies, ops,
  multicast groups) from it;
- every enumerator and define of the generated header is compiled against
  uapi/linux/vfio_cxx_netlink.h (same name, same value), and every name of
  ours is in the spec;
- module/kapi/netlink.c's nla_policy entries are the generated policies'
  (attribute and type), its genl_ops give each command the do/dump the spec
  gives it, its multicast groups are the spec's (name, CAP_SYS_ADMIN), and
  the commands the module emits outside its ops are the spec's events.

Prints TAP; exit status 0 (the results are the TAP lines).
"""
import os
import re
import shutil
import subprocess
import sys

results = []


def check(ok, what, detail=""):
    results.append((bool(ok), what, detail))


def strip_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


def c_names(header):
    """Enumerators and VFIO_CXX_* defines of a header (comments stripped)."""
    s = strip_comments(open(header).read())
    names = set()
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", s, flags=re.S):
        for item in body.split(","):
            m = re.match(r"\s*([A-Za-z_]\w*)", item)
            if m:
                names.add(m.group(1))
    for m in re.finditer(r"^\s*#\s*define\s+(VFIO_CXX_\w+)\s+\S", s, flags=re.M):
        names.add(m.group(1))
    return names


def values(header, names, work, tag):
    """name -> printed value, by compiling a program against header."""
    src = os.path.join(work, f"values-{tag}.c")
    exe = os.path.join(work, f"values-{tag}")
    out = {}
    with open(src, "w") as f:
        f.write('#include <stdio.h>\n#include "%s"\n' % os.path.abspath(header))
        f.write("#define P(n) printf(_Generic((n), char *: #n \"=\\\"%s\\\"\\n\", "
                "default: #n \"=%lld\\n\"), _Generic((n), char *: (n), default: (long long)(n)))\n")
        f.write("int main(void)\n{\n")
        for n in sorted(names):
            f.write("\tP(%s);\n" % n)
        f.write("\treturn 0;\n}\n")
    r = subprocess.run(["gcc", "-std=gnu11", "-Wno-int-conversion", "-o", exe, src],
                       capture_output=True, text=True)
    if r.returncode:
        return None, r.stderr
    r = subprocess.run([exe], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out, ""


def braces(s, start):
    """The text inside the {...} that opens at s[start]."""
    depth = 0
    for i in range(start, len(s)):
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
            if depth == 0:
                return s[start + 1:i]
    return s[start + 1:]


def top_items(body):
    """The {...} items of an array initializer body."""
    items, i = [], 0
    while True:
        j = body.find("{", i)
        if j < 0:
            return items
        inner = braces(body, j)
        items.append(inner)
        i = j + len(inner) + 2


def arrays(src, ctype):
    """name -> initializer body of each `struct <ctype> name[...] = {...}`."""
    out = {}
    for m in re.finditer(r"struct\s+%s\s+(\w+)\s*\[[^\]]*\]\s*(?:__\w+\s*)*=\s*\{" % ctype, src):
        out[m.group(1)] = braces(src, m.end() - 1)
    return out


def policy_entries(body):
    return {m.group(1): m.group(2) for m in
            re.finditer(r"\[\s*(\w+)\s*\]\s*=\s*\{\s*\.type\s*=\s*(NLA_\w+)", body)}


def ops_of(body):
    """cmd -> set of 'do'/'dump' for each genl op item."""
    ops = {}
    for item in top_items(body):
        m = re.search(r"\.cmd\s*=\s*(\w+)", item)
        if not m:
            continue
        modes = ops.setdefault(m.group(1), set())
        if re.search(r"\.doit\s*=", item):
            modes.add("do")
        if re.search(r"\.dumpit\s*=", item):
            modes.add("dump")
    return ops


def main():
    src_tree, top, work = (os.path.abspath(a) for a in sys.argv[1:4])
    os.makedirs(work, exist_ok=True)
    spec = os.path.join(top, "Documentation/netlink/specs/vfio_cxx.yaml")
    ynl = os.path.join(src_tree, "tools/net/ynl")
    tree_spec = os.path.join(src_tree, "Documentation/netlink/specs/vfio_cxx.yaml")
    os.makedirs(os.path.dirname(tree_spec), exist_ok=True)
    shutil.copy(spec, tree_spec)
    uapi = os.path.join(top, "uapi/linux/vfio_cxx_netlink.h")
    netlink_c = os.path.join(top, "module/kapi/netlink.c")

    # 1. The schema, through ynl's own loader.
    sys.path.insert(0, ynl)
    family = None
    try:
        from lib.nlspec import SpecFamily
        family = SpecFamily(tree_spec, os.path.join(src_tree, "Documentation/netlink/genetlink-c.yaml"))
        check(True, "spec validates against genetlink-c.yaml (ynl's nlspec + jsonschema)")
    except Exception as e:  # noqa: BLE001 - any failure of the loader is the result
        check(False, "spec validates against genetlink-c.yaml (ynl's nlspec + jsonschema)", repr(e))

    # 2. The generator.
    gen_h = os.path.join(work, "vfio_cxx_netlink-gen.h")
    gen_c = os.path.join(work, "vfio_cxx-gen.c")
    ok = True
    err = ""
    for mode, flag, out in (("uapi", "--header", gen_h), ("kernel", "--source", gen_c)):
        r = subprocess.run([sys.executable, os.path.join(ynl, "ynl-gen-c.py"), "--mode", mode, flag,
                            "--spec", tree_spec, "-o", out], capture_output=True, text=True,
                           timeout=120)
        if r.returncode or not os.path.exists(out):
            ok = False
            err += r.stderr[-400:]
    check(ok, "ynl-gen-c.py renders the uAPI header and the kernel policies/ops from the spec", err)

    # 3, 4. The uAPI header.
    if os.path.exists(gen_h):
        gen_names = c_names(gen_h) - {"_UAPI_LINUX_VFIO_CXX_NETLINK_H"}
        want, e1 = values(gen_h, gen_names, work, "gen")
        have, e2 = values(uapi, gen_names, work, "ours")
        if want is None or have is None:
            check(False, "every name the spec generates is in the uAPI header with its value",
                  (e1 or e2)[-600:])
        else:
            diff = sorted(n for n in gen_names if want.get(n) != have.get(n))
            check(not diff and len(gen_names) > 40,
                  f"every name the spec generates ({len(gen_names)}) is in the uAPI header with its value",
                  "; ".join(f"{n}: spec {want.get(n)} header {have.get(n)}" for n in diff))
        ours = c_names(uapi) - {"_UAPI_LINUX_VFIO_CXX_NETLINK_H"}
        extra = sorted(ours - gen_names)
        unspec = [n for n in extra if n.endswith("_UNSPEC")]
        zero, _ = values(uapi, set(unspec), work, "unspec") if unspec else ({}, "")
        extra = [n for n in extra if not (n in unspec and zero and zero.get(n) == "0")]
        check(not extra, f"every name of the uAPI header ({len(ours)}) is in the spec (the _UNSPEC ones are 0)",
              ", ".join(extra))
    else:
        check(False, "every name the spec generates is in the uAPI header with its value", "no header")
        check(False, "every name of the uAPI header is in the spec", "no header")

    # 5-8. netlink.c.
    nl = strip_comments(open(netlink_c).read())
    gen = strip_comments(open(gen_c).read()) if os.path.exists(gen_c) else ""
    want_pol = {}
    for body in arrays(gen, "nla_policy").values():
        want_pol.update(policy_entries(body))
    have_pol = {}
    for body in arrays(nl, "nla_policy").values():
        have_pol.update(policy_entries(body))
    check(want_pol and want_pol == have_pol,
          f"netlink.c's nla_policy entries are the spec's request attributes ({len(want_pol)})",
          f"spec {want_pol} netlink.c {have_pol}")

    want_ops = {}
    for body in list(arrays(gen, "genl_split_ops").values()) + list(arrays(gen, "genl_ops").values()):
        for cmd, modes in ops_of(body).items():
            want_ops.setdefault(cmd, set()).update(modes)
    have_ops = {}
    for body in list(arrays(nl, "genl_ops").values()) + list(arrays(nl, "genl_split_ops").values()):
        for cmd, modes in ops_of(body).items():
            have_ops.setdefault(cmd, set()).update(modes)
    check(want_ops and want_ops == have_ops,
          f"netlink.c's genl ops are the spec's commands with their do/dump ({len(want_ops)})",
          f"spec {want_ops} netlink.c {have_ops}")

    want_grp = {}
    if family is not None:
        for g in family.yaml.get("mcast-groups", {}).get("list", []):
            name = g.get("c-define-name", f"{family.name}-mcgrp-{g['name']}").upper().replace("-", "_")
            want_grp[name] = "admin-perm" in g.get("flags", [])
    have_grp = {}
    for body in arrays(nl, "genl_multicast_group").values():
        for item in top_items(body):
            m = re.search(r"\.name\s*=\s*(\w+)", item)
            if m:
                have_grp[m.group(1)] = "GENL_MCAST_CAP_SYS_ADMIN" in item
    check(want_grp and want_grp == have_grp,
          "netlink.c's multicast groups are the spec's (name, CAP_SYS_ADMIN for admin-perm)",
          f"spec {want_grp} netlink.c {have_grp}")

    events = set()
    if family is not None:
        pre = family.yaml["operations"].get("name-prefix", f"{family.name}-")
        events = {(pre + n).upper().replace("-", "_") for n, m in family.msgs.items() if m.is_async}
    emitted = set()
    for d, _, files in os.walk(os.path.join(top, "module")):
        for f in files:
            if f.endswith((".c", ".cpp", ".h")):
                emitted |= set(re.findall(r"\bVFIO_CXX_CMD_\w+",
                                          strip_comments(open(os.path.join(d, f), errors="replace").read())))
    emitted -= set(have_ops) | {"VFIO_CXX_CMD_MAX", "VFIO_CXX_CMD_UNSPEC"}
    check(events and events == emitted,
          f"the commands the module sends besides its ops are the spec's events ({len(events)})",
          f"spec {sorted(events)} module {sorted(emitted)}")

    print("TAP version 13")
    print("# YNL spec Documentation/netlink/specs/vfio_cxx.yaml vs uAPI header and module/kapi/netlink.c")
    for i, (ok, what, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - ynl: {what}")
        if not ok and detail:
            for line in str(detail).splitlines()[:20]:
                print(f"# {line}")
    print(f"1..{len(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
