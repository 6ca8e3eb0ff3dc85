#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build-lane checks on a built vfio_iommu_cxx.ko and its C++ objects.

Usage: check-module-objects.py [--start N] <module-dir> <kernel-build-dir> <build-log>

Prints TAP test lines numbered from N (default 1; with --start, no header or
plan, for embedding in a larger stream).  Checks:
  1. no object has exception, RTTI or static-constructor artefacts
     (.eh_frame, .gcc_except_table, .init_array, .ctors, .fini_array, .dtors,
     _ZTI/_ZTS typeinfo symbols);
  2. no object references C++ runtime symbols other than those
     module/core/runtime.cpp defines (__cxa_*, _Unwind_*, __gxx_personality*,
     std::, __dso_handle);
  3. every undefined symbol of the .ko is exported by the target kernel
     (its Module.symvers);
  4. objtool ran and reported nothing (the build log has no objtool line),
     and ORC unwind data covers every function of the .ko, C++ ones included;
  5. C++ code was built with the kernel's mitigations: no bare 'ret' (all
     returns go through __x86_return_thunk), no indirect call or jump that
     bypasses the retpoline thunks;
  6. on kernels whose headers ship vmlinux, the .ko carries .BTF (and
     .BTF.base where the kernel makes module BTF over a distilled base);
  7. on CONFIG_UBSAN kernels, the C++ objects are instrumented too.
