// SPDX-License-Identifier: GPL-2.0
/*
 * The mdev ("external", seed 001 R11) side of a container: pin_pages,
 * unpin_pages and dma_rw for emulated devices, and the devices to tell
 * about unmaps.  Behaviour numbers refer to
 * Documentation/requirements.rst.
 *
 * Each Dma keeps its externally pinned pages as ExtPin records in a
 * PinTable keyed by page offset (R5: compact, per mapping, keyed by IOVA;
 * pin_table.h: dense or sparse).
 * Accounting: without an IOMMU domain each page gets one charge when its
 * record is created (B21); with one, the IOMMU mapping already pinned and
 * charged the whole range and a record only borrows that pin (B2, B22).
 */
#include "container.h"
#include "registry.h"
#include "accounting.h"
#include "pinning.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

namespace {
u64 min_u64(u64 a, u64 b) { return a < b ? a : b; }
} /* namespace */

/* ---- records ------------------------------------------------------------- */

/* Give n pages of d's charge back, unless the unmap under way does it once. */
void Container::give_back(Dma &d, u64 npages) noexcept
{
	lock_.assert_held();
	if (!npages || d.unmapping)
		return;
	uncharge(d.mm(), npages);
	sub_locked(d, npages);
}

/*
 * Drop record e at idx completely.  Returns the pages whose charge the
 * caller must give back (1 if the record held a charged pin).
 */
u64 Container::ext_drop(Dma &d, u64 idx, ExtPin e) noexcept
{
	lock_.assert_held();
	d.ext.erase(idx);
	d.ext_pages--;
	sum_.external_pages.dec();
	if (!e.holds_pin())
		return 0;
	kapi_unpin_pages(e.pfn(), 1, (d.prot & KAPI_IOMMU_WRITE) != 0);
	d.ext_owned--;
	/* With an IOMMU mapping an own pin is an uncharged extra (ext_adopt). */
	return d.charges_external() ? 1 : 0;
}

/* One unpin of each page in [idx, idx + n); returns pages to give back. */
u64 Container::ext_unpin(Dma &d, u64 idx, u64 n) noexcept
{
	lock_.assert_held();
	u64 unc = 0;
	if (!d.ext_pages)
		return 0;
	for (u64 i = idx; i < idx + n; i++) {
		ExtPin e(d.ext.load(i));
		if (!e.present())
			continue; /* never pinned: ignored (B18) */
		if (e.refs() > 1)
			(void)d.ext.store(i, e.with_refs(e.refs() - 1).raw());
		else
			unc += ext_drop(d, i, e);
	}
	return unc;
}

/* Every record of d, whatever its pin count (R9); returns pages to give back. */
u64 Container::ext_release_all(Dma &d) noexcept
{
	lock_.assert_held();
	u64 unc = 0;
	u64 idx = 0;
	while (d.ext_pages) {
		ExtPin e(d.ext.find(&idx, ~0UL));
		if (!e.present()) {
			/* Recover: the count is what is wrong; nothing is left to drop. */
			VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: external record count out of step");
			sum_.external_pages.sub(d.ext_pages);
			d.ext_pages = 0;
			d.ext_owned = 0;
			break;
		}
		unc += ext_drop(d, idx, e);
	}
	return unc;
}

/*
 * A fresh IOMMU mapping of d now pins every page: records that held their
 * own pin of the same page let it go and borrow the mapping's (a page is
 * pinned once).  A record whose page is not the one the mapping pinned (the
 * user replaced the memory under a live pin) keeps its own pin, uncharged.
 */
