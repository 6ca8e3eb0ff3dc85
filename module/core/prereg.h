/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PreregSet: the preregistered memory of one container (seeds 000/002).
 *
 * Ownership: the Container owns its PreregSet (preregs_), and the set owns
 * its Preregs and one mm_count reference (mmgrab, never mm_users: B40) to
 * the mm they all belong to (B41), from the first region in to the last
 * one out (issue 11 item 9).  A Dma backed by a region points at it and
 * counts itself in Prereg::used; a used region is never freed (B36).
 *
 * It keeps the container's prereg_pages count (regions referenced) beside
 * them.  Locking: none of its own.  Every method runs under the owning
 * container's lock_, which the caller holds (the changing ones assert it).
 */
#ifndef VFIO_CXX_PREREG_H
#define VFIO_CXX_PREREG_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/list.h>
#include <vfio_cxx/sync.h>

#include "accounting.h"
#include "dma.h"

namespace vfio_cxx {

class PreregSet {
public:
	PreregSet(Mutex &lock, SerialCounter &pages) noexcept : lock_(lock), pages_(pages) {}
	VFIO_CXX_NO_COPY(PreregSet);
	~PreregSet();

	/* The regions' mm (null while there are none). */
	kapi_mm *mm() const noexcept { return mm_; }
	/* Whether the regions belong to the calling process's mm. */
	bool owned_by_current() const noexcept;
	bool empty() const noexcept { return regions_.empty(); }
	size_t size() const noexcept { return regions_.size(); }
	Prereg *front() noexcept { return regions_.front(); }
	auto begin() noexcept { return regions_.begin(); }
	auto end() noexcept { return regions_.end(); }

	/* The region of mm that contains [vaddr, vaddr + size), or null. */
	Prereg *find(kapi_mm *mm, u64 vaddr, u64 size) noexcept;
	/* The region registered as exactly [vaddr, vaddr + size), or null. */
	Prereg *find_exact(u64 vaddr, u64 size) noexcept;
	/* Whether a new region may be registered: 0, -EBUSY (B33: the same one), -EINVAL (overlap). */
	int check_new(u64 vaddr, u64 size) noexcept;
	/*
	 * REGISTER of [vaddr, vaddr + size) by the calling process (checked:
	 * B32 is the caller's): pinned and charged, or, shared, the mm's
	 * SharedRegion (sPAPR: once for all its containers); watch(mm) makes
	 * sure its exit is watched.  0, -EPERM (another mm's set, B41), -EBUSY
	 * (the same region, B33), -EINVAL (overlap), -ENOMEM (the charge
	 * refused, in *denied), -EFAULT (MMIO), or a pin's errno.  On
	 * failure nothing changes.
	 */
	int register_region(u64 vaddr, u64 size, bool shared, FnRef<int(kapi_mm *)> watch,
			    DeniedCharge *denied) noexcept;
	/* UNREGISTER: 0, -EPERM (another mm's), -ENOENT (B35), -EBUSY (used, B36). */
	int unregister_region(u64 vaddr, u64 size) noexcept;
	/*
	 * Unpin (dirty: devices may have written anywhere), uncharge and free
	 * p; the last region gives the mm back.
	 */
	void free(Prereg &p) noexcept;
	/* The bytes of every region (GET_INFO's CXX_PREREG capability). */
	u64 bytes() noexcept;

private:
	/* Take p, pinned and charged to mm(), or to new_mm when the set is empty. */
	void add(Prereg &p, MmRef &new_mm) noexcept;

	Mutex &lock_;
	SerialCounter &pages_;
	List<Prereg, &Prereg::node> regions_;
	kapi_mm *mm_ = nullptr;
};

} /* namespace vfio_cxx */

#endif
