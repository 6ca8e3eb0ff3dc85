/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfio-cxx user API: what the vfio_iommu_cxx backend adds to <linux/vfio.h>.
 *
 * A container is served by this backend when VFIO_SET_IOMMU is given
 * VFIO_CXX_IOMMU (always), or VFIO_TYPE1_IOMMU / VFIO_TYPE1v2_IOMMU while the
 * module parameter claim_type1 is set (the default; see
 * Documentation/admin-guide.rst).
 *
 * Versions (the vfio-cxx release, ../../VERSION; the loaded module's is in
 * /sys/module/vfio_iommu_cxx/version and `modinfo -F version vfio_iommu_cxx`):
 *   0.1.0  VFIO_CXX_IOMMU; preregistered memory (VFIO_CXX_REGISTER_MEMORY,
 *          VFIO_CXX_UNREGISTER_MEMORY, VFIO_CXX_INFO_CAP_PREREG);
 *          VFIO_CXX_EXIT_POLICY.
 *   0.2.0  no change to this header (the module reports its version).
 * Later releases add a line here for what they add.
 */
#ifndef _UAPI_LINUX_VFIO_CXX_H
#define _UAPI_LINUX_VFIO_CXX_H

/*
 * Private IOMMU type / extension id ('VCX1'), since 0.1.0.
 * VFIO_CHECK_EXTENSION answers 1 when vfio_iommu_cxx is loaded.  A container
 * set to it speaks the Type1v2 user API.
 */
#define VFIO_CXX_IOMMU		0x56435831UL

#include <linux/types.h>
#include <linux/vfio.h>

/*
 * Preregistered memory, on containers set to VFIO_CXX_IOMMU (seeds 000/002),
 * since 0.1.0.
 *
 * The sPAPR ioctls and struct vfio_iommu_spapr_register_memory (argsz,
 * flags = 0, vaddr, size; page aligned).  REGISTER pins the whole region in
 * the caller's mm and charges it to RLIMIT_MEMLOCK at once; a later
 * VFIO_IOMMU_MAP_DMA whose vaddr range lies inside a region of the same mm
 * takes its pages from it (no pinning, no second charge).  Regions belong
 * to the container: closing it unpins and uncharges them all, and the same
 * region registered in two containers is pinned once per container.
 *
 * Errors: EINVAL misaligned, empty, wrapping, nonzero flags, or overlapping
 * another region of the container without being equal to it; EBUSY the
 * same region is registered in this container already; EPERM the caller's
 * mm is not the one that registered the container's first region; ENOMEM
 * over RLIMIT_MEMLOCK without CAP_IPC_LOCK; ENOENT (unregister) no such
 * region in this container; EBUSY (unregister) a DMA mapping still uses it.
 *
 * VFIO_IOMMU_SPAPR_REGISTER_MEMORY has the number of VFIO_IOMMU_DIRTY_PAGES
 * (VFIO_BASE + 17): on a VFIO_CXX_IOMMU container a request with flags == 0
 * is a registration (a dirty-pages request needs exactly one flag, and
 * flags == 0 is EINVAL there).
 */
#define VFIO_CXX_REGISTER_MEMORY	VFIO_IOMMU_SPAPR_REGISTER_MEMORY
#define VFIO_CXX_UNREGISTER_MEMORY	VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY

/*
 * VFIO_IOMMU_GET_INFO capability of VFIO_CXX_IOMMU containers: the
 * preregistered regions of the container (since 0.1.0).
 */
#define VFIO_CXX_INFO_CAP_PREREG	0x5643
struct vfio_cxx_info_cap_prereg {
	struct vfio_info_cap_header header;
	__u32	flags;		/* 0 */
	__u32	nr_regions;
	__u64	pinned_bytes;
};

/*
 * VFIO_CXX_EXIT_POLICY - _IOW(VFIO_TYPE, 0xc0, struct vfio_cxx_exit_policy),
 * since 0.1.0.
 *
 * What happens to the pages of a process (an mm) that exits while a
 * container still maps them, for containers served by vfio_iommu_cxx:
 *
 *   VFIO_CXX_EXIT_KEEP (Type1 semantics): its mappings stay pinned until
 *     they are unmapped or the container is closed.
 *   VFIO_CXX_EXIT_RELEASE: when the mm exits, an MMU notifier unmaps every
 *     mapping it owns (mdev drivers are told first), unpins and uncharges
 *     them and its preregistered regions, before the exit completes.
 *
 * The default comes from the module parameter exit_policy.  Set it before
 * the first VFIO_IOMMU_MAP_DMA; it applies to the mms that map or register
 * from then on.  Errors: EINVAL unknown policy or flags.
 */
#define VFIO_CXX_EXIT_KEEP	0
#define VFIO_CXX_EXIT_RELEASE	1
struct vfio_cxx_exit_policy {
	__u32	argsz;
	__u32	flags;		/* 0 */
	__u32	policy;		/* VFIO_CXX_EXIT_* */
	__u32	pad;
};
#define VFIO_CXX_EXIT_POLICY	_IO(VFIO_TYPE, 0xc0)

#endif /* _UAPI_LINUX_VFIO_CXX_H */
