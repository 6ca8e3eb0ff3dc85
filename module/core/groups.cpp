// SPDX-License-Identifier: GPL-2.0
/*
 * What VFIO asks of an IOMMU group before a container attaches it, and
 * which of its reserved regions user IOVAs must avoid, judged on the facts
 * kapi reports of the kernel (domains.cpp asks).  No state and no lock of
 * its own.
 */
#include "domains.h"

#include <vfio_cxx/errno.h>

namespace vfio_cxx {

/*
 * As type1: without isolated MSI (interrupt remapping) a group's devices
 * could raise interrupts they do not own, so such a group is refused unless
 * the admin allows it (allow_unsafe_interrupts).
 */
int check_msi_isolation(kapi_group *g) noexcept
{
	if (kapi_group_msi_isolated(g) || kapi_param_allow_unsafe_interrupts())
		return 0;
	kapi_log(KAPI_LOG_WARN,
		 "vfio_iommu_cxx: group %d: no interrupt remapping support; use the allow_unsafe_interrupts parameter to allow it\n",
		 kapi_group_id(g));
	return -err::PERM;
}

namespace {
struct ResvWalk {
	ResvFn fn;
	void *ctx;
};

/*
 * As type1: a relaxable direct mapping (a device's RMRR that it can do
 * without once VFIO owns it) is no hole in the IOVA space; an empty region
 * is none either (and has no last byte).
 */
void resv_filter(void *ctx, kapi_u64 start, kapi_u64 length, int relaxable)
{
	auto *w = static_cast<ResvWalk *>(ctx);
	if (!relaxable && length)
		w->fn(w->ctx, start, start + length - 1);
}
} /* namespace */

int for_each_resv_region(kapi_group *g, ResvFn fn, void *ctx) noexcept
{
	ResvWalk w{ fn, ctx };
	return kapi_group_for_each_resv_region(g, resv_filter, &w);
}

} /* namespace vfio_cxx */
