/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What both sides of the kapi boundary share: builtin types only, no kernel
 * header.  services.h (kernel services, called by the core) and
 * ../core/entry.h (the core's entry points, called by kapi) include it.
 *
 * Locking: none (types only).
 */
#ifndef VFIO_CXX_KAPI_TYPES_H
#define VFIO_CXX_KAPI_TYPES_H

/*
 * KAPI_ENTRY marks the core's entry points (core/entry.h, core/netlink.h):
 * the C++ functions the C side calls.  The core is compiled as one unit
 * with -fwhole-program (Kbuild, core/unity.cpp), which makes every other
 * function of the unit local; these stay visible to the link.
 */
#define KAPI_ENTRY __attribute__((externally_visible))

#ifdef __cplusplus
#define KAPI_NOEXCEPT noexcept
#define KAPI_BEGIN_DECLS extern "C" {
#define KAPI_END_DECLS }
#else
#define KAPI_NOEXCEPT
#define KAPI_BEGIN_DECLS
#define KAPI_END_DECLS
#endif

typedef unsigned long long kapi_u64;

#endif
