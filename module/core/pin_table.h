/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PinTable: a mapping's external pin records (ExtPin, dma.h), page index ->
 * non-zero 64-bit record, compact whether the pins are dense or sparse.
 *
 * Why not one xarray of records, as before: an xarray leaf node is 576
 * bytes for 64 slots, so dense pins cost 9 bytes a page but pins one page in
 * 64 apart cost a node each, 576 bytes a page (make bench, "tracking,
 * sparse": 595 B/page of radix_tree_node against type1's 64 B struct
 * vfio_pfn).  Here the kernel's xarray keeps only one pointer per chunk of
 * CHUNK (63) pages, to a leaf sized to the records it holds:
 *
 *   n records   leaf                                 bytes (kmalloc class)
 *   1 .. 31     mask + the records in index order    16, 32, 64, 96, 128,
 *               (a record's slot: the bits of mask     192, 256
 *               below it)
 *   32 .. 63    mask + 63 slots, one per index        512
 *
 * so one isolated pin costs a 16-byte leaf plus 1/64 of an xarray node,
 * and a dense chunk 512 / 63 = 8.1 bytes a page.  63, not 64, is what makes
 * the full leaf, mask included, exactly 512 bytes.  A leaf grows and
 * shrinks with its count (a new leaf of the next class, copied); when the
 * smaller leaf cannot be allocated, the records are compacted in place in
 * the larger one, which always stays at least as large as its count needs.
 * The layout is a function of the count alone, so a leaf needs no header
 * beyond its mask.  The last record of a chunk leaves its 16-byte leaf as
 * the table's one spare, which the next chunk to get a first record takes:
 * a vendor driver that pins and unpins one page at a time allocates
 * nothing after its first pin.
 *
 * Locking: none of its own beyond the xarray's internal lock (kapi).  The
 * owner (the Container, under its lock_) serialises every call; load and
 * find may not race with an update.
 */
#ifndef VFIO_CXX_PIN_TABLE_H
#define VFIO_CXX_PIN_TABLE_H

#include <vfio_cxx/base.h>
#include "../kapi/services.h"

namespace vfio_cxx {

class PinTable {
public:
	static constexpr u64 CHUNK = 63;	/* indices per leaf */
	static constexpr unsigned int DIRECT_MIN = 32; /* records from which a leaf is direct */

	constexpr PinTable() noexcept = default;
	VFIO_CXX_NO_COPY(PinTable);
	~PinTable()
	{
		if (top_ || spare_)
			clear();
	}

	/* The record at idx, 0 if there is none. */
	u64 load(u64 idx) const noexcept;
	/*
	 * The first record at an index in [*idx, last]: stores the index in
	 * *idx and returns the record, or returns 0 if there is none.
	 */
	u64 find(u64 *idx, u64 last) const noexcept;
	/*
	 * Set the record at idx (rec != 0): 0 or -ENOMEM, which leaves the
	 * table as it was.  Replacing a present record never allocates and
	 * never fails.
	 */
	[[nodiscard]] int store(u64 idx, u64 rec) noexcept;
	/*
	 * recs[0..n) at first, first + 1, ...: n, or -ENOMEM with *stored the
	 * records stored before the failure (the first *stored of recs).
	 */
	long store_many(u64 first, const u64 *recs, u64 n, u64 *stored) noexcept;
	/* Remove the record at idx, if any.  Never fails. */
	void erase(u64 idx) noexcept;
	/*
	 * fn(idx, rec) for each record at an index in [first, first + n), in
	 * index order: fn returns the record to keep there (rec or another),
	 * or 0 to remove it.  A chunk's leaf is looked up once and resized once
	 * for all its removals (a vendor driver's unpin of many pages).  fn
	 * must not use the table.  Never fails.
	 */
	void update_range(u64 first, u64 n, FnRef<u64(u64 idx, u64 rec)> fn) noexcept;
	/* Remove every record and free everything. */
	void clear() noexcept;
	bool empty() const noexcept { return !top_ || !has_leaves(); }

	/*
	 * What the leaves take (not the xarray's own nodes): the sum of
	 * leaf_size() of their counts, a walk over them (tests, introspection);
	 * and the spare leaf's bytes.
	 */
	u64 leaf_bytes() const noexcept;
	u64 spare_bytes() const noexcept { return spare_ ? leaf_size(1) : 0; }
	/* The size in bytes of the leaf that holds n records (1 <= n <= CHUNK). */
	static u64 leaf_size(unsigned int n) noexcept;

private:
	struct Leaf;
	bool has_leaves() const noexcept;
	Leaf *leaf_at(u64 chunk) const noexcept;
	Leaf *new_leaf(unsigned int n) noexcept;
	static void free_leaf(Leaf *l) noexcept;
	/* Only the records of mask (a subset of l's) stay in chunk's leaf l. */
	void shrink(u64 chunk, Leaf *l, u64 mask) noexcept;
	/* A chunk's last record went: keep its leaf as the spare, or free it. */
	void drop_last(Leaf *l) noexcept;
	/* Put l in chunk's xarray slot, where old was, and free old. */
	void replace(u64 chunk, Leaf *old, Leaf *l) noexcept;
	/* Put the new leaf l in chunk's slot: where old was (freed), or a new slot. */
	int install(u64 chunk, Leaf *old, Leaf *l) noexcept;

	kapi_xmap *top_ = nullptr; /* chunk -> Leaf *, created on the first store */
	Leaf *spare_ = nullptr;	   /* a 1-record leaf for the next new chunk */
};

} /* namespace vfio_cxx */

#endif
