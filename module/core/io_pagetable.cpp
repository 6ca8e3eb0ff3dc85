// SPDX-License-Identifier: GPL-2.0
/*
 * IoPagetable (io_pagetable.h): a Dma's removal with its unmap
 * notification, and what a group's attach and departure do to the Dmas
 * (the fit check, the replay into a new domain, the departures).  MAP_DMA
 * is in map.cpp, UNMAP_DMA in unmap.cpp, the mdev ops in external.cpp.
 * Behaviour numbers refer to Documentation/requirements.rst.
 *
 * Locking: lock_ held throughout, asserted; devices_lock_ too wherever a
 * Dma is deleted (io_pagetable.h); notify_unmap drops lock_ (R4).
 */
#include "io_pagetable.h"
#include "bits.h"

#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>
#include "ext_pins.h"
#include "pages.h"

namespace vfio_cxx {

/* ---- a Dma's removal ------------------------------------------------ */

/*
 * B10, R4: every vendor driver drops its pins in d before d goes.  lock_ is
 * dropped for them (their unpin_pages takes it); d cannot go meanwhile,
 * since deleting an unmapping Dma needs devices_lock_ (held: io_pagetable.h),
 * and takes no new pins.
 */
void IoPagetable::notify_unmap(Dma &d) noexcept
{
	if (!d.ext_pages || devices_.empty())
		return; /* nobody to tell: lock_ alone may be held */
	devices_lock_.assert_held();
	d.unmapping = true;
	Unlock unlocked(lock_);
	devices_.notify_unmap(d.iova, d.size);
}

void IoPagetable::notify_remove(Dma &d) noexcept
{
	lock_.assert_held();
	notify_unmap(d);
	remove(d);
}

/*
 * devices_lock_ is held too, except where no vendor driver is to be told
 * about d (io_pagetable.h): map()'s undo of a Dma it inserted (lock_ was
 * never dropped since, so no vendor driver can have pinned in it), and a
 * plain unmap under lock_ alone of a Dma with no external pins, or no
 * device registered, and no notification under way.
 */
/* What remove() releases of a Dma that holds something (see Dma::holds_nothing). */
[[gnu::noinline]] void IoPagetable::release(Dma &d) noexcept
{
	DmaContext c = context();
	if (d.ext_pages) {
		/*
		 * No pin survives its mapping (B11).  After an unmap notification
		 * this is a vendor driver that ignored dma_unmap: it loses them.
		 */
		if (d.unmapping)
			VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: %llu pages of iova 0x%llx still pinned after dma_unmap; released\n",
					   d.ext_pages, d.iova);
		ExtPins(c).release_all(d); /* their charge goes in unmap_unpin's one update */
	}
	DmaPages(c).unmap_unpin(d);
}

void IoPagetable::remove(Dma &d) noexcept
{
	lock_.assert_held();
	if (!d.holds_nothing())
		release(d);
	if (d.prereg)
		d.prereg->used--;
	dmas_.erase(d);
	delete &d;
}

void IoPagetable::release_if(FnRef<bool(const Dma &)> pick, Released &out) noexcept
{
	devices_lock_.assert_held();
	lock_.assert_held();
	dmas_.for_each(0, U64_MAX, [&](Dma &d) {
		if (pick(d)) {
			out.pages += d.runs.pinned_pages() + d.ext_owned;
			out.dmas++;
			notify_remove(d);
		}
		return true;
	});
}

void IoPagetable::remove_all() noexcept
{
	lock_.assert_held();
	if (dmas_.valid())
		dmas_.for_each(0, U64_MAX, [this](Dma &d) {
			remove(d);
			return true;
		});
}

size_t IoPagetable::orphaned() noexcept
{
	lock_.assert_held();
	size_t n = 0;
	dmas_.for_each(0, U64_MAX, [&n](Dma &d) {
		n += kapi_mm_exited(d.mm()) != 0;
		return true;
	});
	return n;
}

/* ---- attach and detach -------------------------------------------------- */

bool IoPagetable::fits(const IovaList &next) noexcept
{
	lock_.assert_held();
	bool fits = true;
	dmas_.for_each(0, U64_MAX, [&](Dma &d) {
		fits = next.allows(d.iova, d.last());
		return fits;
	});
	return fits;
}

/* The failing Dma cleans up after itself; the ones before it are undone here. */
int IoPagetable::replay(Domain &fresh, bool was_empty, DeniedCharge &denied) noexcept
{
	lock_.assert_held();
	DmaContext c = context();
	DmaPages pages(c);
	int ret = 0;
	u64 failed_at = U64_MAX;
	dmas_.for_each(0, U64_MAX, [&](Dma &d) {
		ret = was_empty ? pages.pin_map(d) : pages.map_runs(d, fresh.raw());
		if (ret)
			failed_at = d.iova;
		return ret == 0;
	});
	if (!ret)
		return 0;
	dmas_.for_each(0, U64_MAX, [&](Dma &d) {
		if (d.iova == failed_at)
			return false;
		if (was_empty)
			pages.unmap_unpin(d);
		else
			kapi_domain_unmap(fresh.raw(), d.iova, d.size);
		return true;
	});
	denied = c.denied;
	return ret;
}

void IoPagetable::domains_gone() noexcept
{
	devices_lock_.assert_held();
	lock_.assert_held();
	const bool keep = topo_.emulated_groups() != 0;
	DmaContext c = context();
	dmas_.for_each(0, U64_MAX, [&](Dma &dma) {
		if (keep)
			DmaPages(c).unmap_unpin(dma);
		else
			remove(dma);
		return true;
	});
}

void IoPagetable::emulated_gone() noexcept
{
	devices_lock_.assert_held();
	lock_.assert_held();
	const bool domain = topo_.has_domain();
	DmaContext c = context();
	ExtPins ext(c);
	dmas_.for_each(0, U64_MAX, [&](Dma &dma) {
		if (domain)
			ext.give_back(dma, ext.release_all(dma));
		else
			remove(dma);
		return true;
	});
}

} /* namespace vfio_cxx */