"""
import os
import re
import subprocess
import sys

args = sys.argv[1:]
start = 1
embedded = False
if args[:1] == ["--start"]:
    start, embedded, args = int(args[1]), True, args[2:]
mod_dir, kdir, build_log = args[:3]
ko = os.path.join(mod_dir, "vfio_iommu_cxx.ko")
# The objects the module was linked from, as Kbuild recorded them in its .mod
# file: not whatever .o files the directory holds (a stale one from another
# object list, e.g. before the core became one unit, module/core/unity.cpp).
with open(os.path.join(mod_dir, "vfio_iommu_cxx.mod")) as f:
    linked = [p if os.path.isabs(p) else os.path.join(mod_dir, p) for p in f.read().split()]
cxx_objs = sorted(p for p in linked if "/module/core/" in p)
all_objs = sorted(linked) + [ko]

results = []


def check(name, problems):
    results.append((name, problems))


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def sections(path):
    out = run("readelf", "-SW", path)
    return re.findall(r"^\s*\[\s*\d+\]\s+(\S+)", out, re.M)


def symbols(path):
    """(value, size, type, bind, ndx, name) of every symbol."""
    rows = []
    for line in run("readelf", "-sW", path).splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].endswith(":") and f[0][:-1].isdigit():
            rows.append((int(f[1], 16), int(f[2], 0), f[3], f[4], f[6], f[7]))
    return rows


# 1. exception / RTTI / constructor artefacts
bad_sections = {".eh_frame", ".rela.eh_frame", ".gcc_except_table", ".init_array",
                ".rela.init_array", ".ctors", ".fini_array", ".dtors"}
kasan_ctor_sections = {".init_array", ".rela.init_array", ".fini_array", ".rela.fini_array"}


def kasan_ctor_only(path, n=1):
    """On a KASAN kernel (the debug kernel) an instrumented C object has one
    constructor and one destructor, KASAN's global (un)registration, which
    the module loader runs (CONFIG_CONSTRUCTORS=y).  Allowed when the object
    calls __asan_register_globals and each array has n entries at most (1
    per object; the .ko: one per instrumented object)."""
    if not any(n_ == "__asan_register_globals" and ndx == "UND"
               for *_, ndx, n_ in symbols(path)):
        return False
    relocs = run("readelf", "-rW", path)
    for a in ("init_array", "fini_array"):
        m = re.search(rf"'\.rela\.{a}' at offset \S+ contains (\d+) entr", relocs)
        if m and int(m.group(1)) > n:
            return False
    return True


problems = []
n_kasan = 0
for o in all_objs:
    kasan_ok = kasan_ctor_only(o, n_kasan if o == ko else 1)
    n_kasan += kasan_ok
    for s in sections(o):
        if kasan_ok and s in kasan_ctor_sections:
            continue
        if s in bad_sections or s.startswith(".gcc_except_table"):
            problems.append(f"{o}: section {s}")
    for *_, name in symbols(o):
        if name.startswith(("_ZTI", "_ZTS")):
            problems.append(f"{o}: typeinfo symbol {name}")
check("no .eh_frame/.gcc_except_table/.init_array/.ctors sections or typeinfo", problems)

# 2. C++ runtime references
provided = {name for _v, _s, _t, _b, ndx, name in symbols(os.path.join(mod_dir, "module/core/runtime.o"))
            if ndx != "UND" and name}
problems = []
for o in all_objs:
    for _v, _s, _t, _b, ndx, name in symbols(o):
        if ndx != "UND" or not name:
            continue
        if (name.startswith(("__cxa_", "_Unwind_", "__gxx_personality", "_ZSt", "_ZNSt"))
                or name == "__dso_handle") and name not in provided:
            problems.append(f"{o}: references {name}")
check("no C++ runtime references beyond the module's own runtime", problems)

# 3. undefined symbols of the .ko are exported by the kernel
exported = set()
with open(os.path.join(kdir, "Module.symvers")) as f:
    for line in f:
        parts = line.split("\t")
        if len(parts) >= 2:
            exported.add(parts[1])
problems = []
for _v, _s, _t, _b, ndx, name in symbols(ko):
    if ndx == "UND" and name and name not in exported:
        problems.append(f"undefined and not exported by the kernel: {name}")
check(f"every undefined symbol is exported by {os.path.basename(os.path.realpath(kdir))}", problems)

# 4. objtool: silent, and ORC data for every function
problems = []
with open(build_log, errors="replace") as f:
    for line in f:
        if "objtool" in line:
            problems.append(line.rstrip())
if ".orc_unwind_ip" not in sections(ko):
    problems.append("no .orc_unwind_ip section: objtool did not run")
else:
    secs = sections(ko)
    orc = {}
    for line in run("readelf", "-rW", ko).split("\n\n"):
        if "'.rela.orc_unwind_ip'" not in line:
            continue
        for m in re.finditer(r"^\S+\s+\S+\s+\S+\s+\S+\s+(\S+)\s+\+\s*([0-9a-f]+)", line, re.M):
            orc.setdefault(m.group(1), []).append(int(m.group(2), 16))
    sym_section = {}
    for v, s, t, b, ndx, name in symbols(ko):
        if t == "SECTION" and ndx.isdigit():
            sym_section[int(ndx)] = secs[int(ndx)]
    nfunc = 0
    for v, s, t, b, ndx, name in symbols(ko):
        if t != "FUNC" or not ndx.isdigit() or s == 0:
            continue
        nfunc += 1
        sec = secs[int(ndx)]
        offs = orc.get(sec, [])
        # The unwinder uses the nearest entry at or below an address: the
        # function is covered if its section has an entry before its end.
        if not any(off < v + s for off in offs):
            problems.append(f"function {name} ({sec}) has no ORC data")
    if nfunc == 0:
        problems.append("no functions found")
check("objtool reported nothing and ORC unwind data covers every function", problems)

# 5. mitigations in C++ code
problems = []
for o in cxx_objs:
    dis = run("objdump", "-dr", "--no-show-raw-insn", o)
    for line in dis.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if not m:
            continue
        insn, ops = m.group(2), m.group(3)
        if insn in ("ret", "retq"):
            problems.append(f"{o}: bare ret at {m.group(1)}")
        if insn in ("call", "callq", "jmp", "jmpq") and ops.startswith("*"):
            problems.append(f"{o}: indirect {insn} {ops} at {m.group(1)}")
if not cxx_objs:
    problems.append("no C++ objects found")
check("C++ objects use the return thunk and retpolines (no bare ret or indirect branch)", problems)

# 6. BTF
problems = []
if os.path.exists(os.path.join(kdir, "vmlinux")):
    secs = sections(ko)
    if ".BTF" not in secs:
        problems.append("kernel ships vmlinux but the .ko has no .BTF")
    # The kernel's own flags make module BTF relative to a distilled base
    # (.BTF.base, pahole >= 1.28 and a Makefile.btf that asks for it): ours
    # must keep it (scripts/pahole-cxx adds to the kernel's flags).
    distilled = False
    try:
        conf = open(os.path.join(kdir, "include/config/auto.conf")).read()
        m = re.search(r"^CONFIG_PAHOLE_VERSION=(\d+)", conf, re.M)
        srcs = [kdir]
        mk = open(os.path.join(kdir, "Makefile")).read()
        srcs += [os.path.dirname(x) for x in re.findall(r"^include (\S+)/?Makefile", mk, re.M)]
        srcs = [x if x.endswith("/") else x + "/" for x in srcs]
        btf_mk = [os.path.join(x, "scripts/Makefile.btf") for x in srcs]
        asks = any(os.path.exists(f) and "distill" in open(f).read() for f in btf_mk)
        distilled = bool(m) and int(m.group(1)) >= 128 and asks
    except OSError:
        pass
    if distilled and ".BTF.base" not in secs:
        problems.append("the kernel's modules have a distilled BTF base, the .ko has no .BTF.base")
    label = "the .ko has BTF (C units; C++ excluded from pahole)" + (", with its distilled base" if distilled else "")
else:
    label = "BTF: # SKIP kernel headers ship no vmlinux, Kbuild skips module BTF"
check(label, problems)

# 7. UBSAN: on a CONFIG_UBSAN kernel (Debian's 7.x) Kbuild instruments the
# C objects; the C++ rule must give the C++ objects the same checks.
problems = []
try:
    ubsan = re.search(r"^CONFIG_UBSAN=y", open(os.path.join(kdir, "include/config/auto.conf")).read(), re.M)
except OSError:
    ubsan = None
if ubsan:
    calls = [o for o in cxx_objs
             if "__ubsan_handle_" in subprocess.run(["nm", "-u", o], capture_output=True, text=True).stdout]
    if not calls:
        problems.append("the kernel has CONFIG_UBSAN but no C++ object calls an __ubsan_handle_* reporter")
    label = f"C++ objects are UBSAN-instrumented as the C ones ({len(calls)} of {len(cxx_objs)} call a reporter)"
else:
    label = "UBSAN: # SKIP the kernel has no CONFIG_UBSAN"
check(label, problems)

# 8. Type1's wrap errno (scripts/kconf.sh part 3): read from the target's
# own type1 (its module's code, or its source), never the fallback, and the
# .ko says the same as the generated header.
problems = []
what = "?"
try:
    hdr = open(os.path.join(mod_dir, "generated/vfio_cxx_kconf.h")).read()
    m = re.search(r'^#define VFIO_CXX_TYPE1_WRAP_NAME "(\w+)"', hdr, re.M)
    pm = re.search(r'^#define VFIO_CXX_TYPE1_WRAP_PROOF "(.*)"', hdr, re.M)
    if not m or not pm:
        problems.append("generated/vfio_cxx_kconf.h has no VFIO_CXX_TYPE1_WRAP_NAME/PROOF")
    else:
        what = f"-{m.group(1)} from {pm.group(1)}"
        if not (pm.group(1).startswith("code of ") or pm.group(1).startswith("source ")):
            problems.append(f"not read from the kernel's type1: {pm.group(1)}")
        mi = subprocess.run(["modinfo", "-F", "vfio_cxx_type1_wrap", ko], capture_output=True, text=True).stdout.strip()
        if mi != f"-{m.group(1)} ({pm.group(1)})":
            problems.append(f"modinfo -F vfio_cxx_type1_wrap says '{mi}'")
except OSError as e:
    problems.append(str(e))
check(f"type1's errno for a wrapping range read from the kernel's type1: {what}", problems)

# 9. No section group (COMDAT) in the module: the kernel's module linker
# script cannot merge a grouped __patchable_function_entries with the rest,
# so the .ko gets two sections of that name and the load fails on a
# duplicate sysfs file (seen with g++-14 on 6.12+deb13, where a C++
# template instance of vague linkage came out in a group).
problems = []
out = run("readelf", "-gW", ko)
groups = re.findall(r"^COMDAT group section \[\s*\d+\] `\.group' \[([^\]]+)\]", out, re.M)
problems += [f"COMDAT group {g}" for g in groups]
names = [n for n in sections(ko) if n == "__patchable_function_entries"]
if len(names) > 1:
    problems.append(f"{len(names)} __patchable_function_entries sections")
check("no COMDAT section group in the module, one __patchable_function_entries at most", problems)

if not embedded:
    print("TAP version 13")
    print(f"1..{len(results)}")
failed = 0
for i, (name, probs) in enumerate(results, start):
    for p in probs[:20]:
        print(f"# {p}")
    if probs:
        failed += 1
        print(f"not ok {i} - {name}")
    else:
        print(f"ok {i} - {name}")
sys.exit(1 if failed else 0)
