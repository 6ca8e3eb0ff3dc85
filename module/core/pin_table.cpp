// SPDX-License-Identifier: GPL-2.0
/*
 * PinTable (pin_table.h): chunks of 63 page indices in the kernel's xarray,
 * each pointing at a leaf sized to its records.  Locking: the owner's.
 */
#include "pin_table.h"
#include "bits.h"

#include <vfio_cxx/errno.h>

namespace vfio_cxx {

/*
 * mask: bit b set when index chunk * CHUNK + b has a record.  slot: the
 * records; as many as leaf_size() of the count says were allocated.
 */
struct PinTable::Leaf {
	u64 mask;
	u64 slot[CHUNK];
};
static_assert(sizeof(u64) * (1 + PinTable::CHUNK) == 512, "a direct leaf is 512 bytes");
static_assert(PinTable::CHUNK < 64, "a chunk's mask fits one word");

namespace {

/* The kmalloc classes up to 256 bytes that a compact leaf can use. */
constexpr u64 compact_sizes[] = { 16, 32, 64, 96, 128, 192, 256 };
static_assert(256 / 8 - 1 == PinTable::DIRECT_MIN - 1, "the largest compact leaf holds 31");

bool direct(unsigned int n) { return n >= PinTable::DIRECT_MIN; }

/* Where the record of offset b lives in a leaf of n records with this mask. */
unsigned int pos(u64 mask, unsigned int n, unsigned int b)
{
	return direct(n) ? b : popcount(mask & ((u64(1) << b) - 1));
}

/* The record of offset b (its mask bit set) in a leaf of n records. */
template <class L>
u64 get(const L *l, unsigned int n, unsigned int b)
{
	return l->slot[pos(l->mask, n, b)];
}

/* Offsets [o0, o1] as a mask (o1 < 63). */
u64 span(unsigned int o0, unsigned int o1)
{
	return ((u64(1) << (o1 + 1)) - 1) & ~((u64(1) << o0) - 1);
}

} /* namespace */

u64 PinTable::leaf_size(unsigned int n) noexcept
{
	if (direct(n))
		return sizeof(Leaf);
	for (u64 s : compact_sizes)
		if (s / 8 - 1 >= n)
			return s;
	return sizeof(Leaf); /* not reached */
}

PinTable::Leaf *PinTable::leaf_at(u64 chunk) const noexcept
{
	return top_ ? static_cast<Leaf *>(kapi_xmap_load(top_, chunk)) : nullptr;
}

PinTable::Leaf *PinTable::new_leaf(unsigned int n) noexcept
{
	if (n == 1 && spare_)
		return exchange(spare_, static_cast<Leaf *>(nullptr));
	return static_cast<Leaf *>(kapi_alloc(leaf_size(n)));
}

void PinTable::drop_last(Leaf *l) noexcept
{
	if (spare_)
		free_leaf(l);
	else
		spare_ = l; /* at least leaf_size(1): it held one record */
}

void PinTable::free_leaf(Leaf *l) noexcept
{
	if (l)
		kapi_free(l);
}

void PinTable::replace(u64 chunk, Leaf *old, Leaf *l) noexcept
{
	/* Replacing a present entry neither allocates nor fails. */
	(void)kapi_xmap_store(top_, chunk, l);
	free_leaf(old);
}

/*
 * Fill the fresh leaf dst with the records of dst_mask: those in [o0, o1]
 * from recs (when recs is not null), the others from src.
 */
namespace {
template <class L>
void fill(L *dst, u64 dst_mask, const L *src, unsigned int o0, unsigned int o1, const u64 *recs)
{
	const unsigned int n = popcount(dst_mask);
	const unsigned int n_src = src ? popcount(src->mask) : 0;
	dst->mask = dst_mask;
	for (u64 m = dst_mask; m; m &= m - 1) {
		const unsigned int b = ctz(m);
		const u64 v = recs && b >= o0 && b <= o1 ? recs[b - o0] : get(src, n_src, b);
		dst->slot[pos(dst_mask, n, b)] = v;
	}
}

/* Rewrite l in place for new_mask (a subset of its mask), as a leaf of popcount(new_mask). */
template <class L>
void compact(L *l, u64 new_mask)
{
	const unsigned int n = popcount(l->mask);
	const unsigned int n1 = popcount(new_mask);
	/* Every record moves to a slot at or below its old one: ascending is safe. */
	for (u64 m = new_mask; m; m &= m - 1) {
		const unsigned int b = ctz(m);
		l->slot[pos(new_mask, n1, b)] = l->slot[pos(l->mask, n, b)];
	}
	l->mask = new_mask;
}
} /* namespace */

u64 PinTable::load(u64 idx) const noexcept
{
	const Leaf *l = leaf_at(idx / CHUNK);
	const unsigned int b = idx % CHUNK;
	if (!l || !(l->mask & (u64(1) << b)))
		return 0;
	return get(l, popcount(l->mask), b);
}

/*
 * fn(chunk, leaf, lo, hi) for each chunk with a leaf among those of the
 * indices [first, last], in order, with the leaf's offsets [lo, hi] that
 * lie in the range, until fn returns false.  Not a member: const and
 * non-const callers share it through L.
 */
namespace {
template <class L, class F>
void for_each_leaf(kapi_xmap *top, u64 first, u64 last, F &&fn)
{
	const u64 first_chunk = first / PinTable::CHUNK, last_chunk = last / PinTable::CHUNK;
	unsigned long c = first_chunk;
	while (L *l = static_cast<L *>(kapi_xmap_find(top, &c, last_chunk))) {
		const unsigned int lo = c == first_chunk ? first % PinTable::CHUNK : 0;
		const unsigned int hi = c == last_chunk ? last % PinTable::CHUNK : PinTable::CHUNK - 1;
		if (!fn(c, l, lo, hi) || c == last_chunk)
			break;
		c++;
	}
}
} /* namespace */

u64 PinTable::find(u64 *idx, u64 last) const noexcept
{
	if (!top_ || *idx > last)
		return 0;
	u64 rec = 0;
	for_each_leaf<const Leaf>(top_, *idx, last, [&](u64 c, const Leaf *l, unsigned int lo, unsigned int hi) {
		const u64 m = l->mask & span(lo, hi);
		if (!m)
			return true;
		const unsigned int b = ctz(m);
		*idx = c * CHUNK + b;
		rec = get(l, popcount(l->mask), b);
		return false;
	});
	return rec;
}

/*
 * Set the record of offset b in l, in place.  A new b needs room for one
 * more record: the caller checked that the count's leaf size stays the same.
 */
namespace {
template <class L>
void put_in_place(L *l, unsigned int b, u64 rec)
{
	const unsigned int n = popcount(l->mask);
	const u64 mask = l->mask | (u64(1) << b);
	const unsigned int n1 = mask == l->mask ? n : n + 1;
	const unsigned int p = pos(mask, n1, b);
	if (n1 > n && !direct(n1))
		for (unsigned int k = n; k > p; k--)
			l->slot[k] = l->slot[k - 1]; /* open slot p, in index order */
	l->slot[p] = rec;
	l->mask = mask;
}
} /* namespace */

int PinTable::install(u64 chunk, Leaf *old, Leaf *l) noexcept
{
	if (old) {
		replace(chunk, old, l);
		return 0;
	}
	if (!top_)
		top_ = kapi_xmap_create();
	const int ret = top_ ? kapi_xmap_store(top_, chunk, l) : -err::NOMEM;
	if (ret)
		free_leaf(l);
	return ret;
}

int PinTable::store(u64 idx, u64 rec) noexcept
{
	u64 stored;
	const long ret = store_many(idx, &rec, 1, &stored);
	return ret < 0 ? static_cast<int>(ret) : 0;
}

long PinTable::store_many(u64 first, const u64 *recs, u64 n, u64 *stored) noexcept
{
	u64 i = 0;
	while (i < n) {
		const u64 idx = first + i, chunk = idx / CHUNK;
		const unsigned int o0 = idx % CHUNK;
		const unsigned int o1 = n - i < CHUNK - o0 ? o0 + (n - i) - 1 : CHUNK - 1;
		Leaf *l = leaf_at(chunk);
		const unsigned int n_old = l ? popcount(l->mask) : 0;
		const u64 mask = (l ? l->mask : 0) | span(o0, o1);
		int ret = 0;
		if (l && leaf_size(popcount(mask)) == leaf_size(n_old)) {
			/* Room in this leaf (and the same layout: the size says which). */
			for (unsigned int b = o0; b <= o1; b++)
				put_in_place(l, b, recs[i + b - o0]);
		} else if (Leaf *nl = new_leaf(popcount(mask))) {
			fill(nl, mask, l, o0, o1, recs + i);
			ret = install(chunk, l, nl);
		} else {
			ret = -err::NOMEM;
		}
		if (ret) {
			*stored = i;
			return ret;
		}
		i += o1 - o0 + 1;
	}
	*stored = n;
	return static_cast<long>(n);
}

void PinTable::erase(u64 idx) noexcept
{
	const u64 chunk = idx / CHUNK;
	const unsigned int b = idx % CHUNK;
	Leaf *l = leaf_at(chunk);
	if (l && (l->mask & (u64(1) << b)))
		shrink(chunk, l, l->mask & ~(u64(1) << b));
}

void PinTable::shrink(u64 chunk, Leaf *l, u64 mask) noexcept
{
	const unsigned int n = popcount(l->mask), n1 = popcount(mask);
	if (!n1) {
		kapi_xmap_erase(top_, chunk);
		drop_last(l);
		return;
	}
	if (leaf_size(n1) != leaf_size(n)) {
		if (Leaf *nl = new_leaf(n1)) {
			fill(nl, mask, l, 1, 0, nullptr);
			replace(chunk, l, nl);
			return;
		}
		/* No memory for the smaller leaf: this one is large enough for less. */
	}
	compact(l, mask);
}

void PinTable::update_range(u64 first, u64 n, FnRef<u64(u64 idx, u64 rec)> fn) noexcept
{
	if (!top_ || !n)
		return;
	for_each_leaf<Leaf>(top_, first, first + n - 1, [&](u64 c, Leaf *l, unsigned int lo, unsigned int hi) {
		const unsigned int cnt = popcount(l->mask);
		u64 gone = 0;
		/* Positions from the unchanged mask: removals are applied after. */
		for (u64 m = l->mask & span(lo, hi); m; m &= m - 1) {
			const unsigned int b = ctz(m);
			u64 &slot = l->slot[pos(l->mask, cnt, b)];
			const u64 rec = fn(c * CHUNK + b, slot);
			if (rec)
				slot = rec;
			else
				gone |= u64(1) << b;
		}
		if (gone)
			shrink(c, l, l->mask & ~gone);
		return true;
	});
}

void PinTable::clear() noexcept
{
	free_leaf(exchange(spare_, static_cast<Leaf *>(nullptr)));
	if (!top_)
		return;
	unsigned long c = 0;
	while (Leaf *l = static_cast<Leaf *>(kapi_xmap_find(top_, &c, ~0UL))) {
		kapi_xmap_erase(top_, c);
		free_leaf(l);
		c++;
	}
	kapi_xmap_destroy(top_);
	top_ = nullptr;
}

u64 PinTable::leaf_bytes() const noexcept
{
	u64 bytes = 0;
	unsigned long c = 0;
	while (top_) {
		const Leaf *l = static_cast<const Leaf *>(kapi_xmap_find(top_, &c, ~0UL));
		if (!l)
			break;
		bytes += leaf_size(popcount(l->mask));
		c++;
	}
	return bytes;
}

bool PinTable::has_leaves() const noexcept
{
	unsigned long c = 0;
	return kapi_xmap_find(top_, &c, ~0UL) != nullptr;
}

} /* namespace vfio_cxx */
