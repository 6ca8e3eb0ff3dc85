// SPDX-License-Identifier: GPL-2.0
/*
 * The records of the pages mdev drivers pinned in a Dma (ext_pins.h):
 * pinning with one more reference, a borrowed pin or GUP; unpinning; the
 * hand-over between a record's own pin and an IOMMU mapping's; and the
 * charges that go with them.  Behaviour numbers refer to
 * Documentation/requirements.rst.
 *
 * Locking: every call runs under the container's lock_ (the DmaContext's
 * maker holds it; each method asserts it).  GUP and the charges take the
 * owner mm's mmap lock under it.
 */
#include "ext_pins.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>
#include "accounting.h"
#include "bits.h"
#include "pinning.h"

namespace vfio_cxx {

/* ---- records ------------------------------------------------------------- */

/* Give n pages of d's charge back, unless the unmap under way does it once. */
void ExtPins::give_back(Dma &d, u64 npages) noexcept
{
	c_.held();
	if (!npages || d.unmapping)
		return;
	uncharge(d.mm(), npages);
	d.sub_locked(npages, c_.locked_pages);
}

/*
 * Drop record e at idx completely.  Returns the pages whose charge the
 * caller must give back (1 if the record held a charged pin).
 */
u64 ExtPins::drop(Dma &d, u64 idx, ExtPin e) noexcept
{
	c_.held();
	d.ext.erase(idx);
	d.ext_pages--;
	c_.external_pages.dec();
	if (!e.holds_pin())
		return 0;
	kapi_unpin_pages(e.pfn(), 1, (d.prot & KAPI_IOMMU_WRITE) != 0);
	d.ext_owned--;
	/* With an IOMMU mapping an own pin is an uncharged extra (adopt). */
	return d.charges_external() ? 1 : 0;
}

/*
 * One unpin of each page in [idx, idx + n); returns pages to give back.  One
 * pass over the records (a leaf lookup and at most one resize per chunk),
 * and the own pins released a physically contiguous run at a time.
 */
u64 ExtPins::unpin(Dma &d, u64 idx, u64 n) noexcept
{
	c_.held();
	if (!d.ext_pages)
		return 0;
	const int dirty = (d.prot & KAPI_IOMMU_WRITE) != 0;
	u64 gone = 0, owned_gone = 0, run_pfn = 0, run_len = 0;
	d.ext.update_range(idx, n, [&](u64, u64 raw) -> u64 {
		const ExtPin e(raw); /* never pinned (absent): not visited (B18) */
		if (e.refs() > 1)
			return e.with_refs(e.refs() - 1).raw();
		gone++;
		if (e.holds_pin()) {
			owned_gone++;
			if (run_len && e.pfn() == run_pfn + run_len) {
				run_len++;
			} else {
				if (run_len)
					kapi_unpin_pages(run_pfn, run_len, dirty);
				run_pfn = e.pfn();
				run_len = 1;
			}
		}
		return 0;
	});
	if (run_len)
		kapi_unpin_pages(run_pfn, run_len, dirty);
	d.ext_pages -= gone;
	c_.external_pages.sub(gone);
	d.ext_owned -= owned_gone;
	/* With an IOMMU mapping an own pin is an uncharged extra (adopt). */
	return d.charges_external() ? owned_gone : 0;
}

/* Every record of d, whatever its pin count (R9); returns pages to give back. */
u64 ExtPins::release_all(Dma &d) noexcept
{
	c_.held();
	u64 unc = 0;
	u64 idx = 0;
	while (d.ext_pages) {
		ExtPin e(d.ext.find(&idx, ~0UL));
		if (!e.present()) {
			/* Recover: the count is what is wrong; nothing is left to drop. */
			VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: external record count out of step");
			c_.external_pages.sub(d.ext_pages);
			d.ext_pages = 0;
			d.ext_owned = 0;
			break;
		}
		unc += drop(d, idx, e);
	}
	return unc;
}

/*
 * A fresh IOMMU mapping of d now pins every page: records that held their
 * own pin of the same page let it go and borrow the mapping's (a page is
 * pinned once).  A record whose page is not the one the mapping pinned (the
 * user replaced the memory under a live pin) keeps its own pin, uncharged.
 */
void ExtPins::adopt(Dma &d) noexcept
{
	c_.held();
	if (!d.ext_owned)
		return;
	kapi_domain *dom = c_.first_domain();
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

/*
 * With an IOMMU mapping: record the n mapped pages from idx (none of them
 * recorded yet), borrowing the mapping's pins.  Their PFNs come from the
 * domain in one kapi call, and the records go in CHUNK at a time.  A
 * mapping whose runs hold no reserved page has only pinned struct pages,
 * whose kind needs no asking; a preregistered one's pages are the region's,
 * so each is asked.  *recorded says how many were recorded, also on error
 * (the caller undoes them).
 */
int ExtPins::borrow(Dma &d, u64 idx, u64 n, u64 *pfns, u64 *recorded) noexcept
{
	c_.held();
	*recorded = 0;
	const u64 iova = d.iova + (idx << abi::PAGE_SHIFT);
	const u64 got = kapi_domain_iova_to_pfns(c_.first_domain(), iova, n, pfns);
	if (got < n) {
		VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: iova 0x%llx of a live mapping is not in its domain\n",
				   iova + (got << abi::PAGE_SHIFT));
		return -err::FAULT;
	}
	const bool ask_kind = d.prereg || d.runs.reserved_pages();
	constexpr u64 CHUNK = PinTable::CHUNK;
	u64 rec[CHUNK];
	u64 k = 0;
	while (k < n) {
		const u64 m = min_u64(CHUNK, n - k);
		for (u64 j = 0; j < m; j++) {
			const u64 p = pfns[k + j];
			const int kind = ask_kind ? kapi_pfn_kind(p) : KAPI_PFN_PAGE;
			/* No struct page (MMIO): nothing a vendor driver can use (as type1). */
			if (kind == KAPI_PFN_INVALID || p > ExtPin::PFN_MASK)
				return -err::INVAL;
			rec[j] = ExtPin::make(p, false, kind != KAPI_PFN_PAGE).raw();
		}
		u64 stored = 0;
		const long r = d.ext.store_many(idx + k, rec, m, &stored);
		d.ext_pages += stored;
		c_.external_pages.add(stored);
		k += stored;
		*recorded = k;
		if (r < 0)
			return static_cast<int>(r);
	}
	return 0;
}

/*
 * Without an IOMMU mapping: pin up to n absent pages from idx in the owner
 * mm (never current's, B16), charge them in one update and record them.
 * *recorded says how many were recorded, also on error (the caller undoes
 * them); what was pinned but not recorded is released here (B19).
 */
int ExtPins::gup(Dma &d, u64 idx, u64 n, u64 *pfns, u64 *recorded) noexcept
{
	c_.held();
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
		c_.denied.deny(to_charge, d.limit);
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
		c_.external_pages.add(stored);
	}
	*recorded = k;
	/* The recorded pins keep their charge; the others' is given back. */
	d.add_locked(charge.commit(d.charges_external() ? owned : 0), c_.locked_pages);
	return ret;
}

/*
 * Pin n pages of d from iova, all or nothing: one more pin on each page
 * already recorded (B17), a borrowed pin with an IOMMU mapping, GUP in
 * batches without one.
 */
int ExtPins::pin(Dma &d, u64 iova, u64 n, u64 *pfns) noexcept
{
	c_.held();
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
		} else {
			/* The absent pages from idx on: one search, not a load each. */
			const u64 limit = min_u64(n - done, KAPI_PIN_BATCH);
			u64 m = limit;
			u64 next = idx + 1;
			if (limit > 1 && ExtPin(d.ext.find(&next, idx + limit - 1)).present())
				m = next - idx;
			u64 recorded;
			if (d.iommu_mapped)
				ret = borrow(d, idx, m, &pfns[done], &recorded);
			else
				ret = gup(d, idx, m, &pfns[done], &recorded);
			done += recorded;
		}
	}
	if (ret)
		give_back(d, unpin(d, base, done));
	return ret;
}

} /* namespace vfio_cxx */
