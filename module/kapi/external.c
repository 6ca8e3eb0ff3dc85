// SPDX-License-Identifier: GPL-2.0
/*
 * kapi: what the core needs for mediated (mdev) devices: an index map over
 * the kernel's xarray for the per-mapping pin tables (core/pin_table.h), and the
 * list of a container's emulated devices, linked through the vfio_device's
 * own iommu_entry as vfio_iommu_type1 links it.
 *
 * Locking: the xarray takes its own lock inside each call (the core
 * serialises its users under the container's lock_); the device list is
 * changed under the container's devices_lock_ and lock_, and walked under
 * devices_lock_ (core/devices.h).
 */
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

#include "services.h"

struct kapi_xmap {
	struct xarray xa;
};

struct kapi_xmap *kapi_xmap_create(void)
{
	struct kapi_xmap *m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);

	if (m)
		xa_init(&m->xa);
	return m;
}

void kapi_xmap_destroy(struct kapi_xmap *m)
{
	WARN_ON(!xa_empty(&m->xa));
	xa_destroy(&m->xa);
	kfree(m);
}

int kapi_xmap_store(struct kapi_xmap *m, unsigned long index, void *p)
{
	if (WARN_ON(!p || xa_is_value(p) || xa_is_internal(p)))
		return -EINVAL;
	return xa_err(xa_store(&m->xa, index, p, GFP_KERNEL_ACCOUNT));
}

void *kapi_xmap_load(struct kapi_xmap *m, unsigned long index)
{
	return xa_load(&m->xa, index);
}

void kapi_xmap_erase(struct kapi_xmap *m, unsigned long index)
{
	xa_erase(&m->xa, index);
}

void *kapi_xmap_find(struct kapi_xmap *m, unsigned long *index, unsigned long last)
{
	return xa_find(&m->xa, index, last, XA_PRESENT);
}

struct kapi_devlist {
	struct list_head head;
};

static struct vfio_device *to_vdev(struct kapi_device *dev)
{
	return (struct vfio_device *)dev;
}

struct kapi_devlist *kapi_devlist_create(void)
{
	struct kapi_devlist *l = kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);

	if (l)
		INIT_LIST_HEAD(&l->head);
	return l;
}

void kapi_devlist_destroy(struct kapi_devlist *l)
{
	WARN_ON(!list_empty(&l->head));
	kfree(l);
}

int kapi_device_has_dma_unmap(struct kapi_device *dev)
{
	return to_vdev(dev)->ops->dma_unmap != NULL;
}

void kapi_devlist_add(struct kapi_devlist *l, struct kapi_device *dev)
{
	list_add(&to_vdev(dev)->iommu_entry, &l->head);
}

int kapi_devlist_del(struct kapi_devlist *l, struct kapi_device *dev)
{
	struct vfio_device *vdev;

	list_for_each_entry(vdev, &l->head, iommu_entry) {
		if (vdev == to_vdev(dev)) {
			list_del(&vdev->iommu_entry);
			return 1;
		}
	}
	return 0;
}

void kapi_devlist_notify_unmap(struct kapi_devlist *l, kapi_u64 iova, kapi_u64 length)
{
	struct vfio_device *vdev;

	list_for_each_entry(vdev, &l->head, iommu_entry)
		vdev->ops->dma_unmap(vdev, iova, length);
}