void Container::ext_adopt(Dma &d) noexcept
{
	lock_.assert_held();
	if (!d.ext_owned)
		return;
	kapi_domain *dom = domains_.front()->raw();
	const int dirty = (d.prot & KAPI_IOMMU_WRITE) != 0;
	u64 idx = 0;
	for (;;) {
		ExtPin e(d.ext.find(&idx, ~0UL));
		if (!e.present())
			break;
		if (e.holds_pin() &&
		    kapi_domain_iova_to_phys(dom, d.iova + (u64(idx) << abi::PAGE_SHIFT)) >>
				    abi::PAGE_SHIFT == e.pfn()) {
			kapi_unpin_pages(e.pfn(), 1, dirty);
			(void)d.ext.store(idx, e.with_own(false).raw());
			d.ext_owned--;
		}
		if (idx == ~0UL)
			break;
		idx++;
	}
}

/* With an IOMMU mapping: record the mapped page at idx, borrowing its pin. */
int Container::ext_borrow(Dma &d, u64 idx, u64 *pfn) noexcept
{
	lock_.assert_held();
	const u64 iova = d.iova + (idx << abi::PAGE_SHIFT);
	const u64 pa = kapi_domain_iova_to_phys(domains_.front()->raw(), iova);
	if (!pa) {
		VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: iova 0x%llx of a live mapping is not in its domain\n",
				   iova);
		return -err::FAULT;
	}
	const u64 p = pa >> abi::PAGE_SHIFT;
	const int kind = kapi_pfn_kind(p);
	/* No struct page (MMIO): nothing a vendor driver can use (as type1). */
	if (kind == KAPI_PFN_INVALID || p > ExtPin::PFN_MASK)
		return -err::INVAL;
	int ret = d.ext.store(idx, ExtPin::make(p, false, kind != KAPI_PFN_PAGE).raw());
	if (ret)
		return ret;
	d.ext_pages++;
	sum_.external_pages.inc();
	*pfn = p;
	return 0;
}

/*
 * Without an IOMMU mapping: pin up to n absent pages from idx in the owner
 * mm (never current's, B16), charge them in one update and record them.
 * *recorded says how many were recorded, also on error (the caller undoes
 * them); what was pinned but not recorded is released here (B19).
 */
int Container::ext_gup(Dma &d, u64 idx, u64 n, u64 *pfns, u64 *recorded) noexcept
{
	lock_.assert_held();
	*recorded = 0;
	const long got = pin_batch(d.mm(), d.vaddr + (idx << abi::PAGE_SHIFT), n,
				   (d.prot & KAPI_IOMMU_WRITE) != 0, pfns);
	if (got < 0)
		return static_cast<int>(got);
	/* What is not recorded is unpinned when the batch goes (B19). */
	PinBatch batch(pfns, static_cast<u64>(got));
	const u64 cnt = batch.size();

	u64 to_charge = 0;
	for (u64 k = 0; k < cnt; k++) {
		const u64 p = pfns[k] & ~KAPI_PFN_RESERVED;
		if (!(pfns[k] & KAPI_PFN_RESERVED) && d.charges_external())
			to_charge++;
		else if (kapi_pfn_kind(p) == KAPI_PFN_INVALID)
			return -err::INVAL; /* MMIO: no page to hand out (as type1) */
		if (p > ExtPin::PFN_MASK)
			return -err::INVAL;
	}
	/* B23, R13: the limit of the mapping's owner, only when charging. */
	LockedVmCharge charge(d.mm(), d.lock_cap, d.limit);
	int ret = charge.charge(to_charge);
	if (ret == -err::NOMEM)
		Registry::memlock_denied(*this, to_charge, d.limit);
	if (ret)
		return ret;
	/* Record them CHUNK at a time (a PinTable leaf's worth). */
	constexpr u64 CHUNK = PinTable::CHUNK;
	u64 rec[CHUNK];
	u64 k = 0, owned = 0;
	while (k < cnt && !ret) {
		const u64 m = min_u64(CHUNK, cnt - k);
		for (u64 j = 0; j < m; j++)
			rec[j] = ExtPin::make(pfns[k + j] & ~KAPI_PFN_RESERVED, true,
					      (pfns[k + j] & KAPI_PFN_RESERVED) != 0)
					 .raw();
		u64 stored = 0;
		const long r = d.ext.store_many(idx + k, rec, m, &stored);
		if (r < 0)
			ret = static_cast<int>(r);
		for (u64 j = 0; j < stored; j++, k++) {
			const bool rsvd = pfns[k] & KAPI_PFN_RESERVED;
			pfns[k] &= ~KAPI_PFN_RESERVED;
			d.ext_pages++;
			d.ext_owned += !rsvd;
			owned += !rsvd;
		}
		batch.consume(k);
		sum_.external_pages.add(stored);
	}
	*recorded = k;
	/* The recorded pins keep their charge; the others' is given back. */
	add_locked(d, charge.commit(d.charges_external() ? owned : 0));
	return ret;
}

