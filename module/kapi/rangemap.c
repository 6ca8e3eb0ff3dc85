// SPDX-License-Identifier: GPL-2.0
/*
 * kapi: a range map over the kernel's rbtree, ordered by first index, with
 * the nodes embedded in the callers' objects (struct kapi_range_node).
 * The ranges never overlap, so ordering by first is ordering by last, and
 * the lowest range intersecting [first, last] is the leftmost one whose
 * last is >= first, if it starts at or before last.
 *
 * Insert walks by first alone, one comparison a level, and checks the new
 * range against its two neighbours in the order: the last node the walk
 * went right from (the one below) and the last it went left from (the one
 * above); disjoint ranges overlap a new one only there.  A range above
 * every other (MAP_DMA in ascending IOVA order, as QEMU's memory listener
 * and DPDK map at start) goes in as the right child of the rightmost node,
 * with no walk: the map keeps that node, as rb_root_cached keeps the
 * leftmost.  By make bench-insns, at 1024 mappings the walk was 14.5
 * levels of about 10 instructions.
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
	struct kapi_range_node *rightmost; /* the highest range, NULL when empty */
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
	WARN_ON(!RB_EMPTY_ROOT(&m->root) || m->rightmost);
	kfree(m);
}

int kapi_rangemap_insert(struct kapi_rangemap *m, struct kapi_range_node *n, kapi_u64 first,
			 kapi_u64 last, void *entry)
{
	struct rb_node **link = &m->root.rb_node, *parent = NULL;
	struct kapi_range_node *below = NULL, *above = NULL;

	if (WARN_ON(!entry || first > last))
		return -EINVAL;
	if (m->rightmost && first > m->rightmost->last) {
		/* Above every range: the rightmost node has no right child. */
		parent = rbn(m->rightmost);
		link = &parent->rb_right;
	} else {
		while (*link) {
			struct kapi_range_node *cur = rnode(*link);

			parent = *link;
			if (first < cur->first) {
				above = cur;
				link = &parent->rb_left;
			} else {
				below = cur;
				link = &parent->rb_right;
			}
		}
		if ((below && below->last >= first) || (above && above->first <= last))
			return -EEXIST;
	}
	n->first = first;
	n->last = last;
	n->entry = entry;
	if (!above)
		m->rightmost = n;
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

static void rangemap_unlink(struct kapi_rangemap *m, struct kapi_range_node *n)
{
	if (m->rightmost == n) {
		struct rb_node *prev = rb_prev(rbn(n));

		m->rightmost = prev ? rnode(prev) : NULL;
	}
	rb_erase(rbn(n), &m->root);
	RB_CLEAR_NODE(rbn(n));
}

void *kapi_rangemap_erase(struct kapi_rangemap *m, kapi_u64 index)
{
	struct kapi_range_node *n = lowest(m, index, index);

	if (!n)
		return NULL;
	rangemap_unlink(m, n);
	return n->entry;
}

void kapi_rangemap_remove(struct kapi_rangemap *m, struct kapi_range_node *n)
{
	if (WARN_ON_ONCE(RB_EMPTY_NODE(rbn(n))))
		return;
	rangemap_unlink(m, n);
}

void *kapi_rangemap_find(struct kapi_rangemap *m, kapi_u64 first, kapi_u64 last)
{
	struct kapi_range_node *n = lowest(m, first, last);

	return n ? n->entry : NULL;
}
