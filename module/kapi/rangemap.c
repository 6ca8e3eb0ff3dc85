// SPDX-License-Identifier: GPL-2.0
/* kapi: a range map over the kernel's maple tree. */
#include <linux/maple_tree.h>
#include <linux/slab.h>

#include "kapi.h"

struct kapi_rangemap {
	struct maple_tree mt;
};

struct kapi_rangemap *kapi_rangemap_create(void)
{
	struct kapi_rangemap *m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);

	if (m)
		mt_init(&m->mt);
	return m;
}

void kapi_rangemap_destroy(struct kapi_rangemap *m)
{
	WARN_ON(!mtree_empty(&m->mt));
	mtree_destroy(&m->mt);
	kfree(m);
}

int kapi_rangemap_insert(struct kapi_rangemap *m, kapi_u64 first, kapi_u64 last, void *entry)
{
	if (WARN_ON(!entry || first > last))
		return -EINVAL;
	/*
	 * A store of the whole index space is a new root for the maple tree
	 * (6.12: mas_wr_store_type() -> wr_new_root), and mas_insert() looks
	 * for existing entries only for the other store types, so
	 * mtree_insert_range() would replace the whole tree and return 0.
	 * Every entry overlaps that range.  Callers serialize updates of a
	 * map (kapi.h), so the check and the insert cannot be split by one.
	 * KUnit: rangemap_full_range_over_existing.
	 */
	if (first == 0 && last == ULONG_MAX && !mtree_empty(&m->mt))
		return -EEXIST;
	return mtree_insert_range(&m->mt, first, last, entry, GFP_KERNEL_ACCOUNT);
}

void *kapi_rangemap_erase(struct kapi_rangemap *m, kapi_u64 index)
{
	return mtree_erase(&m->mt, index);
}

void *kapi_rangemap_find(struct kapi_rangemap *m, kapi_u64 first, kapi_u64 last)
{
	unsigned long index = first;

	return mt_find(&m->mt, &index, last);
}
