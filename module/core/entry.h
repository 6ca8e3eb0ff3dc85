/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core's entry points: implemented in C++ (entry.cpp, registry.cpp),
 * called by kapi's C files (main.c: the VFIO backend ops; netlink.c: the
 * registry views).  The other direction is ../kapi/services.h.  Builtin
 * types and kapi's opaque types only.
 *
 * Locking: kapi calls these with no vfio-cxx lock held; each takes what it
 * needs, in container.h's order.
 */
#ifndef VFIO_CXX_ENTRY_H
#define VFIO_CXX_ENTRY_H

#include "../kapi/types.h"

KAPI_BEGIN_DECLS

struct kapi_group;
struct kapi_device;
struct kapi_mm_watch;

/* enum vfio_group_type, checked against the kernel's in abi_check.c */
enum vfio_cxx_group_type {
	VFIO_CXX_GROUP_IOMMU = 0,
	VFIO_CXX_GROUP_EMULATED = 1,
	VFIO_CXX_GROUP_NOIOMMU = 2,
};

struct vfio_cxx_container;

KAPI_ENTRY int vfio_cxx_open(unsigned long type, struct vfio_cxx_container **out) KAPI_NOEXCEPT;
KAPI_ENTRY void vfio_cxx_release(struct vfio_cxx_container *c) KAPI_NOEXCEPT;
/* c is NULL for VFIO_CHECK_EXTENSION before VFIO_SET_IOMMU. */
KAPI_ENTRY long vfio_cxx_ioctl(struct vfio_cxx_container *c, unsigned int cmd, unsigned long arg) KAPI_NOEXCEPT;
KAPI_ENTRY int vfio_cxx_attach_group(struct vfio_cxx_container *c, struct kapi_group *g, int type) KAPI_NOEXCEPT;
KAPI_ENTRY void vfio_cxx_detach_group(struct vfio_cxx_container *c, struct kapi_group *g) KAPI_NOEXCEPT;

/*
 * The mdev ("external") pinning interface.  pin_pages stores npage PFNs in
 * pfns and returns npage, or returns a negative errno with every pin of
 * the call undone and pfns zeroed (-EINVAL without touching pfns if c or
 * pfns is NULL or npage <= 0).  prot is KAPI_IOMMU_READ/WRITE.  unpin_pages
 * ignores a NULL c and npage <= 0; dma_rw is -EINVAL for a NULL c or data.
 */
KAPI_ENTRY int vfio_cxx_pin_pages(struct vfio_cxx_container *c, struct kapi_group *g, kapi_u64 iova,
				  int npage, int prot, kapi_u64 *pfns) KAPI_NOEXCEPT;
KAPI_ENTRY void vfio_cxx_unpin_pages(struct vfio_cxx_container *c, kapi_u64 iova, int npage) KAPI_NOEXCEPT;
KAPI_ENTRY int vfio_cxx_dma_rw(struct vfio_cxx_container *c, kapi_u64 iova, void *data, unsigned long count,
			       int write) KAPI_NOEXCEPT;
KAPI_ENTRY void vfio_cxx_register_device(struct vfio_cxx_container *c, struct kapi_device *dev) KAPI_NOEXCEPT;
KAPI_ENTRY void vfio_cxx_unregister_device(struct vfio_cxx_container *c, struct kapi_device *dev) KAPI_NOEXCEPT;
/*
 * The exit of a watched mm (kapi_mm_watch_create's ctx).  try_only: do not
 * wait for a container lock; returns 0 if one was busy (then call it again
 * without try_only, from a context where waiting holds up no one), else 1.
 */
KAPI_ENTRY int vfio_cxx_mm_released(void *ctx, struct kapi_mm_watch *w, int try_only) KAPI_NOEXCEPT;

struct vfio_cxx_stats {
	unsigned long long containers_live;
	unsigned long long containers_opened;	/* since load */
	unsigned long long groups_attached;	/* live */
	unsigned long long domains_live;
	unsigned long long dmas_live;		/* DMA mappings, all containers */
	unsigned long long pages_pinned;	/* pinned for IOMMU mappings */
	unsigned long long external_pages;	/* distinct pages pinned by mdev drivers */
	unsigned long long devices_registered;	/* emulated devices told about unmaps */
	unsigned long long prereg_pages;	/* pinned by preregistered regions */
	unsigned long long mm_exits;		/* owner exits handled (exit policy release) */
};
KAPI_ENTRY void vfio_cxx_get_stats(struct vfio_cxx_stats *s) KAPI_NOEXCEPT;
/*
 * The counters as the debugfs stats file shows them: one "name value\n"
 * line each, in the order above.  Writes at most size bytes (no NUL) and
 * returns how many; VFIO_CXX_STATS_TEXT_MAX bytes always hold it all.
 */
#define VFIO_CXX_STATS_TEXT_MAX 512
KAPI_ENTRY unsigned long vfio_cxx_format_stats(char *buf, unsigned long size) KAPI_NOEXCEPT;
/* Nonzero if anything is still allocated (checked at module exit). */
KAPI_ENTRY int vfio_cxx_busy(void) KAPI_NOEXCEPT;

KAPI_END_DECLS

#endif /* VFIO_CXX_ENTRY_H */
