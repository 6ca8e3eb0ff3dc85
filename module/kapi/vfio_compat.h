/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compat definitions of the VFIO core's private interface for IOMMU backends.
 *
 * struct vfio_iommu_driver_ops, enum vfio_group_type and the registration
 * functions live in the kernel's private drivers/vfio/vfio.h, which no
 * headers package ships.  Each layout the VFIO core has had since 6.1 has a
 * verbatim copy below, numbered 1.. in the order of the blocks.
 *
 * Which one the target kernel has is not guessed from its version: at build
 * time scripts/kconf.sh compares each layout, as pahole prints it, with the
 * kernel's own (the BTF of its vfio.ko, or its drivers/vfio/vfio.h when the
 * tree has one), and writes the one that is equal as VFIO_CXX_OPS_LAYOUT in
 * vfio_cxx_kconf.h.  If none is, the build stops there.
 *
 * scripts/check-compat.sh also checks that each block is, verbatim, what
 * Debian's linux-source package of the series in its name defines.
 */
#ifndef VFIO_CXX_VFIO_COMPAT_H
#define VFIO_CXX_VFIO_COMPAT_H

#include <linux/types.h>
#ifndef VFIO_CXX_KCONF_PROBE /* scripts/kconf.sh defines the layout itself */
#include "vfio_cxx_kconf.h"
#endif

struct iommu_group;
struct iommu_domain;
struct module;
struct page;
struct vfio_device;

#if VFIO_CXX_OPS_LAYOUT == 1
#define VFIO_CXX_OPS_LAYOUT_NAME "6.1"
#define VFIO_CXX_HAVE_NOTIFY_TYPE 1
/* compat:6.1:begin -- drivers/vfio/vfio.h of linux-source-6.1 */
enum vfio_group_type {
	/*
	 * Physical device with IOMMU backing.
	 */
	VFIO_IOMMU,

	/*
	 * Virtual device without IOMMU backing. The VFIO core fakes up an
	 * iommu_group as the iommu_group sysfs interface is part of the
	 * userspace ABI.  The user of these devices must not be able to
	 * directly trigger unmediated DMA.
	 */
	VFIO_EMULATED_IOMMU,

	/*
	 * Physical device without IOMMU backing. The VFIO core fakes up an
	 * iommu_group as the iommu_group sysfs interface is part of the
	 * userspace ABI.  Users can trigger unmediated DMA by the device,
	 * usage is highly dangerous, requires an explicit opt-in and will
	 * taint the kernel.
	 */
	VFIO_NO_IOMMU,
};

/* events for the backend driver notify callback */
enum vfio_iommu_notify_type {
	VFIO_IOMMU_CONTAINER_CLOSE = 0,
};

struct vfio_iommu_driver_ops {
	char		*name;
	struct module	*owner;
	void		*(*open)(unsigned long arg);
	void		(*release)(void *iommu_data);
	long		(*ioctl)(void *iommu_data, unsigned int cmd,
				 unsigned long arg);
	int		(*attach_group)(void *iommu_data,
					struct iommu_group *group,
					enum vfio_group_type);
	void		(*detach_group)(void *iommu_data,
					struct iommu_group *group);
	int		(*pin_pages)(void *iommu_data,
				     struct iommu_group *group,
				     dma_addr_t user_iova,
				     int npage, int prot,
				     struct page **pages);
	void		(*unpin_pages)(void *iommu_data,
				       dma_addr_t user_iova, int npage);
	void		(*register_device)(void *iommu_data,
					   struct vfio_device *vdev);
	void		(*unregister_device)(void *iommu_data,
					     struct vfio_device *vdev);
	int		(*dma_rw)(void *iommu_data, dma_addr_t user_iova,
				  void *data, size_t count, bool write);
	struct iommu_domain *(*group_iommu_domain)(void *iommu_data,
						   struct iommu_group *group);
	void		(*notify)(void *iommu_data,
				  enum vfio_iommu_notify_type event);
};
/* compat:6.1:end */

#elif VFIO_CXX_OPS_LAYOUT == 2
#define VFIO_CXX_OPS_LAYOUT_NAME "6.12"
/* compat:6.12:begin -- drivers/vfio/vfio.h of linux-source-6.12 */
enum vfio_group_type {
	/*
	 * Physical device with IOMMU backing.
	 */
	VFIO_IOMMU,

	/*
	 * Virtual device without IOMMU backing. The VFIO core fakes up an
	 * iommu_group as the iommu_group sysfs interface is part of the
	 * userspace ABI.  The user of these devices must not be able to
	 * directly trigger unmediated DMA.
	 */
	VFIO_EMULATED_IOMMU,

	/*
	 * Physical device without IOMMU backing. The VFIO core fakes up an
	 * iommu_group as the iommu_group sysfs interface is part of the
	 * userspace ABI.  Users can trigger unmediated DMA by the device,
	 * usage is highly dangerous, requires an explicit opt-in and will
	 * taint the kernel.
	 */
	VFIO_NO_IOMMU,
};

struct vfio_iommu_driver_ops {
	char		*name;
	struct module	*owner;
	void		*(*open)(unsigned long arg);
	void		(*release)(void *iommu_data);
	long		(*ioctl)(void *iommu_data, unsigned int cmd,
				 unsigned long arg);
	int		(*attach_group)(void *iommu_data,
					struct iommu_group *group,
					enum vfio_group_type);
	void		(*detach_group)(void *iommu_data,
					struct iommu_group *group);
	int		(*pin_pages)(void *iommu_data,
				     struct iommu_group *group,
				     dma_addr_t user_iova,
				     int npage, int prot,
				     struct page **pages);
	void		(*unpin_pages)(void *iommu_data,
				       dma_addr_t user_iova, int npage);
	void		(*register_device)(void *iommu_data,
					   struct vfio_device *vdev);
	void		(*unregister_device)(void *iommu_data,
					     struct vfio_device *vdev);
	int		(*dma_rw)(void *iommu_data, dma_addr_t user_iova,
				  void *data, size_t count, bool write);
	struct iommu_domain *(*group_iommu_domain)(void *iommu_data,
						   struct iommu_group *group);
};
/* compat:6.12:end */

#elif VFIO_CXX_OPS_LAYOUT == 0
/* No container interface (VFIO_CXX_HAVE_CONTAINER is 0): nothing to register with. */
#define VFIO_CXX_OPS_LAYOUT_NAME "none"
struct vfio_iommu_driver_ops;
#else
#error "vfio_iommu_cxx: VFIO_CXX_OPS_LAYOUT names no layout of this header"
#endif

/* Every layout: exported by vfio.ko (EXPORT_SYMBOL_GPL) when it has containers. */
int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

#endif
