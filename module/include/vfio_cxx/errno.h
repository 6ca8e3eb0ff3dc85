/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Errno values used by the core.  These are the kernel's ABI numbers
 * (asm-generic/errno-base.h and errno.h, identical on x86); the core cannot
 * include those headers, so module/kapi/abi_check.c asserts every value here
 * against the kernel's own at compile time.
 *
 * Locking: none (constants).
 */
#ifndef VFIO_CXX_ERRNO_H
#define VFIO_CXX_ERRNO_H

namespace vfio_cxx::err {
constexpr int PERM = 1;
constexpr int NOENT = 2;
constexpr int SRCH = 3;
constexpr int INTR = 4;
constexpr int NXIO = 6;
constexpr int NOMEM = 12;
constexpr int ACCES = 13;
constexpr int FAULT = 14;
constexpr int BUSY = 16;
constexpr int EXIST = 17;
constexpr int NODEV = 19;
constexpr int INVAL = 22;
constexpr int NOSPC = 28;
constexpr int NOTTY = 25;
constexpr int OVERFLOW = 75;
constexpr int OPNOTSUPP = 95;
} /* namespace vfio_cxx::err */

#endif
