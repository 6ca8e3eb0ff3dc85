// SPDX-License-Identifier: GPL-2.0
/*
 * kapi: a range map over the kernel's rbtree, ordered by first index, with
 * the nodes embedded in the callers' objects (struct kapi_range_node).
 * The ranges never overlap, so ordering by first is ordering by last, and
 * the lowest range intersecting [first, last] is the leftmost one whose
 * last is >= first, if it starts at or before last.
 *
 * Locking: none; its owner (core/dma_set.h) serialises every call under the
 * container's lock_.
 */
#include <linux/build_bug.h>
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "services.h"

static_assert(sizeof(((struct kapi_range_node *)0)->rb) >= sizeof(struct rb_node));
static_assert(__alignof__(struct kapi_range_node) >= __alignof__(struct rb_node));

struct kapi_rangemap {
	struct rb_root root;
};

static struct rb_node *rbn(struct kapi_range_node *n)
{
	return (struct rb_node *)n->rb;
}

static struct kapi_range_node *rnode(struct rb_node *rb)
{
	return (struct kapi_range_node *)((char *)rb - offsetof(struct kapi_range_node, rb));
}

struct kapi_rangemap *kapi_rangemap_create(void)
{
	struct kapi_rangemap *m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);

	if (m)
		m->root = RB_ROOT;
	return m;
}

void kapi_rangemap_destroy(struct kapi_rangemap *m)
{
	WARN_ON(!RB_EMPTY_ROOT(&m->root));
	kfree(m);
}

int kapi_rangemap_insert(struct kapi_rangemap *m, struct kapi_range_node *n, kapi_u64 first,
			 kapi_u64 last, void *entry)
{
	struct rb_node **link = &m->root.rb_node, *parent = NULL;

	if (WARN_ON(!entry || first > last))
		return -EINVAL;
	while (*link) {
		struct kapi_range_node *cur = rnode(*link);

		parent = *link;
		if (last < cur->first)
			link = &parent->rb_left;
		else if (first > cur->last)
			link = &parent->rb_right;
		else
			return -EEXIST;
	}
	n->first = first;
	n->last = last;
	n->entry = entry;
	rb_link_node(rbn(n), parent, link);
	rb_insert_color(rbn(n), &m->root);
	return 0;
}

static struct kapi_range_node *lowest(struct kapi_rangemap *m, kapi_u64 first, kapi_u64 last)
{
	struct rb_node *node = m->root.rb_node;
	struct kapi_range_node *res = NULL;

	while (node) {
		struct kapi_range_node *cur = rnode(node);

		if (cur->last >= first) {
			res = cur;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return res && res->first <= last ? res : NULL;
}

void *kapi_rangemap_erase(struct kapi_rangemap *m, kapi_u64 index)
{
	struct kapi_range_node *n = lowest(m, index, index);

	if (!n)
		return NULL;
	rb_erase(rbn(n), &m->root);
	RB_CLEAR_NODE(rbn(n));
	return n->entry;
}

void kapi_rangemap_remove(struct kapi_rangemap *m, struct kapi_range_node *n)
{
	if (WARN_ON_ONCE(RB_EMPTY_NODE(rbn(n))))
		return;
	rb_erase(rbn(n), &m->root);
	RB_CLEAR_NODE(rbn(n));
}

void *kapi_rangemap_find(struct kapi_rangemap *m, kapi_u64 first, kapi_u64 last)
{
	struct kapi_range_node *n = lowest(m, first, last);

	return n ? n->entry : NULL;
}