/*
 * Pin n pages of d from iova, all or nothing: one more pin on each page
 * already recorded (B17), a borrowed pin with an IOMMU mapping, GUP in
 * batches without one.
 */
int Container::ext_pin(Dma &d, u64 iova, u64 n, u64 *pfns) noexcept
{
	lock_.assert_held();
	const u64 base = (iova - d.iova) >> abi::PAGE_SHIFT;
	u64 done = 0;
	int ret = 0;
	while (done < n && !ret) {
		const u64 idx = base + done;
		ExtPin e(d.ext.load(idx));
		if (e.present()) {
			if (e.refs() == ExtPin::REF_MAX) {
				ret = -err::NOSPC;
				break;
			}
			(void)d.ext.store(idx, e.with_refs(e.refs() + 1).raw());
			pfns[done++] = e.pfn();
		} else if (d.iommu_mapped) {
			ret = ext_borrow(d, idx, &pfns[done]);
			if (!ret)
				done++;
		} else {
			/* The absent pages from idx on: one search, not a load each. */
			const u64 limit = min_u64(n - done, KAPI_PIN_BATCH);
			u64 m = limit;
			u64 next = idx + 1;
			if (limit > 1 && ExtPin(d.ext.find(&next, idx + limit - 1)).present())
				m = next - idx;
			u64 recorded;
			ret = ext_gup(d, idx, m, &pfns[done], &recorded);
			done += recorded;
		}
	}
	if (ret)
		give_back(d, ext_unpin(d, base, done));
	return ret;
}

/* ---- dirty tracking of pinned and written pages ------------------------ */

void Container::mark_dirty(Dma &d, u64 offset, u64 len) noexcept
{
	lock_.assert_held();
	if (!dirty_tracking_ || !d.bitmap || !len)
		return;
	const unsigned int shift = d.bitmap_shift; /* the size it was made for */
	for (u64 b = offset >> shift; b <= (offset + len - 1) >> shift; b++)
		d.bitmap[b / 64] |= u64(1) << (b % 64);
}

/* A pinned page may be written at any time: it stays dirty (as type1). */
void Container::mark_ext_dirty(Dma &d) noexcept
{
	lock_.assert_held();
	if (!d.ext_pages)
		return;
	u64 idx = 0;
	for (;;) {
		if (!ExtPin(d.ext.find(&idx, ~0UL)).present())
			break;
		mark_dirty(d, u64(idx) << abi::PAGE_SHIFT, abi::PAGE_SIZE);
		if (idx == ~0UL)
			break;
		idx++;
	}
}

/* ---- the backend ops ----------------------------------------------------- */

void Container::unpin_locked(u64 iova, u64 npage) noexcept
{
	lock_.assert_held();
	for (u64 i = 0; i < npage;) {
		const u64 cur = iova + (i << abi::PAGE_SHIFT);
		Dma *d = find_dma(cur, cur);
		if (!d) {
			i++; /* nothing is pinned where nothing is mapped */
			continue;
		}
		const u64 n = min_u64(npage - i, (d->last() - cur + 1) >> abi::PAGE_SHIFT);
		give_back(*d, ext_unpin(*d, (cur - d->iova) >> abi::PAGE_SHIFT, n));
		i += n;
	}
}

