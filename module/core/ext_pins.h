/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ExtPins: what mdev drivers pinned in a Dma (seed 001 R11), as ExtPin
 * records in the Dma's PinTable keyed by page offset (R5: compact, per
 * mapping, keyed by IOVA; pin_table.h: dense or sparse).  Accounting:
 * without an IOMMU domain each page gets one charge when its record is
 * created (B21); with one, the IOMMU mapping already pinned and charged the
 * whole range and a record only borrows that pin (B2, B22).
 *
 * It works through the DmaContext its IoPagetable lends for one call (dma.h:
 * the counters, the domain whose mapping a record borrows, a refused
 * charge to report) and sees nothing else of it.
 *
 * Ownership: the records are their Dma's; ExtPins is a view for one call.
 * Locking: the container's lock_, which every method asserts.
 */
#ifndef VFIO_CXX_EXT_PINS_H
#define VFIO_CXX_EXT_PINS_H

#include <vfio_cxx/base.h>
#include "../kapi/services.h"
#include "dma.h"

namespace vfio_cxx {

class ExtPins {
public:
	explicit ExtPins(DmaContext &c) noexcept : c_(c) {}
	VFIO_CXX_NO_COPY(ExtPins);

	/*
	 * Pin n pages of d from iova, all or nothing: one more pin on each page
	 * already recorded (B17), a borrowed pin with an IOMMU mapping, GUP in
	 * batches without one.  pfns gets the pages' PFNs.
	 */
	int pin(Dma &d, u64 iova, u64 n, u64 *pfns) noexcept;
	/* One unpin of each page in [idx, idx + n); returns pages to give back. */
	u64 unpin(Dma &d, u64 idx, u64 n) noexcept;
	/* Every record of d, whatever its pin count (R9); returns pages to give back. */
	u64 release_all(Dma &d) noexcept;
	/* A fresh IOMMU mapping of d pins every page: records borrow its pins. */
	void adopt(Dma &d) noexcept;
	/* Give n pages of d's charge back, unless the unmap under way does it once. */
	void give_back(Dma &d, u64 npages) noexcept;

private:
	u64 drop(Dma &d, u64 idx, ExtPin e) noexcept;
	int borrow(Dma &d, u64 idx, u64 n, u64 *pfns, u64 *recorded) noexcept;
	int gup(Dma &d, u64 idx, u64 n, u64 *pfns, u64 *recorded) noexcept;

	DmaContext &c_;
};

} /* namespace vfio_cxx */

#endif
