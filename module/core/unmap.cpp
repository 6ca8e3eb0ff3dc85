// SPDX-License-Identifier: GPL-2.0
/*
 * UNMAP_DMA: v2 and v1 semantics, UNMAP_ALL, VFIO_DMA_UNMAP_FLAG_VADDR and
 * the unmap with a dirty bitmap.
 *
 * Locking: unmap_dma takes lock_ alone for a plain unmap, and devices_lock_
 * then lock_ (container.h) for one that must tell vendor drivers first
 * (IoPagetable::UnmapPass), for UNMAP|VADDR and for the dirty bitmap; the
 * unmap notification inside drops lock_ (io_pagetable.cpp).
 */
#include "container.h"
#include "io_pagetable.h"
#include "pages.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/* ---- unmap ------------------------------------------------------------ */

int IoPagetable::unmap(abi::DmaUnmap &unmap, const abi::Bitmap *bitmap, UnmapPass &pass) noexcept
{
	lock_.assert_held();
	const bool unmap_all = unmap.flags & abi::DMA_UNMAP_FLAG_ALL;
	const bool invalidate_vaddr = unmap.flags & abi::DMA_UNMAP_FLAG_VADDR;
	const bool get_dirty = unmap.flags & abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	const u64 iova = unmap.iova;
	u64 size = unmap.size, unmapped = pass.unmapped;
	int ret = -err::INVAL;

	if (pass.devices_held || invalidate_vaddr || get_dirty)
		devices_lock_.assert_held();
	pass.stopped = false;
	unmap.size = 0;
	const u64 pgsize = topo_.min_pgsize();
	Dma *lowest = nullptr; /* the Dma at iova: the lowest one in the range, if any */
	if (!pass.checked) {
		/* Emulated devices cannot pin safely while vaddrs change. */
		if (invalidate_vaddr && topo_.emulated_groups())
			return -err::BUSY;
		if (iova & (pgsize - 1))
			return ret;
		if (unmap_all) {
			if (iova || size)
				return ret;
			size = U64_MAX;
		} else if (!size || (size & (pgsize - 1))) {
			return ret;
		} else if (iova + size - 1 < iova) {
			return kapi_type1_wrap_errno(); /* as the kernel's type1 */
		}
		/* With dirty tracking on, only the smallest page size. */
		if (get_dirty && (!dirty_.on() || bitmap->pgsize != pgsize))
			return ret;
		pass.last = unmap_all ? U64_MAX : iova + size - 1;
		/*
		 * v2: the range must not bisect a mapping.  v1 (VFIO_TYPE1_IOMMU):
		 * a request starting inside a mapping unmaps nothing, one covering a
		 * mapping's first IOVA unmaps all of it.
		 */
		if (v2_ && !unmap_all) {
			lowest = dmas_.find(iova, iova);
			if (lowest && lowest->iova != iova)
				return ret;
			/* One mapping exactly (the usual UNMAP): one lookup, not three. */
			Dma *d = lowest && lowest->last() >= pass.last ? lowest : dmas_.find(pass.last, pass.last);
			if (d && d->last() != pass.last)
				return ret;
		}
		pass.checked = true;
	}
	const u64 last = pass.last;

	ret = 0;
	u64 first_invalidated = U64_MAX;
	dmas_.for_each(iova, last, [&](Dma &d) __attribute__((always_inline)) {
		if (!v2_ && iova > d.iova)
			return false;
		/* Drivers to tell, or another unmap telling them: devices_lock_ first. */
		if (!pass.devices_held && (d.unmapping || (d.ext_pages && !devices_.empty()))) {
			pass.stopped = true;
			return false;
		}
		if (invalidate_vaddr) {
			if (d.vaddr_invalid) {
				/* Already invalid: roll back this request's changes. */
				if (first_invalidated != U64_MAX)
					dmas_.for_each(first_invalidated, d.iova - 1, [this](Dma &r) {
						dmas_.validate_vaddr(r, r.vaddr);
						return true;
					});
				ret = -err::INVAL;
				unmapped = 0;
				return false;
			}
			if (first_invalidated == U64_MAX)
				first_invalidated = d.iova;
			dmas_.invalidate_vaddr(d);
			unmapped += d.size;
			return true;
		}
		notify_unmap(d);
		if (get_dirty) {
			/*
			 * notify_unmap() ran without the container lock: a
			 * DIRTY_PAGES STOP may have ended tracking and freed
			 * the bitmaps meanwhile (found by fuzz_test as a NULL
			 * dereference).  The request was made while tracking
			 * was on, so the unmap goes ahead and reports every
			 * page of d dirty (DirtyTracking::report makes a
			 * missing bitmap all dirty), which is what the device
			 * may have written; ENOMEM leaves d mapped.
			 */
			ret = dirty_.report(bitmap->data, d, iova, ctz(pgsize));
			if (ret) {
				/* d stays: settle what its vendor drivers unpinned. */
				d.unmapping = false;
				if (!d.iommu_mapped) {
					DmaContext c = context();
					DmaPages(c).settle(d, d.ext_owned);
				}
				return false;
			}
		}
		unmapped += d.size;
		remove(d);
		return true;
	}, lowest);
	unmap.size = pass.unmapped = unmapped;
	return ret;
}

VFIO_CXX_INLINE_ONE_CALLER long Container::unmap_dma(unsigned long arg) noexcept
{
	abi::DmaUnmap unmap;
	abi::Bitmap bitmap{};
	if (kapi_copy_from_user(&unmap, arg, abi::DMA_UNMAP_MINSZ))
		return -err::FAULT;
	constexpr u32 mask = abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | abi::DMA_UNMAP_FLAG_VADDR |
			     abi::DMA_UNMAP_FLAG_ALL;
	if (unmap.argsz < abi::DMA_UNMAP_MINSZ || (unmap.flags & ~mask))
		return -err::INVAL;
	if ((unmap.flags & abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (unmap.flags & (abi::DMA_UNMAP_FLAG_ALL | abi::DMA_UNMAP_FLAG_VADDR)))
		return -err::INVAL;
	if (unmap.flags & abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap.argsz < abi::DMA_UNMAP_MINSZ + sizeof(bitmap))
			return -err::INVAL;
		if (kapi_copy_from_user(&bitmap, arg + abi::DMA_UNMAP_MINSZ, sizeof(bitmap)))
			return -err::FAULT;
		if (!kapi_access_ok(bitmap.data, bitmap.size))
			return -err::INVAL;
		if (!bitmap.pgsize)
			return -err::INVAL;
		int ret = verify_bitmap_size(unmap.size >> ctz(bitmap.pgsize), bitmap.size);
		if (ret)
			return ret;
	}
	int ret = 0;
	IoPagetable::UnmapPass pass;
	const bool plain = !(unmap.flags & (abi::DMA_UNMAP_FLAG_VADDR | abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP));
	if (plain) {
		Guard guard(lock_);
		ret = iopt_.unmap(unmap, &bitmap, pass);
	}
	if (!plain || pass.stopped) {
		pass.devices_held = true;
		Guard devices(devices_lock_);
		Guard guard(lock_);
		ret = iopt_.unmap(unmap, &bitmap, pass);
	}
	if (ret)
		return ret;
	return kapi_copy_to_user(arg, &unmap, abi::DMA_UNMAP_MINSZ) ? -err::FAULT : 0;
}

} /* namespace vfio_cxx */