int Container::pin_pages(kapi_group *g, u64 user_iova, int npage, int prot, u64 *pfns) noexcept
{
	if (!v2_)
		return -err::ACCES; /* as type1: v2 containers only */
	if (!pfns || npage <= 0 || (user_iova & (abi::PAGE_SIZE - 1)) ||
	    (prot & ~(KAPI_IOMMU_READ | KAPI_IOMMU_WRITE)))
		return -err::INVAL;
	const u64 n = static_cast<u64>(npage);
	if (user_iova + (n << abi::PAGE_SHIFT) - 1 < user_iova)
		return -err::INVAL;

	Guard guard(lock_);
	/* Vendor drivers cannot pin while vaddrs are being updated (as type1). */
	if (vaddr_invalid_count_)
		return -err::BUSY;
	/*
	 * B14: a device that can be told about unmaps (as type1, whose check is
	 * the device list alone: a registered device of an IOMMU group may pin
	 * too; it borrows the IOMMU mapping's pins).  B13: without one, or in
	 * a container with no group able to pin, -EINVAL.
	 */
	if (!ndevices_)
		return -err::INVAL;

	int ret = 0;
	u64 i = 0;
	while (i < n) {
		const u64 iova = user_iova + (i << abi::PAGE_SHIFT);
		Dma *d = find_dma(iova, iova);
		if (!d || d->unmapping) {
			ret = -err::INVAL; /* B15 */
			break;
		}
		if ((d->prot & prot) != prot) {
			ret = -err::PERM;
			break;
		}
		const u64 m = min_u64(n - i, (d->last() - iova + 1) >> abi::PAGE_SHIFT);
		ret = ext_pin(*d, iova, m, pfns + i);
		if (ret)
			break;
		mark_dirty(*d, iova - d->iova, m << abi::PAGE_SHIFT);
		i += m;
	}
	if (ret) {
		/* B15/B19: undo this call's pins in the mappings before the failure. */
		unpin_locked(user_iova, i);
		for (u64 k = 0; k < n; k++)
			pfns[k] = 0;
		return ret;
	}
	/* A group whose device pins writes through pinned pages (type1's promotion). */
	if (Group *grp = g ? find_group(g) : nullptr)
		if (!grp->pinned_scope) {
			grp->pinned_scope = true;
			non_pinned_groups_--;
		}
	return npage;
}

void Container::unpin_pages(u64 iova, int npage) noexcept
{
	if (!v2_ || npage <= 0 || (iova & (abi::PAGE_SIZE - 1)))
		return;
	Guard guard(lock_);
	unpin_locked(iova, static_cast<u64>(npage));
}

int Container::dma_rw(u64 iova, void *data, u64 count, bool write) noexcept
{
	Guard guard(lock_);
	if (vaddr_invalid_count_)
		return -err::BUSY;
	u8 *buf = static_cast<u8 *>(data);
	while (count) {
		Dma *d = find_dma(iova, iova);
		if (!d)
			return -err::INVAL;
		/* As type1: reading needs READ, writing needs READ and WRITE. */
		if ((write && !(d->prot & KAPI_IOMMU_WRITE)) || !(d->prot & KAPI_IOMMU_READ))
			return -err::PERM;
		const u64 off = iova - d->iova;
		const u64 n = min_u64(count, d->size - off);
		int ret = mm_rw(d->mm(), d->vaddr + off, buf, n, write);
		if (ret)
			return ret;
		if (write)
			mark_dirty(*d, off, n);
		iova += n;
		buf += n;
		count -= n;
	}
	return 0;
}

void Container::register_device(kapi_device *dev) noexcept
{
	Guard devices(devices_lock_);
	Guard guard(lock_);
	if (kapi_devlist_add(devices_, dev)) {
		ndevices_++;
		g_stats.devices_registered.inc();
	}
}

void Container::unregister_device(kapi_device *dev) noexcept
{
	Guard devices(devices_lock_);
	Guard guard(lock_);
	if (kapi_devlist_del(devices_, dev)) {
		ndevices_--;
		g_stats.devices_registered.dec();
	}
}

} /* namespace vfio_cxx */
