/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between kapi's C files only (never seen by the C++ core).  Locking: the
 * init and exit functions run from module init and exit only.
 */
#ifndef VFIO_CXX_KAPI_INTERNAL_H
#define VFIO_CXX_KAPI_INTERNAL_H

/*
 * base.c: the registry mutex, the mm id key and the object caches; before
 * anything else (0 or -ENOMEM), and kapi_base_exit after everything else.
 */
int kapi_base_init(void);
void kapi_base_exit(void);
int kapi_mm_init(void);
/* netlink.c: the vfio_cxx generic netlink family. */
int kapi_netlink_init(void);
void kapi_netlink_exit(void);
void kapi_mm_exit(void);

#endif
