/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The vfio_cxx generic netlink family: what vfio_iommu_cxx.ko serves, live.
 * See Documentation/uapi.rst.
 *
 * Family "vfio_cxx", version 1.  VFIO_CXX_GENL_VERSION is the protocol's
 * version (the genl header's version, CTRL_ATTR_VERSION), not the release's:
 * it changes only if a release changes the meaning of an existing command or
 * attribute; added commands and attributes keep it.  The release of the
 * loaded module is /sys/module/vfio_iommu_cxx/version (../../VERSION).
 *   protocol 1: vfio-cxx 0.1.0 and later.
 * Versions (vfio-cxx releases) that added to the family:
 *   0.1.0  every command, attribute and event below.
 *   0.2.0  nothing.
 * Later releases add a line here for what they add.
 *
 * Requests:
 *
 *   VFIO_CXX_CMD_GET_CONTAINER
 *     dump (NLM_F_DUMP): one message per visible container, by id;
 *     do: VFIO_CXX_A_CONTAINER_ID required, one message, or ENOENT (no such
 *     container) / EPERM (not visible to the caller).
 *   VFIO_CXX_CMD_GET_MAPPINGS
 *     dump, VFIO_CXX_A_CONTAINER_ID required: one message per DMA mapping
 *     of that container in IOVA order; the dump fails with ENOENT/EPERM.
 *   VFIO_CXX_CMD_GET_STATS
 *     do: the module-wide counters (VFIO_CXX_A_STAT_*).
 *   VFIO_CXX_CMD_GET_PREREGS
 *     dump, VFIO_CXX_A_CONTAINER_ID required: one message per preregistered
 *     region (VFIO_CXX_REGISTER_MEMORY) of that container in vaddr order,
 *     with _CONTAINER_ID, _VADDR, _SIZE (bytes), _MM_ID (the mm that
 *     registered it), _PAGES_PINNED (size / 4096) and _PREREG_USERS (the
 *     DMA mappings backed by it); the dump fails with ENOENT/EPERM as
 *     GET_MAPPINGS does.
 *
 * Visibility (Documentation/netlink.rst, "Who sees what"): a caller with
 * CAP_SYS_ADMIN (the socket's opener and the sender both) sees every
 * container; any other caller sees a container only while the process that
 * created it (VFIO_SET_IOMMU) is alive and both the opener's and the
 * sender's credentials may read that process as ptrace's
 * PTRACE_MODE_READ_FSCREDS allows (/proc/<pid>/maps), with the same LSM
 * label.  A dump is judged by the credentials of the request that started
 * it.  GET_STATS is open to all.  GET_MAPPINGS/GET_PREREGS dumps may also
 * end with ENOENT (the container was closed meanwhile) or EINTR (the
 * reader was killed while waiting for the container).
 *
 * Multicast group "events" (binding needs CAP_SYS_ADMIN), one message per
 * event with VFIO_CXX_A_CONTAINER_ID, _OWNER_TGID, _OWNER_UID, _MM_ID:
 *   VFIO_CXX_CMD_CONTAINER_CREATED, VFIO_CXX_CMD_CONTAINER_RELEASED;
 *   VFIO_CXX_CMD_MEMLOCK_DENIED: a charge to locked_vm was refused by
 *     RLIMIT_MEMLOCK (+ _EVENT_PAGES asked, _LIMIT_PAGES);
 *   VFIO_CXX_CMD_MM_EXITED: an mm exited while the container still mapped
 *     its memory (+ _MAPPINGS left, _EVENT_PAGES pinned; _MM_ID is the mm
 *     that exited).
 *
 * Every u64 attribute is 64-bit aligned with VFIO_CXX_A_PAD.  Attributes
 * may be added in later versions; readers must ignore unknown ones.
 */
#ifndef _UAPI_LINUX_VFIO_CXX_NETLINK_H
#define _UAPI_LINUX_VFIO_CXX_NETLINK_H

#define VFIO_CXX_GENL_NAME		"vfio_cxx"
#define VFIO_CXX_GENL_VERSION		1
#define VFIO_CXX_GENL_MCGRP_EVENTS	"events"

enum vfio_cxx_nl_cmd {
	VFIO_CXX_CMD_UNSPEC,
	VFIO_CXX_CMD_GET_CONTAINER,
	VFIO_CXX_CMD_GET_MAPPINGS,
	VFIO_CXX_CMD_GET_STATS,
	/* events (multicast only) */
	VFIO_CXX_CMD_CONTAINER_CREATED,
	VFIO_CXX_CMD_CONTAINER_RELEASED,
	VFIO_CXX_CMD_MEMLOCK_DENIED,
	VFIO_CXX_CMD_MM_EXITED,
	/* requests added later (appended: the numbers above do not change) */
	VFIO_CXX_CMD_GET_PREREGS,

	__VFIO_CXX_CMD_MAX,
	VFIO_CXX_CMD_MAX = __VFIO_CXX_CMD_MAX - 1
};

/* Mapping flags (VFIO_CXX_A_MAP_FLAGS) */
#define VFIO_CXX_MAP_F_IOMMU_MAPPED	(1U << 0)	/* pinned and in every domain */
#define VFIO_CXX_MAP_F_VADDR_INVALID	(1U << 1)	/* between VFIO_UPDATE_VADDR steps */

enum vfio_cxx_nl_attr {
	VFIO_CXX_A_UNSPEC,
	VFIO_CXX_A_PAD,
	/* a container (GET_CONTAINER, events) */
	VFIO_CXX_A_CONTAINER_ID,	/* u64: unique per module load, increasing */
	VFIO_CXX_A_OWNER_TGID,		/* u32: the process that set it up */
	VFIO_CXX_A_OWNER_UID,		/* u32: its effective uid */
	VFIO_CXX_A_MM_ID,		/* u64: opaque mm identity (never a pointer) */
	VFIO_CXX_A_IOMMU_TYPE,		/* u32: VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_CXX_IOMMU */
	VFIO_CXX_A_GROUPS,		/* u32: IOMMU groups attached */
	VFIO_CXX_A_GROUP_IDS,		/* nest of VFIO_CXX_A_GROUP_ID (first 16) */
	VFIO_CXX_A_GROUP_ID,		/* u32: an iommu group number */
	VFIO_CXX_A_DOMAINS,		/* u32: IOMMU domains */
	VFIO_CXX_A_MAPPINGS,		/* u64: DMA mappings */
	VFIO_CXX_A_MAPPED_BYTES,	/* u64: their total size */
	VFIO_CXX_A_PAGES_PINNED,	/* u64: pages pinned for IOMMU mappings */
	VFIO_CXX_A_EXTERNAL_PAGES,	/* u64: distinct pages pinned by mdev drivers */
	VFIO_CXX_A_PREREG_PAGES,	/* u64: pages pinned for preregistered regions */
	VFIO_CXX_A_LOCKED_PAGES,	/* u64: pages charged to locked_vm */
	VFIO_CXX_A_ORPHANED_MAPPINGS,	/* u64: mappings of mms that have exited */
	/* a mapping (GET_MAPPINGS); also _CONTAINER_ID, _MM_ID, _PAGES_PINNED,
	 * _EXTERNAL_PAGES, _LOCKED_PAGES */
	VFIO_CXX_A_IOVA,		/* u64 */
	VFIO_CXX_A_SIZE,		/* u64: bytes */
	VFIO_CXX_A_VADDR,		/* u64 */
	VFIO_CXX_A_PROT,		/* u32: 1 read, 2 write */
	VFIO_CXX_A_MAP_FLAGS,		/* u32: VFIO_CXX_MAP_F_* */
	/* module-wide counters (GET_STATS), u64 each */
	VFIO_CXX_A_STAT_CONTAINERS_LIVE,
	VFIO_CXX_A_STAT_CONTAINERS_OPENED,	/* since load */
	VFIO_CXX_A_STAT_GROUPS_ATTACHED,
	VFIO_CXX_A_STAT_DOMAINS_LIVE,
	VFIO_CXX_A_STAT_DMAS_LIVE,
	VFIO_CXX_A_STAT_PAGES_PINNED,
	VFIO_CXX_A_STAT_EXTERNAL_PAGES,
	VFIO_CXX_A_STAT_DEVICES_REGISTERED,
	VFIO_CXX_A_STAT_PREREG_PAGES,
	VFIO_CXX_A_STAT_MM_EXITS,		/* owner exits handled (exit policy release) */
	/* events */
	VFIO_CXX_A_EVENT_PAGES,		/* u64: MEMLOCK_DENIED asked; MM_EXITED left pinned */
	VFIO_CXX_A_LIMIT_PAGES,		/* u64: MEMLOCK_DENIED: RLIMIT_MEMLOCK in pages */
	/* a preregistered region (GET_PREREGS); also _CONTAINER_ID, _VADDR,
	 * _SIZE, _MM_ID, _PAGES_PINNED */
	VFIO_CXX_A_PREREG_USERS,	/* u64: DMA mappings backed by the region */

	__VFIO_CXX_A_MAX,
	VFIO_CXX_A_MAX = __VFIO_CXX_A_MAX - 1
};

#endif /* _UAPI_LINUX_VFIO_CXX_NETLINK_H */
