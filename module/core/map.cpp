// SPDX-License-Identifier: GPL-2.0
/*
 * MAP_DMA: pinning (with its locked_vm charge as pages are pinned), mapping
 * into every domain, UPDATE_VADDR's change of owner, and the removal of a
 * Dma with its unmap notification.
 *
 * Locking: do_map takes lock_; remove_dma and notify_unmap need
 * devices_lock_ too (the right to delete a Dma), and notify_unmap drops
 * lock_ while the vendor drivers unpin (R4).  Pinning and charging take the
 * owner mm's mmap lock under lock_.
 */
#include "container.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>
#include "accounting.h"
#include "pinning.h"
#include "registry.h"

namespace vfio_cxx {

/* ---- pinning and mapping --------------------------------------------- */

/*
 * Map d's pinned runs into one domain, KAPI_MAP_SEGS_MAX runs per call (one
 * IOTLB sync each, instead of one per run); on failure unmap what was
 * mapped.
 */
int Container::map_runs(Dma &d, kapi_domain *dom) noexcept
{
	lock_.assert_held();
	u64 pfns[KAPI_MAP_SEGS_MAX], npages[KAPI_MAP_SEGS_MAX];
	unsigned int n = 0;
	u64 first = 0, next = 0; /* the batch's first page, and the page after it */
	u64 mapped = 0;		 /* bytes of d mapped so far */
	int ret = 0;
	auto flush = [&]() {
		if (!n || ret)
			return;
		ret = kapi_domain_map_segs(dom, d.iova + (first << abi::PAGE_SHIFT), pfns, npages, n,
					   d.prot);
		if (!ret)
			mapped = next << abi::PAGE_SHIFT;
		n = 0;
		kapi_cond_resched();
	};
	/* disable_hugepages (type1's parameter): one IOMMU page per page. */
	const u64 max_seg = kapi_param_disable_hugepages() ? 1 : ~u64(0);
	auto add = [&](u64 off, u64 pfn, u64 count) {
		if (n && off != next)
			flush(); /* runs are IOVA-consecutive; never batch across a gap */
		if (ret)
			return;
		if (!n)
			first = off;
		pfns[n] = pfn;
		npages[n] = count;
		n++;
		next = off + count;
		if (n == KAPI_MAP_SEGS_MAX)
			flush();
	};
	d.runs.for_each([&](u64 off, const PinRun &r) {
		for (u64 i = 0; i < r.npages && !ret; i += max_seg)
			add(off + i, r.pfn + i, r.npages - i < max_seg ? r.npages - i : max_seg);
	});
	flush();
	if (ret && mapped)
		kapi_domain_unmap(dom, d.iova, mapped);
	return ret;
}

/*
 * Charge, pin and map the whole of d into every domain (behaviour 2).  The
 * charge is one locked_vm update for the whole range, made before pinning
 * so that a request over RLIMIT_MEMLOCK fails before it pins anything
 * (behaviour 4); reserved pages found while pinning are given back in a
 * second update (behaviour 6).  On failure everything is undone
 * (behaviour 7).
 */
/* Map d's runs into every domain; on failure nothing stays mapped. */
int Container::map_all(Dma &d) noexcept
{
	lock_.assert_held();
	size_t mapped_domains = 0;
	int ret = 0;
	for (Domain &dom : topo_.domains()) {
		ret = map_runs(d, dom.raw());
		if (ret)
			break;
		mapped_domains++;
	}
	if (ret)
		for (Domain &dom : topo_.domains()) {
			if (!mapped_domains--)
				break;
			kapi_domain_unmap(dom.raw(), d.iova, d.size);
		}
	return ret;
}

int Container::pin_map(Dma &d) noexcept
{
	lock_.assert_held();
	const u64 npages = d.size >> abi::PAGE_SHIFT;
	if (Prereg *p = d.prereg) {
		/* B39: the region's pages, already pinned and charged. */
		int ret = d.runs.append_range(p->pins(), (d.vaddr - p->vaddr) >> abi::PAGE_SHIFT, npages)
				  ? map_all(d)
				  : -err::NOMEM;
		if (ret) {
			d.runs.free();
			return ret;
		}
		d.iommu_mapped = true;
		ExtContext c = ext_context();
		ExtPins(c).adopt(d);
		return 0;
	}
	/*
	 * Pages that mdev drivers pinned are charged already: they are the
	 * charge's credit, so only the rest is charged (B24, B25, R6).  Pages
	 * are charged as they are pinned, reserved (MMIO) ones never (B6,
	 * issue 11 item 5: a BAR larger than RLIMIT_MEMLOCK maps, as in type1).
	 */
	LockedVmCharge charge(d.mm(), d.lock_cap, d.limit, d.locked);
	PinnedRuns pinned(d.runs);
	int ret = pinned.pin(d.mm(), d.vaddr, npages, (d.prot & KAPI_IOMMU_WRITE) != 0, &charge);
	if (ret == -err::NOMEM && charge.denied())
		Registry::memlock_denied(*this, charge.denied(), d.limit);
	if (!ret)
		ret = map_all(d);
	if (ret)
		return ret; /* the pins and the charge give themselves back */
	pinned.keep();
	d.iommu_mapped = true;
	sum_.pages_pinned.add(d.runs.pinned_pages());
	d.add_locked(charge.commit(), sum_.locked_pages);
	/*
	 * Credit left over: pages that records had charged and the mapping
	 * found reserved (the user replaced the memory under a live pin).  An
	 * IOMMU-mapped Dma charges exactly its pinned pages, so give it back.
	 */
	if (const u64 extra = charge.unused_credit()) {
		uncharge(d.mm(), extra);
		d.sub_locked(extra, sum_.locked_pages);
	}
	ExtContext c = ext_context();
	ExtPins(c).adopt(d);
	return 0;
}

/* Bring d's locked_vm charge to target pages, in one update (R6, R7). */
void Container::settle(Dma &d, u64 target) noexcept
{
	lock_.assert_held();
	if (target == d.locked)
		return;
	if (target < d.locked) {
		uncharge(d.mm(), d.locked - target);
	} else if (target > d.locked) {
		/*
		 * Only records that kept their own pin of a page the user replaced
		 * (ExtPins::adopt): pinned already, so charged without a limit check.
		 */
		if (kapi_mm_charge(d.mm(), target - d.locked, 1, 0))
			return; /* the mm is gone, and its locked_vm with it */
	}
	if (target > d.locked)
		d.add_locked(target - d.locked, sum_.locked_pages);
	else
		d.sub_locked(d.locked - target, sum_.locked_pages);
}

/*
 * Unmap d from every domain (gathered IOTLB invalidation, one sync per
 * domain before any page is released) and unpin its pages (behaviour 8).
 * Pages that external records borrow keep their pin, which passes to the
 * record; what stays charged is exactly those records' pages, reached in
 * one update that never dips below them (B26).  The Dma itself stays.
 */
void Container::unmap_unpin(Dma &d) noexcept
{
	lock_.assert_held();
	if (d.iommu_mapped)
		for (Domain &dom : topo_.domains())
			kapi_domain_unmap(dom.raw(), d.iova, d.size);
	if (d.prereg) {
		/* The region keeps the pins, and records keep borrowing them. */
		d.runs.free();
		d.iommu_mapped = false;
		return;
	}
	const int dirty = (d.prot & KAPI_IOMMU_WRITE) != 0;
	d.runs.for_each([&](u64 off, const PinRun &r) {
		if (r.reserved())
			return;
		const u64 end = off + r.npages;
		u64 from = off;
		for (u64 idx = off; d.ext_pages && idx < end; idx++) {
			ExtPin e(d.ext.find(&idx, end - 1));
			if (!e.present())
				break;
			if (e.own() || e.reserved())
				continue;
			if (idx > from)
				kapi_unpin_pages(r.pfn + (from - off), idx - from, dirty);
			(void)d.ext.store(idx, e.with_own(true).raw());
			d.ext_owned++;
			from = idx + 1;
		}
		if (end > from)
			kapi_unpin_pages(r.pfn + (from - off), end - from, dirty);
		kapi_cond_resched();
	});
	sum_.pages_pinned.sub(d.runs.pinned_pages());
	d.runs.free();
	d.iommu_mapped = false;
	settle(d, d.ext_owned);
}

/*
 * B10, R4: every vendor driver drops its pins in d before d goes.  lock_ is
 * dropped for them (their unpin_pages takes it); d cannot go meanwhile,
 * since deleting a Dma needs devices_lock_ (held), and takes no new pins.
 */
void Container::notify_unmap(Dma &d) noexcept
{
	devices_lock_.assert_held();
	if (!d.ext_pages || devices_.empty())
		return;
	d.unmapping = true;
	Unlock unlocked(lock_);
	devices_.notify_unmap(d.iova, d.size);
}

void Container::notify_remove(Dma &d) noexcept
{
	lock_.assert_held();
	notify_unmap(d);
	remove_dma(d);
}

/*
 * devices_lock_ is held too, except by do_map's undo of a Dma it inserted:
 * lock_ was never dropped since, so no vendor driver can have pinned in it.
 */
void Container::remove_dma(Dma &d) noexcept
{
	lock_.assert_held();
	if (d.ext_pages) {
		/*
		 * No pin survives its mapping (B11).  After an unmap notification
		 * this is a vendor driver that ignored dma_unmap: it loses them.
		 */
		if (d.unmapping)
			VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: %llu pages of iova 0x%llx still pinned after dma_unmap; released\n",
					   d.ext_pages, d.iova);
		ExtContext c = ext_context();
		ExtPins(c).release_all(d); /* their charge goes in unmap_unpin's one update */
	}
	unmap_unpin(d);
	if (d.prereg)
		d.prereg->used--;
	dmas_.erase(d);
	delete &d;
}

