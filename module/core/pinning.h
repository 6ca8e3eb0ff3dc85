/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pinning user pages for DMA: which kernel primitive to use (GUP-fast from
 * the owner's own context, the remote walk under the mmap lock otherwise or
 * for what GUP-fast could not take, the VM_PFNMAP lookup for MMIO), in
 * batches of KAPI_PIN_BATCH, and the same choice for dma_rw's copies
 * (mm_rw); and the RAII owners of pins, so that no error path unpins by
 * hand:
 *   PinBatch    the PFNs one pin_batch() call returned; the ones not taken
 *               over (consume()) are unpinned at the end of its scope.
 *   PinnedRuns  pins appended to a RunList; unpinned at the end of its
 *               scope unless keep() hands them to the RunList's owner.
 *
 * Locking: none of its own.  The primitives take the mm's mmap read lock
 * (kapi); callers hold the container lock, which ranks above it.
 */
#ifndef VFIO_CXX_PINNING_H
#define VFIO_CXX_PINNING_H

#include <vfio_cxx/base.h>
#include "../kapi/services.h"
#include "dma.h"

namespace vfio_cxx {

class LockedVmCharge;

/*
 * Pin up to n (at most KAPI_PIN_BATCH) pages of mm from vaddr into pfns:
 * how many (> 0), or -errno for the first page.  KAPI_PFN_RESERVED marks
 * frames that hold no pin (MMIO through VM_PFNMAP, the zero page).
 */
long pin_batch(kapi_mm *mm, u64 vaddr, u64 n, bool write, u64 *pfns) noexcept;

/*
 * Copy len bytes between buf and mm's memory at vaddr (write: buf -> user),
 * as kapi_mm_rw_remote() answers: a plain user copy from the owner's own
 * context, the remote walk from any other.
 */
int mm_rw(kapi_mm *mm, u64 vaddr, void *buf, u64 len, bool write) noexcept;

class [[nodiscard]] PinBatch {
public:
	PinBatch(u64 *pfns, u64 n) noexcept : pfns_(pfns), n_(n) {}
	VFIO_CXX_NO_COPY(PinBatch);
	~PinBatch();
	u64 size() const noexcept { return n_; }
	u64 operator[](u64 i) const noexcept { return pfns_[i]; }
	/* The first `upto` PFNs now belong to the caller (never unpinned here). */
	void consume(u64 upto) noexcept { taken_ = upto; }

private:
	u64 *pfns_;
	u64 n_;
	u64 taken_ = 0;
};

class [[nodiscard]] PinnedRuns {
public:
	explicit PinnedRuns(RunList &runs) noexcept : runs_(&runs) {}
	VFIO_CXX_NO_COPY(PinnedRuns);
	~PinnedRuns();
	/*
	 * Pin npages of mm from vaddr for long-term DMA, appending them to the
	 * runs.  With a charge, each batch's pinned (non-reserved) pages are
	 * charged to it as they are pinned; a refused charge stops the pinning
	 * with its errno.
	 */
	[[nodiscard]] int pin(kapi_mm *mm, u64 vaddr, u64 npages, bool write,
			      LockedVmCharge *charge = nullptr) noexcept;
	/* The pins now belong to the RunList's owner. */
	void keep() noexcept { runs_ = nullptr; }

private:
	RunList *runs_;
};

/* Unpin every page of runs that holds a pin, and forget them all. */
void unpin_runs(RunList &runs, bool dirty) noexcept;

} /* namespace vfio_cxx */

#endif
