# SPDX-License-Identifier: GPL-2.0
# Prints the lines of a kernel log that fail a VM run: WARN, BUG, oops,
# KASAN, UBSAN, lockdep, RCU and kmemleak reports, and any other stack dump
# (Call Trace).  Between the markers that fail_nth_test.c writes to
# /dev/kmsg ("vfio_cxx fail_nth: begin ..." and "... end ...") faults are
# injected on purpose, and the kernel dumps the stack of some failed
# allocations (warn_alloc: "page allocation failure", "vmalloc error"):
# there a bare Call Trace is expected, and only the reports themselves fail.
#   awk -f dmesg-bad.awk dmesg.txt
/vfio_cxx fail_nth: begin/ { inject = 1; next }
/vfio_cxx fail_nth: end/ { inject = 0; next }
/WARNING:|BUG:|Oops|general protection fault|KASAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|kmemleak: .*suspected memory leak/ { print; next }
!inject && /Call Trace:/ { print }