/*
 * The owner side of MAP_DMA|VFIO_DMA_MAP_FLAG_VADDR (Documentation/uapi.rst,
 * "UPDATE_VADDR and ownership").  A mapping backed by a preregistered
 * region takes its pages from the region, which belongs to the container's
 * prereg owner mm: only that mm may give it a new vaddr, and only one inside
 * a registered region, whose use count the mapping then moves to (-EPERM,
 * -EINVAL: nothing changes).  Any other mapping moves to the calling
 * process: its charge moves to the caller's mm (as type1), and under the
 * RELEASE policy the caller's exit is watched from now on.
 */
int Container::change_owner(Dma &d, u64 vaddr) noexcept
{
	lock_.assert_held();
	if (d.prereg) {
		if (!preregs_.owned_by_current())
			return -err::PERM;
		Prereg *p = find_prereg(preregs_.mm(), vaddr, d.size);
		if (!p)
			return -err::INVAL;
		d.prereg->used--;
		p->used++;
		d.prereg = p;
		return 0;
	}
	if (kapi_mm_is_current(d.mm()))
		return 0;
	kapi_mm *mm = kapi_mm_grab_current();
	if (!mm)
		return -err::SRCH;
	const bool cap = kapi_capable_ipc_lock();
	const u64 limit = kapi_rlimit_memlock_pages();
	LockedVmCharge charge(mm, cap, limit);
	int ret = charge.charge(d.locked);
	if (!ret)
		ret = watch_mm(mm);
	if (!ret) {
		charge.commit();
		uncharge(d.mm(), d.locked);
		d.set_mm(mm, cap);
		d.limit = limit;
	}
	kapi_mm_drop(mm);
	return ret;
}

