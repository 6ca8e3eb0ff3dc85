#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The real client in the demo VM: Debian's own QEMU with the edu device
assigned through -device vfio-pci, its container served by vfio_iommu_cxx.

Usage: qemu-demo.py <edu BDF> <vfio-cxx-stat>

QEMU runs a q35 machine whose firmware halts at once (no guest OS); this
script plays the guest through QEMU's qtest protocol (docs/devel/qtest.rst):
it finds the edu on the nested PCI bus, assigns BAR0, enables it, writes a
message into guest RAM and has the device DMA it to its buffer and back to
another guest address, through QEMU's MAP_DMA mappings (IOVA = guest
physical address).  vfio-cxx-stat shows QEMU's container while it runs and
nothing after `quit`.  The same steps are tested by
selftests/vm/qemu_client_test.c.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

BAR0 = 0xE0000000
SRC, DST, BUF = 0x200000, 0x400000, 0x40000


def main():
    sys.stdout.reconfigure(line_buffering=True)
    bdf, stat = sys.argv[1], sys.argv[2]
    d = tempfile.mkdtemp(prefix="qemu-demo.")
    fw = os.path.join(d, "halt.bin")
    with open(fw, "wb") as f:  # 64 KiB; reset vector: cli; hlt; jmp back to the hlt
        img = bytearray(b"\xf4" * 65536)
        img[-16:-12] = b"\xfa\xf4\xeb\xfd"
        f.write(img)
    socks = {}
    for name in ("qtest", "qmp"):
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.path.join(d, name + ".sock"))
        s.listen(1)
        socks[name] = s
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-bios", fw, "-nodefaults", "-display", "none",
           "-m", "128M", "-qtest-log", "/dev/null", "-qtest", "unix:" + os.path.join(d, "qtest.sock"),
           "-chardev", "socket,path=%s,id=qmp0" % os.path.join(d, "qmp.sock"),
           "-mon", "chardev=qmp0,mode=control", "-device",
           "edu" if os.environ.get("QCT_EMULATED") else "vfio-pci,host=%s" % bdf]
    print("$ " + " ".join(cmd))
    qemu = subprocess.Popen(cmd)
    qt = socks["qtest"].accept()[0].makefile("rw")
    qmp = socks["qmp"].accept()[0].makefile("rw")
    qmp.readline()

    def qmp_cmd(j):
        qmp.write(j + "\n")
        qmp.flush()
        while True:
            line = qmp.readline()
            if '"event"' not in line:
                return line

    def q(c):
        qt.write(c + "\n")
        qt.flush()
        while True:
            r = qt.readline().strip()
            if not r.startswith("IRQ"):
                break
        if not r.startswith("OK"):
            raise SystemExit("qtest: %s -> %s" % (c, r))
        return r[3:]

    def cfg(devfn, reg, val=None, width=4):
        q("outl 0xcf8 0x%x" % (0x80000000 | devfn << 8 | (reg & 0xFC)))
        port = 0xCFC + (reg & 2 if width == 2 else 0)
        op = {4: "l", 2: "w"}[width]
        if val is None:
            return int(q("in%s 0x%x" % (op, port)), 0)
        q("out%s 0x%x 0x%x" % (op, port, val))

    qmp_cmd('{"execute": "qmp_capabilities"}')
    print("\n== QEMU (pid %d) is up; its container, as vfio-cxx-stat shows it:" % qemu.pid)
    subprocess.run([stat])
    print("\n   VmLck of QEMU: %s" % next(line.split(":")[1].strip() for line in
                                           open("/proc/%d/status" % qemu.pid) if line.startswith("VmLck")))
    devfn = next(dv << 3 for dv in range(32) if cfg(dv << 3, 0) == 0x11E81234)
    cfg(devfn, 0x10, BAR0)
    cfg(devfn, 0x04, cfg(devfn, 0x04, width=2) | 0x6, width=2)
    print("\n== nested PCI 00:%02x.0 is the edu (ident %s), BAR0 at %#x" %
          (devfn >> 3, q("readl 0x%x" % BAR0), BAR0))

    def dma(src, dst, n, to_ram):
        q("writeq 0x%x 0x%x" % (BAR0 + 0x80, src))
        q("writeq 0x%x 0x%x" % (BAR0 + 0x88, dst))
        q("writeq 0x%x 0x%x" % (BAR0 + 0x90, n))
        q("writel 0x%x 0x%x" % (BAR0 + 0x98, 1 | (2 if to_ram else 0)))
        while int(q("readl 0x%x" % (BAR0 + 0x98)), 0) & 1:
            time.sleep(0.01)

    msg = b"Hello from Debian's QEMU, DMA'd by the assigned edu through vfio_iommu_cxx!"
    q("memset 0x%x 0x%x 0x0" % (DST, 128))
    q("write 0x%x 0x%x 0x%s" % (SRC, len(msg), msg.hex()))
    dma(SRC, BUF, len(msg), False)
    dma(BUF, DST, len(msg), True)
    got = bytes.fromhex(q("read 0x%x 0x%x" % (DST, len(msg)))[2:])
    print("guest RAM %#x (written by qtest): %s" % (SRC, msg.decode()))
    print("guest RAM %#x (written by the device): %s" % (DST, got.decode(errors="replace")))
    print("the bytes %s" % ("match" if got == msg else "DIFFER"))
    qmp_cmd('{"execute": "quit"}')
    qemu.wait(timeout=60)
    print("\n== QEMU quit (exit %d); vfio-cxx-stat now:" % qemu.returncode)
    time.sleep(0.5)
    subprocess.run([stat])
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)
    return 0 if got == msg else 1


if __name__ == "__main__":
    sys.exit(main())
