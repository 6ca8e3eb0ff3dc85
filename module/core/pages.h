/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DmaPages: the pages of one Dma in the container's IOMMU domains (the
 * analogue of iommufd's pages.c): charged, pinned (pinning.h) and mapped
 * into every domain at MAP_DMA or at a container's first domain; mapped
 * into one more domain at a replay; unmapped and unpinned at removal or
 * with the last domain, handing the pins external records borrow over to
 * them (ext_pins.h).  A Dma inside a preregistered region maps the
 * region's pages and pins nothing (B39).
 *
 * It works through the DmaContext its IoPagetable lends for one call (dma.h)
 * and sees nothing else of it.  Ownership: the pins are their Dma's
 * (RunList); DmaPages is a view for one call.  Locking: the container's
 * lock_, which every method asserts.
 */
#ifndef VFIO_CXX_PAGES_H
#define VFIO_CXX_PAGES_H

#include <vfio_cxx/base.h>
#include "dma.h"

namespace vfio_cxx {

class DmaPages {
public:
	explicit DmaPages(DmaContext &c) noexcept : c_(c) {}
	VFIO_CXX_NO_COPY(DmaPages);

	/*
	 * Charge, pin and map the whole of d into every domain; on failure
	 * nothing stays (a refused charge is in the context).
	 */
	int pin_map(Dma &d) noexcept;
	/* Map d's pinned runs into one more domain; on failure nothing of it stays there. */
	int map_runs(Dma &d, kapi_domain *dom) noexcept;
	/* Unmap d from every domain and unpin it; external records keep their pages' pins. */
	void unmap_unpin(Dma &d) noexcept;
	/* Bring d's locked_vm charge to target pages, in one update (R6, R7). */
	void settle(Dma &d, u64 target) noexcept;

private:
	int map_all(Dma &d) noexcept;

	DmaContext &c_;
};

} /* namespace vfio_cxx */

#endif