int Container::do_map(const abi::DmaMap &map) noexcept
{
	const bool set_vaddr = map.flags & abi::DMA_MAP_FLAG_VADDR;
	int prot = 0;
	if (map.flags & abi::DMA_MAP_FLAG_WRITE)
		prot |= KAPI_IOMMU_WRITE;
	if (map.flags & abi::DMA_MAP_FLAG_READ)
		prot |= KAPI_IOMMU_READ;
	if ((prot && set_vaddr) || (!prot && !set_vaddr))
		return -err::INVAL;

	const u64 iova = map.iova, size = map.size, vaddr = map.vaddr;
	Guard guard(lock_);
	const u64 pgsize = topo_.min_pgsize();
	if (!size || ((size | iova | vaddr) & (pgsize - 1)))
		return -err::INVAL;
	/* No IOVA or virtual address wrap (behaviour 1): the kernel's type1 errno. */
	if (iova + size - 1 < iova || vaddr + size - 1 < vaddr)
		return kapi_type1_wrap_errno();

	Dma *d = dmas_.find(iova, iova + size - 1);
	if (set_vaddr) {
		if (!d)
			return -err::NOENT;
		if (!d->vaddr_invalid || d->iova != iova || d->size != size)
			return -err::INVAL;
		int ret = change_owner(*d, vaddr);
		if (ret)
			return ret;
		dmas_.validate_vaddr(*d, vaddr);
		return 0;
	}
	if (d)
		return -err::EXIST;
	if (closed_)
		return -err::NODEV;
	if (!dmas_.avail())
		return -err::NOSPC;
	if (!topo_.iovas().allows(iova, iova + size - 1))
		return -err::INVAL;

	kapi_mm *mm = kapi_mm_grab_current();
	if (!mm)
		return -err::SRCH;
	Owned<Dma> nd(make<Dma>(iova, size, vaddr, prot, mm, kapi_capable_ipc_lock() != 0));
	if (!nd) {
		kapi_mm_drop(mm);
		return -err::NOMEM;
	}
	nd->limit = kapi_rlimit_memlock_pages();
	int ret = dmas_.insert(*nd);
	if (ret)
		return ret;
	/* Counted once it is in the map: remove_dma() gives the count back. */
	if (Prereg *p = find_prereg(mm, vaddr, size)) {
		nd->prereg = p;
		p->used++;
	}
	Dma &dma = *nd.release();

	ret = watch_mm(dma.mm());
	if (!ret && topo_.has_domain())
		ret = pin_map(dma);
	if (!ret && dirty_tracking_)
		ret = dma.alloc_bitmap(ctz(pgsize));
	if (ret)
		remove_dma(dma);
	return ret;
}

long Container::map_dma(unsigned long arg) noexcept
{
	abi::DmaMap map;
	if (kapi_copy_from_user(&map, arg, abi::DMA_MAP_MINSZ))
		return -err::FAULT;
	constexpr u32 mask = abi::DMA_MAP_FLAG_READ | abi::DMA_MAP_FLAG_WRITE | abi::DMA_MAP_FLAG_VADDR;
	if (map.argsz < abi::DMA_MAP_MINSZ || (map.flags & ~mask))
		return -err::INVAL;
	return do_map(map);
}

} /* namespace vfio_cxx */
