// SPDX-License-Identifier: GPL-2.0
/*
 * The mdev ("external", seed 001 R11) side of a container: the backend ops
 * pin_pages, unpin_pages and dma_rw for emulated devices, and the devices
 * to tell about unmaps.  What a pin records and charges in its Dma is
 * ExtPins' (ext_pins.h).  Behaviour numbers refer to
 * Documentation/requirements.rst.
 *
 * The Container's ops take the locks and dispatch to IoPagetable's, which
 * do the work on its Dmas.
 *
 * Locking: each op takes lock_; (un)registering a device takes
 * devices_lock_ then lock_ (container.h).
 */
#include "container.h"
#include "io_pagetable.h"
#include "ext_pins.h"
#include "accounting.h"
#include "pinning.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/* ---- the backend ops ----------------------------------------------------- */

void IoPagetable::unpin_locked(u64 iova, u64 npage) noexcept
{
	lock_.assert_held();
	DmaContext c = context();
	ExtPins ext(c);
	for (u64 i = 0; i < npage;) {
		const u64 cur = iova + (i << abi::PAGE_SHIFT);
		Dma *d = dmas_.find(cur, cur);
		if (!d) {
			i++; /* nothing is pinned where nothing is mapped */
			continue;
		}
		const u64 n = min_u64(npage - i, (d->last() - cur + 1) >> abi::PAGE_SHIFT);
		ext.give_back(*d, ext.unpin(*d, (cur - d->iova) >> abi::PAGE_SHIFT, n));
		i += n;
	}
}

int IoPagetable::pin(kapi_group *g, u64 user_iova, int npage, int prot, u64 *pfns,
		     DeniedCharge &denied) noexcept
{
	lock_.assert_held();
	if (!v2_)
		return -err::ACCES; /* as type1: v2 containers only */
	if (!pfns || npage <= 0 || (user_iova & (abi::PAGE_SIZE - 1)) ||
	    (prot & ~(KAPI_IOMMU_READ | KAPI_IOMMU_WRITE)))
		return -err::INVAL;
	const u64 n = static_cast<u64>(npage);
	if (user_iova + (n << abi::PAGE_SHIFT) - 1 < user_iova)
		return -err::INVAL;

	/* Vendor drivers cannot pin while vaddrs are being updated (as type1). */
	if (dmas_.vaddr_invalid())
		return -err::BUSY;
	/*
	 * B14: a device that can be told about unmaps (as type1, whose check is
	 * the device list alone: a registered device of an IOMMU group may pin
	 * too; it borrows the IOMMU mapping's pins).  B13: without one, or in
	 * a container with no group able to pin, -EINVAL.
	 */
	if (devices_.empty())
		return -err::INVAL;

	DmaContext c = context();
	ExtPins ext(c);
	int ret = 0;
	u64 i = 0;
	while (i < n) {
		const u64 iova = user_iova + (i << abi::PAGE_SHIFT);
		Dma *d = dmas_.find(iova, iova);
		if (!d || d->unmapping) {
			ret = -err::INVAL; /* B15 */
			break;
		}
		if ((d->prot & prot) != prot) {
			ret = -err::PERM;
			break;
		}
		const u64 m = min_u64(n - i, (d->last() - iova + 1) >> abi::PAGE_SHIFT);
		ret = ext.pin(*d, iova, m, pfns + i);
		if (ret)
			break;
		dirty_.mark(*d, iova - d->iova, m << abi::PAGE_SHIFT);
		i += m;
	}
	denied = c.denied;
	if (ret) {
		/* B15/B19: undo this call's pins in the mappings before the failure. */
		unpin_locked(user_iova, i);
		return ret; /* vfio_cxx_pin_pages zeroes the caller's array */
	}
	/* A group whose device pins writes through pinned pages (type1's promotion). */
	if (Group *grp = g ? topo_.find(g) : nullptr)
		topo_.pinned_scope(*grp);
	return npage;
}

void IoPagetable::unpin(u64 iova, int npage) noexcept
{
	lock_.assert_held();
	if (!v2_ || npage <= 0 || (iova & (abi::PAGE_SIZE - 1)))
		return;
	unpin_locked(iova, static_cast<u64>(npage));
}

int IoPagetable::rw(u64 iova, void *data, u64 count, bool write) noexcept
{
	lock_.assert_held();
	if (dmas_.vaddr_invalid())
		return -err::BUSY;
	u8 *buf = static_cast<u8 *>(data);
	while (count) {
		Dma *d = dmas_.find(iova, iova);
		if (!d)
			return -err::INVAL;
		/* As type1: reading needs READ, writing needs READ and WRITE. */
		if ((write && !(d->prot & KAPI_IOMMU_WRITE)) || !(d->prot & KAPI_IOMMU_READ))
			return -err::PERM;
		const u64 off = iova - d->iova;
		const u64 n = min_u64(count, d->size - off);
		int ret = mm_rw(d->mm(), d->vaddr + off, buf, n, write);
		if (ret)
			return ret;
		if (write)
			dirty_.mark(*d, off, n);
		iova += n;
		buf += n;
		count -= n;
	}
	return 0;
}

/* ---- the Container's ops ------------------------------------------------ */

int Container::pin_pages(kapi_group *g, u64 iova, int npage, int prot, u64 *pfns) noexcept
{
	Guard guard(lock_);
	DeniedCharge denied;
	int ret = iopt_.pin(g, iova, npage, prot, pfns, denied);
	report_denied(denied);
	return ret;
}

void Container::unpin_pages(u64 iova, int npage) noexcept
{
	Guard guard(lock_);
	iopt_.unpin(iova, npage);
}

int Container::dma_rw(u64 iova, void *data, u64 count, bool write) noexcept
{
	Guard guard(lock_);
	return iopt_.rw(iova, data, count, write);
}

void Container::register_device(kapi_device *dev) noexcept
{
	Guard devices(devices_lock_);
	Guard guard(lock_);
	devices_.add(dev);
}

void Container::unregister_device(kapi_device *dev) noexcept
{
	Guard devices(devices_lock_);
	Guard guard(lock_);
	devices_.remove(dev);
}

} /* namespace vfio_cxx */
