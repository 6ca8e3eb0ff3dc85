/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IoPagetable: a container's IOVA space, as iommufd's io_pagetable.c is an
 * IOAS's.  It holds the mappings (DmaSet) and their dirty tracking, and does
 * what MAP_DMA, UNMAP_DMA, the mdev ops (pin, unpin, dma_rw), a new
 * domain's replay and a group's departure do to them.  The uAPI side of
 * each ioctl (user copies, argsz and flag checks) and the locks stay with
 * the Container, which dispatches here.
 *
 * Ownership: the Container owns it (iopt_).  It owns the DmaSet (and so
 * every Dma) and the DirtyTracking; it works with the container's
 * Topology, DeviceList, PreregSet, exit policy and summary counters,
 * references given at construction, which live as long as it.  A locked_vm
 * charge that RLIMIT_MEMLOCK refused comes back out (DeniedCharge) for the
 * container's MEMLOCK_DENIED event; adding an owner's exit watch is lent for
 * one call (a callback), since the watch names the container itself.
 *
 * Locking (the container's order, container.h: devices_lock_ -> lock_):
 * every method runs with lock_ held and asserts it.  Deleting a Dma needs
 * devices_lock_ too (unmap, release_if, the departures, remove_all), except
 * where no vendor driver is to be told about it: map()'s undo of the Dma it
 * has just inserted, and an unmap under lock_ alone (UnmapPass below) of a
 * Dma with no external pins (or no registered device) and no notification
 * under way.  notify_unmap marks the Dma `unmapping` and drops lock_ while
 * the vendor drivers unpin (R4); the Dma cannot go meanwhile: every path
 * that may delete an unmapping Dma holds devices_lock_, which stays held.
 */
#ifndef VFIO_CXX_IO_PAGETABLE_H
#define VFIO_CXX_IO_PAGETABLE_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/base.h>
#include <vfio_cxx/sync.h>

#include "accounting.h"
#include "devices.h"
#include "dirty.h"
#include "dma.h"
#include "dma_set.h"
#include "domains.h"
#include "exit_watch.h"
#include "iova_list.h"
#include "prereg.h"
#include "stats.h"

namespace vfio_cxx {

class IoPagetable {
public:
	/*
	 * Watch an mm's exit (ExitWatches::add for the container): 0 or
	 * -errno.  Called only under the RELEASE policy, so that a MAP_DMA
	 * under KEEP makes no indirect call for it.
	 */
	using WatchFn = FnRef<int(kapi_mm *)>;

	IoPagetable(Mutex &devices_lock, Mutex &lock, DeviceList &devices, Topology &topo,
		    PreregSet &preregs, const ExitWatches &watches, ContainerSummary &sum,
		    bool v2) noexcept
		: devices_lock_(devices_lock), lock_(lock), devices_(devices), topo_(topo),
		  preregs_(preregs), watches_(watches), sum_(sum), v2_(v2),
		  dmas_(lock, sum.mappings, sum.mapped_bytes),
		  dirty_(lock, dmas_, topo)
	{
	}
	VFIO_CXX_NO_COPY(IoPagetable);

	bool valid() const noexcept { return dmas_.valid(); }
	DmaSet &dmas() noexcept { return dmas_; }
	DirtyTracking &dirty() noexcept { return dirty_; }

	/*
	 * MAP_DMA (map.cpp), after the uAPI checks: a new Dma, pinned and
	 * mapped if there is a domain, or (VADDR) a new vaddr and owner for an
	 * invalidated one.  closed: the container is torn down (-ENODEV).
	 */
	int map(const abi::DmaMap &map, bool closed, WatchFn watch, DeniedCharge &denied) noexcept;
	/*
	 * How far an UNMAP_DMA got.  A plain unmap runs under lock_ alone
	 * until it meets a Dma whose vendor drivers must be told first (or
	 * one another unmap is telling them about); there it stops, and the
	 * container runs it again with devices_lock_ taken too, from where it
	 * stopped, as type1 goes on after its notification (the request's
	 * checks are not made again).  An UNMAP|VADDR or one with a dirty
	 * bitmap runs with both locks from the start.
	 */
	struct UnmapPass {
		bool devices_held = false; /* in: devices_lock_ is held too */
		bool stopped = false;	   /* out: stopped for devices_lock_ */
		bool checked = false;	   /* the request's checks passed */
		u64 last = 0;		   /* the request's last IOVA, once checked */
		u64 unmapped = 0;	   /* bytes unmapped so far */
	};
	/* UNMAP_DMA (unmap.cpp), lock_ held (and see UnmapPass); unmap.size says how much went. */
	int unmap(abi::DmaUnmap &unmap, const abi::Bitmap *bitmap, UnmapPass &pass) noexcept;

	/* The mdev ops (external.cpp): the VFIO core's pin_pages, unpin_pages and dma_rw. */
	int pin(kapi_group *g, u64 iova, int npage, int prot, u64 *pfns, DeniedCharge &denied) noexcept;
	void unpin(u64 iova, int npage) noexcept;
	int rw(u64 iova, void *data, u64 count, bool write) noexcept;

	/* Attach (io_pagetable.cpp): whether every Dma fits the IOVA list next. */
	bool fits(const IovaList &next) noexcept;
	/*
	 * Map every Dma into the fresh domain, already among the topology's
	 * (pin them first if there was no domain: was_empty); on failure all of
	 * it is undone.
	 */
	int replay(Domain &fresh, bool was_empty, DeniedCharge &denied) noexcept;
	/*
	 * The last IOMMU domain went: with emulated groups left the Dmas stay,
	 * unpinned and unaccounted; else they go (as type1).
	 */
	void domains_gone() noexcept;
	/*
	 * The last emulated group went: every external pin goes with it (R9,
	 * B20), and with no domain the Dmas too.
	 */
	void emulated_gone() noexcept;

	/* What a release took: mappings, and the pages they held pinned. */
	struct Released {
		u64 dmas = 0;
		u64 pages = 0;
	};
	/*
	 * Every Dma that pick() chooses goes, its vendor drivers told first
	 * (an owner's exit, B42); counted into out.
	 */
	void release_if(FnRef<bool(const Dma &)> pick, Released &out) noexcept;
	/* Every Dma goes (close). */
	void remove_all() noexcept;
	/* Dmas whose owner mm has exited. */
	size_t orphaned() noexcept;

private:
	/* What DmaPages and ExtPins work with for one call (dma.h). */
	DmaContext context() noexcept
	{
		lock_.assert_held();
		return DmaContext{ lock_, topo_.domains(), sum_.pages_pinned, sum_.external_pages,
				   sum_.locked_pages, {} };
	}
	int change_owner(Dma &d, u64 vaddr, WatchFn watch) noexcept;
	void notify_unmap(Dma &d) noexcept;
	void notify_remove(Dma &d) noexcept;
	void remove(Dma &d) noexcept;
	void release(Dma &d) noexcept;
	void unpin_locked(u64 iova, u64 npage) noexcept;

	Mutex &devices_lock_;
	Mutex &lock_;
	DeviceList &devices_;
	Topology &topo_;
	PreregSet &preregs_;
	const ExitWatches &watches_; /* its policy: whether to watch an owner */
	ContainerSummary &sum_;
	const bool v2_;
	DmaSet dmas_;
	DirtyTracking dirty_;
};

} /* namespace vfio_cxx */

#endif
