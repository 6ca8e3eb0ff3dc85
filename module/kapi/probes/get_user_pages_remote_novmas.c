/* SPDX-License-Identifier: GPL-2.0 */
/* get_user_pages_remote(mm, start, n, flags, pages, locked) (else with vmas): mm.c */
#include <linux/mm.h>

long vfio_cxx_probe(struct mm_struct *mm, struct page **pages)
{
	return get_user_pages_remote(mm, 0, 1, FOLL_FORCE, pages, NULL);
}
