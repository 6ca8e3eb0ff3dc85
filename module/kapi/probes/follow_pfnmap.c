/* SPDX-License-Identifier: GPL-2.0 */
/* follow_pfnmap_start()/_end() (else follow_pte()): mm.c */
#include <linux/mm.h>

int vfio_cxx_probe(struct vm_area_struct *vma)
{
	struct follow_pfnmap_args args = { .vma = vma, .address = 0 };
	int ret = follow_pfnmap_start(&args);

	if (!ret)
		follow_pfnmap_end(&args);
	return ret ? ret : (int)args.pfn;
}
