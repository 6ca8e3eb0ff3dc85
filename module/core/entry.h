/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core's entry points: implemented in C++ (entry.cpp, registry.cpp),
 * called by kapi's C files (main.c: the VFIO backend ops; netlink.c: the
 * registry views).  The other direction is ../kapi/services.h.  Builtin
 * types and kapi's opaque types only.
 */
#ifndef VFIO_CXX_ENTRY_H
#define VFIO_CXX_ENTRY_H

#include "../kapi/types.h"

KAPI_BEGIN_DECLS

struct kapi_group;
struct kapi_device;
struct kapi_mm_watch;
struct kapi_viewer;

/* enum vfio_group_type, checked against the kernel's in abi_check.c */
enum vfio_cxx_group_type {
	VFIO_CXX_GROUP_IOMMU = 0,
	VFIO_CXX_GROUP_EMULATED = 1,
	VFIO_CXX_GROUP_NOIOMMU = 2,
};

struct vfio_cxx_container;

int vfio_cxx_open(unsigned long type, struct vfio_cxx_container **out) KAPI_NOEXCEPT;
void vfio_cxx_release(struct vfio_cxx_container *c) KAPI_NOEXCEPT;
/* c is NULL for VFIO_CHECK_EXTENSION before VFIO_SET_IOMMU. */
long vfio_cxx_ioctl(struct vfio_cxx_container *c, unsigned int cmd, unsigned long arg) KAPI_NOEXCEPT;
int vfio_cxx_attach_group(struct vfio_cxx_container *c, struct kapi_group *g, int type) KAPI_NOEXCEPT;
void vfio_cxx_detach_group(struct vfio_cxx_container *c, struct kapi_group *g) KAPI_NOEXCEPT;

/*
 * The mdev ("external") pinning interface.  pin_pages stores npage PFNs in
 * pfns and returns npage, or returns a negative errno with every pin of
 * the call undone and pfns zeroed.  prot is KAPI_IOMMU_READ/WRITE.
 */
int vfio_cxx_pin_pages(struct vfio_cxx_container *c, struct kapi_group *g, kapi_u64 iova,
		       int npage, int prot, kapi_u64 *pfns) KAPI_NOEXCEPT;
void vfio_cxx_unpin_pages(struct vfio_cxx_container *c, kapi_u64 iova, int npage) KAPI_NOEXCEPT;
int vfio_cxx_dma_rw(struct vfio_cxx_container *c, kapi_u64 iova, void *data, unsigned long count,
		    int write) KAPI_NOEXCEPT;
void vfio_cxx_register_device(struct vfio_cxx_container *c, struct kapi_device *dev) KAPI_NOEXCEPT;
void vfio_cxx_unregister_device(struct vfio_cxx_container *c, struct kapi_device *dev) KAPI_NOEXCEPT;
/*
 * The exit of a watched mm (kapi_mm_watch_create's ctx).  try_only: do not
 * wait for a container lock; returns 0 if one was busy (then call it again
 * without try_only, from a context where waiting holds up no one), else 1.
 */
int vfio_cxx_mm_released(void *ctx, struct kapi_mm_watch *w, int try_only) KAPI_NOEXCEPT;

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
void vfio_cxx_get_stats(struct vfio_cxx_stats *s) KAPI_NOEXCEPT;
/* Nonzero if anything is still allocated (checked at module exit). */
int vfio_cxx_busy(void) KAPI_NOEXCEPT;

/*
 * Introspection (registry.cpp), for the netlink family: what a viewer may
 * see of the registry (the "viewer" block below).
 */
#define VFIO_CXX_INFO_GROUPS_MAX 16
struct vfio_cxx_container_info {
	kapi_u64 id;			/* unique, increasing from 1 per module load */
	kapi_u64 mm_id;			/* kapi_mm_id() of the creator's mm */
	unsigned int tgid;		/* the creating process (VFIO_SET_IOMMU) */
	unsigned int uid;		/* its effective uid */
	unsigned int type;		/* VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_CXX_IOMMU */
	unsigned int groups;
	unsigned int domains;
	unsigned int ngroup_ids;	/* min(groups, VFIO_CXX_INFO_GROUPS_MAX) */
	int group_ids[VFIO_CXX_INFO_GROUPS_MAX];
	kapi_u64 mappings;
	kapi_u64 mapped_bytes;
	kapi_u64 pages_pinned;		/* for IOMMU mappings */
	kapi_u64 external_pages;	/* distinct pages pinned by mdev drivers */
	kapi_u64 prereg_pages;		/* pinned for preregistered regions */
	kapi_u64 locked_pages;		/* charged to locked_vm, all mms */
	kapi_u64 orphaned_mappings;	/* mappings of mms that have exited */
};
/* Mapping flags */
#define VFIO_CXX_MAPPING_IOMMU_MAPPED	1u	/* pinned and in every domain */
#define VFIO_CXX_MAPPING_VADDR_INVALID	2u	/* between UPDATE_VADDR steps */
struct vfio_cxx_mapping_info {
	kapi_u64 iova;
	kapi_u64 size;
	kapi_u64 vaddr;
	kapi_u64 mm_id;
	kapi_u64 pages_pinned;
	kapi_u64 external_pages;
	kapi_u64 locked_pages;
	unsigned int prot;		/* KAPI_IOMMU_READ | KAPI_IOMMU_WRITE */
	unsigned int flags;		/* VFIO_CXX_MAPPING_* */
};
struct vfio_cxx_prereg_info {
	kapi_u64 vaddr;
	kapi_u64 size;			/* bytes, all pinned */
	kapi_u64 mm_id;			/* kapi_mm_id() of the mm that registered it */
	kapi_u64 users;			/* DMA mappings backed by the region */
};

/*
 * The registry as viewer v sees it (registry.cpp).  The registry lock is
 * held for the list lookup only; GET_CONTAINER numbers come from the
 * container's lock-free summary, mappings and regions from a killable wait
 * for the container's lock with no global lock held.
 *   container_next: the visible container with the lowest id > after: 0,
 *     or -ENOENT if none.
 *   container_get: container id: 0, -ENOENT (none, or closed) or -EPERM
 *     (not visible; this check is audited).
 *   mapping_next: the mapping of container id with the lowest iova >= from;
 *   prereg_next: the region with the lowest vaddr >= from_vaddr:
 *     0; 1 if there is none (the end of the dump); -ENOENT or -EPERM as
 *     above; -EINTR (a fatal signal while waiting for the container).
 */
int vfio_cxx_view_container_next(const struct kapi_viewer *v, kapi_u64 after,
				 struct vfio_cxx_container_info *out) KAPI_NOEXCEPT;
int vfio_cxx_view_container_get(const struct kapi_viewer *v, kapi_u64 id,
				struct vfio_cxx_container_info *out) KAPI_NOEXCEPT;
int vfio_cxx_view_mapping_next(const struct kapi_viewer *v, kapi_u64 id, kapi_u64 from,
			       struct vfio_cxx_mapping_info *out) KAPI_NOEXCEPT;
int vfio_cxx_view_prereg_next(const struct kapi_viewer *v, kapi_u64 id, kapi_u64 from_vaddr,
			      struct vfio_cxx_prereg_info *out) KAPI_NOEXCEPT;

KAPI_END_DECLS

#endif /* VFIO_CXX_ENTRY_H */
