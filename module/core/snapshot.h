/* SPDX-License-Identifier: GPL-2.0 */
/* Snapshots of the registry's containers, for the netlink family. */
#ifndef VFIO_CXX_SNAPSHOT_H
#define VFIO_CXX_SNAPSHOT_H

#include "../kapi/types.h"

/*
 * What netlink shows of a container, its mappings and its regions
 * (Container::summary, mapping_from, prereg_from; core/netlink.cpp puts
 * them into messages).
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

#endif
