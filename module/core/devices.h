/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DeviceList: the emulated (mdev) devices registered with a container, to
 * be told before a mapping they may have pinned in goes (seed 001 R4,
 * B10).  The list itself is the kernel's (kapi_devlist, linked through each
 * vfio_device's iommu_entry); this keeps its count.
 *
 * Ownership: the Container owns its DeviceList (devices_); the devices are
 * the VFIO core's.  Locking: changed under both of the container's locks
 * (devices_lock_ then lock_), so either one keeps it still; notify_unmap()
 * runs under devices_lock_ alone (the container drops lock_ for it: the
 * drivers' unpin_pages takes it).
 */
#ifndef VFIO_CXX_DEVICES_H
#define VFIO_CXX_DEVICES_H

#include <vfio_cxx/base.h>
#include <vfio_cxx/sync.h>
#include "../kapi/services.h"
#include "stats.h"

namespace vfio_cxx {

class DeviceList {
public:
	DeviceList(Mutex &devices_lock, Mutex &lock) noexcept
		: devices_lock_(devices_lock), lock_(lock), l_(kapi_devlist_create())
	{
	}
	VFIO_CXX_NO_COPY(DeviceList);
	~DeviceList()
	{
		if (l_)
			kapi_devlist_destroy(l_);
	}
	bool valid() const noexcept { return l_ != nullptr; }

	/* Whether a device is registered (either lock held). */
	bool empty() const noexcept { return n_ == 0; }
	/*
	 * Register dev (both locks held).  A driver that cannot be told about
	 * unmaps (no dma_unmap) is not registered, so it can never pin (as
	 * type1).
	 */
	void add(kapi_device *dev) noexcept
	{
		held();
		if (!kapi_device_has_dma_unmap(dev))
			return;
		kapi_devlist_add(l_, dev);
		n_++;
		g_stats.devices_registered.inc();
	}
	/* Unregister dev (both locks held); nothing if it was not registered. */
	void remove(kapi_device *dev) noexcept
	{
		held();
		if (kapi_devlist_del(l_, dev)) {
			n_--;
			g_stats.devices_registered.dec();
		}
	}
	/* Tell every device that [iova, iova + size) goes (devices_lock_ held, lock_ not). */
	void notify_unmap(u64 iova, u64 size) noexcept
	{
		devices_lock_.assert_held();
		kapi_devlist_notify_unmap(l_, iova, size);
	}

private:
	void held() noexcept
	{
		devices_lock_.assert_held();
		lock_.assert_held();
	}

	Mutex &devices_lock_;
	Mutex &lock_;
	kapi_devlist *l_;
	u32 n_ = 0;
};

} /* namespace vfio_cxx */

#endif
