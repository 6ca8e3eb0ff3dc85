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
