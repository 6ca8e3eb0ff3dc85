/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VFIO container served by vfio-cxx: the Type1v2 user API.
 *
 * Ownership: the VFIO core owns the Container through the opaque pointer it
 * got from vfio_cxx_open() and gives it back exactly once to
 * vfio_cxx_release().  The Container owns its Topology (topo_: the Groups
 * and Domains, domains.h), its IoPagetable (iopt_: the Dmas and their dirty
 * tracking, io_pagetable.h), its emulated devices, preregistered regions,
 * exit watches and, for sPAPR, its SpaprTce.  It is the dispatcher: each
 * ioctl and backend op checks its uAPI arguments, takes the locks, calls
 * the object that owns the state, and sends the events that name the
 * container (MEMLOCK_DENIED, an owner's exit).
 *
 * Invariant: when the container has at least one Domain, every Dma is
 * iommu_mapped (pinned once, mapped into every Domain).  With no Domain
 * (emulated groups only) Dmas only record the range.
 *
 * References: a Container is refcounted (get/put).  The VFIO core's
 * handle is one reference, given back by vfio_cxx_release() after close();
 * every call from the core (ioctl, attach/detach, pin/unpin/dma_rw) holds
 * one for its duration, and so does every registry lookup (netlink).  The
 * VFIO core does not serialise release against ioctls (vfio_fops_unl_ioctl
 * takes no lock), so close() tears everything down under the locks and
 * marks the container closed; an ioctl that gets the lock after that
 * finds it empty and refuses to add anything (-ENODEV).  The memory goes
 * with the last reference.  (The core reads its iommu_data pointer before
 * our entry point can take a reference; that window is the core's.)
 *
 * Locking, in this order:
 *   devices_lock_ (KAPI_LOCK_DEVICES): the list of emulated devices to tell
 *     about unmaps, and the right to delete a Dma they must be told about.
 *     Taken by group attach/detach, device (un)registration, an owner's
 *     exit, and a DMA_UNMAP that meets such a Dma (a plain one starts
 *     under lock_ alone: io_pagetable.h, UnmapPass), before lock_.  The
 *     unmap notification runs under it with lock_ dropped, so the vendor
 *     drivers' unpin_pages (which takes lock_) can run (seed 001, R4), and
 *     the Dma being unmapped cannot disappear meanwhile.
 *   lock_ (KAPI_LOCK_CONTAINER): everything else here.  Under it the
 *     container may take an mm's mmap lock (pinning, locked_vm charges), the
 *     IOMMU driver's locks and the xarray's internal lock; nothing
 *     that holds any of those ever takes lock_ or devices_lock_.  Its hold
 *     time is user-controlled (a MAP_DMA of many GiB, a FUSE-backed page),
 *     so nothing outside this container's own users waits on it: netlink
 *     reads the lock-free summary counters (sum_), or waits killably with
 *     no global lock held (mapping_from, prereg_from).
 * pin_pages/unpin_pages/dma_rw take lock_ only.
 */
#ifndef VFIO_CXX_CONTAINER_H
#define VFIO_CXX_CONTAINER_H

#include <vfio_cxx/abi.h>
#include <vfio_cxx/base.h>
#include <vfio_cxx/list.h>
#include <vfio_cxx/sync.h>

#include "entry.h"
#include "snapshot.h"
#include "accounting.h"
#include "devices.h"
#include "domains.h"
#include "exit_watch.h"
#include "io_pagetable.h"
#include "prereg.h"
#include "spapr.h"
#include "stats.h"

namespace vfio_cxx {

class Container {
public:
	/*
	 * The container for VFIO_SET_IOMMU(type), holding one reference (the
	 * VFIO core's), or -EINVAL/-ENOMEM.
	 */
	static Result<Container *> create(unsigned long type) noexcept;
	VFIO_CXX_NO_COPY(Container);

	void get() noexcept { __atomic_fetch_add(&refs_, 1, __ATOMIC_RELAXED); }
	/* Drop a reference; the last one frees the container. */
	void put() noexcept;
	/*
	 * The VFIO core's release: unregister, stop watching mms, detach, unmap,
	 * unpin and uncharge everything at once (B29, B37).  The caller still
	 * holds its reference and drops it afterwards.
	 */
	void close() noexcept;
	bool closed() const noexcept { return __atomic_load_n(&closed_, __ATOMIC_ACQUIRE); }

	/*
	 * What netlink shows.  summary() takes no lock (counters kept beside
	 * the state they count; fields may be from slightly different
	 * instants).  mapping_from/prereg_from wait killably for lock_: 0, 1
	 * (nothing at or after `from`), -EINTR, or -ENOENT (closed).
	 */
	void summary(vfio_cxx_container_info &out) noexcept;
	int mapping_from(u64 from, vfio_cxx_mapping_info &out) noexcept;
	int prereg_from(u64 from_vaddr, vfio_cxx_prereg_info &out) noexcept;

	int attach_group(kapi_group *g, int type) noexcept;
	void detach_group(kapi_group *g) noexcept;
	long ioctl(unsigned int cmd, unsigned long arg) noexcept;

	/* mdev ("external") interface, external.cpp */
	int pin_pages(kapi_group *g, u64 iova, int npage, int prot, u64 *pfns) noexcept;
	void unpin_pages(u64 iova, int npage) noexcept;
	int dma_rw(u64 iova, void *data, u64 count, bool write) noexcept;
	void register_device(kapi_device *dev) noexcept;
	void unregister_device(kapi_device *dev) noexcept;

	/* the exit handler of a watched mm, owner_exit.cpp; false: try_only found a lock busy */
	bool mm_released(MmWatch &mw, bool try_only) noexcept;

	/* VFIO_CHECK_EXTENSION before VFIO_SET_IOMMU (no container yet). */
	static long check_extension_global(unsigned long ext) noexcept;
	/* Whether VFIO_SET_IOMMU(type) selects this backend. */
	static bool serves_type(unsigned long type) noexcept;

	/*
	 * The registry of live containers (registry.cpp): set by
	 * Registry::add() before the container is published, then immutable.
	 */
	ListNode reg_node;
	u64 id = 0;		/* unique, increasing; 0: not registered */
	u64 owner_mm_id = 0;	/* kapi_mm_id() of the creator's mm */
	u32 owner_tgid = 0;
	u32 owner_uid = 0;	/* effective uid */
	kapi_owner *owner = nullptr; /* the creator (its tgid's struct pid); set by Registry::add */
	u32 iommu_type = 0;	/* the VFIO_SET_IOMMU type */

private:
	template <class T, class... Args>
	friend T *make(Args &&...args) noexcept;
	friend class ContainerProbe; /* test introspection, introspect.h */
	Container(bool v2, bool cxx, bool nesting) noexcept;
	~Container();
	/* close()'s work, lock_ and devices_lock_ held; idempotent. */
	void teardown() noexcept;
	void destroy_watches(bool all) noexcept;
	void reap_watches() noexcept;

	/* ioctls */
	long check_extension(unsigned long ext) noexcept;
	long get_info(unsigned long arg) noexcept;
	long map_dma(unsigned long arg) noexcept;
	long unmap_dma(unsigned long arg) noexcept;
	long dirty_pages(unsigned long arg) noexcept;
	long prereg_ioctl(unsigned long arg, bool reg) noexcept;
	long set_exit_policy(unsigned long arg) noexcept;

	/* everything below: lock_ held (each asserts it: lockdep in the kernel, the host kapi in tests) */
	int attach_iommu(Group &grp) noexcept;
	void detach(Group &grp) noexcept;

	/* preregistered memory, prereg.cpp; lock_ held */
	/* REGISTER through preregs_, with the MEMLOCK_DENIED event if refused. */
	int register_memory(u64 vaddr, u64 size) noexcept;
	/*
	 * With the RELEASE policy, make sure mm's exit is watched
	 * (ExitWatches::add); the test inline, since every MAP_DMA asks.
	 */
	int watch_mm(kapi_mm *mm) noexcept
	{
		lock_.assert_held();
		return watches_.releasing() ? watches_.add(*this, mm) : 0;
	}

	/*
	 * The MEMLOCK_DENIED event for a charge an object working for us saw
	 * refused (if any); the test inline, since every MAP_DMA asks.
	 */
	void report_denied(const DeniedCharge &d) noexcept
	{
		if (d.pages)
			memlock_denied(d);
	}
	void memlock_denied(const DeniedCharge &d) noexcept;

	/*
	 * The sPAPR TCE v2 user API: spapr_ioctl takes lock_ and dispatches to
	 * spapr_ (spapr.h), except the REGISTER pair (prereg.cpp), which
	 * registers in this container's PreregSet.
	 */
	long spapr_ioctl(unsigned int cmd, unsigned long arg) noexcept;
	long spapr_register(unsigned long arg, bool reg) noexcept;
	/* What this container lends spapr_ and its window for one call (spapr.h); lock_ held. */
	SpaprEnv spapr_env() noexcept
	{
		lock_.assert_held();
		return SpaprEnv{ TceContext{ topo_.domains(), preregs_, sum_.mappings, sum_.mapped_bytes },
				 topo_.iovas(), topo_.pgsize_bitmap(), topo_.has_groups(), sum_.locked_pages,
				 {} };
	}

	Mutex devices_lock_;
	DeviceList devices_;	/* the emulated devices to tell about unmaps (devices.h) */
	Mutex lock_;
	Topology topo_;	/* the groups and domains (domains.h) */
	bool v2_;
	bool nesting_;		  /* VFIO_TYPE1_NESTING_IOMMU: IOMMU groups are refused */
	bool cxx_;		  /* VFIO_CXX_IOMMU: prereg and our GET_INFO capability */
	PreregSet preregs_;	  /* the regions, and the mm they belong to (prereg.h) */
	IoPagetable iopt_;	  /* the mappings and their dirty tracking (io_pagetable.h) */
	ExitWatches watches_;	  /* the exit policy and the watched mms (exit_watch.h) */
	Owned<SpaprTce> spapr_;	  /* VFIO_SPAPR_TCE_v2_IOMMU only (spapr.h) */
	bool closed_ = false;	  /* torn down: nothing may be added (atomic reads) */
	u32 refs_ = 1;

	ContainerSummary sum_;	  /* what netlink reads without lock_ (stats.h) */
};

} /* namespace vfio_cxx */

#endif
