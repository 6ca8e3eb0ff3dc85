// SPDX-License-Identifier: GPL-2.0
/*
 * kapi: what the core needs for mediated (mdev) devices: an index map over
 * the kernel's xarray for the per-mapping external pin records, and the
 * list of a container's emulated devices, linked through the vfio_device's
 * own iommu_entry as vfio_iommu_type1 links it.
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

int kapi_xmap_store(struct kapi_xmap *m, unsigned long index, kapi_u64 value)
{
	if (WARN_ON(!value || value > KAPI_XMAP_VALUE_MAX))
		return -EINVAL;
	return xa_err(xa_store(&m->xa, index, xa_mk_value(value), GFP_KERNEL_ACCOUNT));
}

long kapi_xmap_store_many(struct kapi_xmap *m, unsigned long first, const kapi_u64 *values,
			  unsigned long n, unsigned long *stored)
{
	XA_STATE(xas, &m->xa, first);
	unsigned long i = 0;

	do {
		xas_lock(&xas);
		for (; i < n; i++) {
			if (WARN_ON(!values[i] || values[i] > KAPI_XMAP_VALUE_MAX)) {
				xas_set_err(&xas, -EINVAL);
				break;
			}
			xas_store(&xas, xa_mk_value(values[i]));
			if (xas_error(&xas))
				break;
			xas_next(&xas);
		}
		xas_unlock(&xas);
	} while (xas_nomem(&xas, GFP_KERNEL_ACCOUNT));
	*stored = i;
	return xas_error(&xas) ? xas_error(&xas) : (long)n;
}

kapi_u64 kapi_xmap_load(struct kapi_xmap *m, unsigned long index)
{
	void *e = xa_load(&m->xa, index);

	return e ? xa_to_value(e) : 0;
}

void kapi_xmap_erase(struct kapi_xmap *m, unsigned long index)
{
	xa_erase(&m->xa, index);
}

kapi_u64 kapi_xmap_find(struct kapi_xmap *m, unsigned long *index, unsigned long last)
{
	void *e = xa_find(&m->xa, index, last, XA_PRESENT);

	return e ? xa_to_value(e) : 0;
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

int kapi_devlist_add(struct kapi_devlist *l, struct kapi_device *dev)
{
	struct vfio_device *vdev = to_vdev(dev);

	/* A driver that cannot be told about unmaps can never pin (as type1). */
	if (!vdev->ops->dma_unmap)
		return 0;
	list_add(&vdev->iommu_entry, &l->head);
	return 1;
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
