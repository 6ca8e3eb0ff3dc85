/* SPDX-License-Identifier: GPL-2.0 */
/* Between kapi's C files only (never seen by the C++ core). */
#ifndef VFIO_CXX_KAPI_INTERNAL_H
#define VFIO_CXX_KAPI_INTERNAL_H

int kapi_mm_init(void);
void kapi_mm_exit(void);

#endif
