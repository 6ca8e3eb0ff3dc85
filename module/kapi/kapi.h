/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kapi: the narrow interface between the C++ core and the kernel.
 *
 * The C files of module/kapi/ are the only sources of the module that include
 * kernel headers.  This header is shared by both sides, so it uses builtin
 * types only and no kernel header.  Every object the kernel owns is an
 * opaque pointer here; the C side converts.
 *
 * Conventions: functions returning int return 0 or a negative errno; "may
 * sleep" unless noted.  The host unit tests implement this interface in
 * userspace (selftests/host/kapi_host.cpp), so every function declared here
 * must also be implemented there.
 */
#ifndef VFIO_CXX_KAPI_H
#define VFIO_CXX_KAPI_H

#ifdef __cplusplus
#define KAPI_NOEXCEPT noexcept
extern "C" {
#else
#define KAPI_NOEXCEPT
#endif

/* ---- memory ------------------------------------------------------------ */

/* Zeroed, charged to the caller's memcg; NULL on failure (never sleeps long). */
void *kapi_alloc(unsigned long size) KAPI_NOEXCEPT;
void kapi_free(void *p) KAPI_NOEXCEPT;

/* ---- locks ------------------------------------------------------------- */

/*
 * Each mutex belongs to a lock class (a lockdep class in the kernel).  The
 * documented order (Documentation/design.rst) is the enum's order: a lock
 * may only be taken while holding locks of lower classes.
 */
enum kapi_lock_class {
	KAPI_LOCK_CONTAINER = 0,	/* Container::lock_ */
	KAPI_LOCK_NR
};

struct kapi_mutex;
struct kapi_mutex *kapi_mutex_create(enum kapi_lock_class cls) KAPI_NOEXCEPT;
void kapi_mutex_destroy(struct kapi_mutex *m) KAPI_NOEXCEPT;
void kapi_mutex_lock(struct kapi_mutex *m) KAPI_NOEXCEPT;
void kapi_mutex_unlock(struct kapi_mutex *m) KAPI_NOEXCEPT;
void kapi_mutex_assert_held(struct kapi_mutex *m) KAPI_NOEXCEPT;

/* ---- logging ----------------------------------------------------------- */

enum kapi_log_level { KAPI_LOG_ERR, KAPI_LOG_WARN, KAPI_LOG_INFO, KAPI_LOG_DEBUG };
void kapi_log(enum kapi_log_level level, const char *fmt, ...) KAPI_NOEXCEPT
	__attribute__((format(printf, 2, 3)));

/*
 * An impossible state in the core: BUG() in the kernel, abort() on the host.
 * Not declared noreturn: objtool cannot see across objects that it never
 * returns, so C++ callers follow it with __builtin_trap() (ud2, a dead end
 * objtool understands).  Use VFIO_CXX_BUG() from vfio_cxx/log.h.
 */
void kapi_bug(const char *msg) KAPI_NOEXCEPT;

/* ---- module parameters ------------------------------------------------- */

/* claim_type1: answer and serve VFIO_TYPE1_IOMMU / VFIO_TYPE1v2_IOMMU. */
int kapi_param_claim_type1(void) KAPI_NOEXCEPT;

/* ---- IOMMU groups and domains ------------------------------------------ */

struct kapi_group;	/* struct iommu_group, owned by the VFIO core */
struct kapi_domain;	/* a paging iommu_domain and what kapi knows of it */

int kapi_group_id(struct kapi_group *g) KAPI_NOEXCEPT;
/*
 * 0 if the group's devices have isolated MSI (interrupt remapping) or the
 * allow_unsafe_interrupts parameter is set, else -EPERM (and a log line).
 */
int kapi_group_check_msi_isolation(struct kapi_group *g) KAPI_NOEXCEPT;

/* A new paging domain suitable for g's devices (not yet attached). */
int kapi_domain_alloc(struct kapi_group *g, struct kapi_domain **out) KAPI_NOEXCEPT;
void kapi_domain_free(struct kapi_domain *d) KAPI_NOEXCEPT;
int kapi_domain_attach_group(struct kapi_domain *d, struct kapi_group *g) KAPI_NOEXCEPT;
void kapi_domain_detach_group(struct kapi_domain *d, struct kapi_group *g) KAPI_NOEXCEPT;
/* Whether a group attached to b could share a (same driver, same coherency). */
int kapi_domain_compatible(struct kapi_domain *a, struct kapi_domain *b) KAPI_NOEXCEPT;

/* ---- the core's side: implemented in C++, called by kapi --------------- */

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

struct vfio_cxx_stats {
	unsigned long long containers_live;
	unsigned long long containers_opened;	/* since load */
	unsigned long long groups_attached;	/* live */
	unsigned long long domains_live;
};
void vfio_cxx_get_stats(struct vfio_cxx_stats *s) KAPI_NOEXCEPT;
/* Nonzero if anything is still allocated (checked at module exit). */
int vfio_cxx_busy(void) KAPI_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* VFIO_CXX_KAPI_H */
