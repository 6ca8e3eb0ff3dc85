/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pin_user_pages_remote(mm, start, n, flags, pages, locked): no vmas
 * argument, and FOLL_LONGTERM may drop the mmap lock (else seven
 * arguments): mm.c
 */
#include <linux/mm.h>

long vfio_cxx_probe(struct mm_struct *mm, struct page **pages, int *locked)
{
	return pin_user_pages_remote(mm, 0, 1, FOLL_WRITE | FOLL_LONGTERM, pages, locked);
}
