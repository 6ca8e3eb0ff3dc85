/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kapi services: what the C++ core may call of the kernel (one direction;
 * the other, the core's entry points that kapi calls, is ../core/entry.h).
 *
 * The C files of module/kapi/ are the only sources of the module that include
 * kernel headers; they implement this header as wrappers, without policy
 * (what to try first, when to batch, what to do when a wait is interrupted
 * is the core's).  The header uses builtin types only.  Every object the
 * kernel owns is an opaque pointer here; the C side converts.
 *
 * Conventions: functions returning int return 0 or a negative errno; "may
 * sleep" unless noted.  The host unit tests implement this interface in
 * userspace (selftests/host/kapi_host.cpp), so every function declared here
 * must also be implemented there.
 *
 * Locking: the kapi mutexes below (KAPI_LOCK_*, one lockdep class each, in
 * the order of Documentation/design.rst) are the core's only locks; no
 * function here is called with a spinlock held.
 */
#ifndef VFIO_CXX_KAPI_SERVICES_H
#define VFIO_CXX_KAPI_SERVICES_H

#include "types.h"

KAPI_BEGIN_DECLS

/* ---- memory ------------------------------------------------------------ */

/*
 * Zeroed, charged to the caller's memcg, physically contiguous when small
 * and virtually contiguous when large (kvzalloc); NULL on failure, and for
 * sizes the kernel refuses outright (> INT_MAX).
 */
void *kapi_alloc(unsigned long size) KAPI_NOEXCEPT;
void kapi_free(void *p) KAPI_NOEXCEPT;
/*
 * Slab caches of the fixed-size objects made and freed on the hot paths
 * (a Dma on every MAP_DMA and UNMAP_DMA): the constant-size slab path, with
 * no size-class lookup on allocation.  kapi makes them at module load and
 * destroys them at unload.  Objects are not zeroed (the constructor sets
 * every member) and are charged to the caller's memcg.
 */
enum kapi_cache_id {
	KAPI_CACHE_DMA, /* core/dma.h, at most KAPI_CACHE_DMA_SIZE bytes */
	KAPI_CACHE_NR
};
#define KAPI_CACHE_DMA_SIZE 192
void *kapi_cache_alloc(enum kapi_cache_id id) KAPI_NOEXCEPT;
/* p may be NULL. */
void kapi_cache_free(enum kapi_cache_id id, void *p) KAPI_NOEXCEPT;
void kapi_cond_resched(void) KAPI_NOEXCEPT;

/* ---- user memory ------------------------------------------------------- */

/* 0 or -EFAULT. */
int kapi_copy_from_user(void *dst, unsigned long uaddr, unsigned long n) KAPI_NOEXCEPT;
int kapi_copy_to_user(unsigned long uaddr, const void *src, unsigned long n) KAPI_NOEXCEPT;
int kapi_access_ok(unsigned long uaddr, unsigned long n) KAPI_NOEXCEPT;

/* ---- mm: address spaces, pinning and locked_vm accounting ------------- */

/*
 * An mm held by mm_count (mmgrab), never mm_users: holding one keeps the
 * struct alive but not the address space.  Pinning takes mm_users only for
 * the duration of the GUP (mmget_not_zero), and fails with -ESRCH once the
 * owner has exited.
 */
struct kapi_mm;
/* mmgrab(current->mm); NULL for a kernel thread. */
struct kapi_mm *kapi_mm_grab_current(void) KAPI_NOEXCEPT;
void kapi_mm_grab(struct kapi_mm *mm) KAPI_NOEXCEPT;
void kapi_mm_drop(struct kapi_mm *mm) KAPI_NOEXCEPT;
int kapi_mm_is_current(struct kapi_mm *mm) KAPI_NOEXCEPT;

int kapi_capable_ipc_lock(void) KAPI_NOEXCEPT;
/* current's RLIMIT_MEMLOCK, in pages. */
unsigned long kapi_rlimit_memlock_pages(void) KAPI_NOEXCEPT;
/*
 * The three above in one call, for MAP_DMA's hot path: current's mm
 * grabbed (NULL for a kernel thread, and then nothing else is read),
 * capable(CAP_IPC_LOCK) and RLIMIT_MEMLOCK in pages.
 */
struct kapi_mm *kapi_mm_grab_current_acct(int *lock_cap, unsigned long *limit_pages) KAPI_NOEXCEPT;

/*
 * Add npages to mm->locked_vm under its mmap write lock, refusing with
 * -ENOMEM if that exceeds limit_pages and !lock_cap; -ESRCH if the mm has
 * exited; -EINTR if killed while waiting.
 */
int kapi_mm_charge(struct kapi_mm *mm, unsigned long npages, int lock_cap,
		   unsigned long limit_pages) KAPI_NOEXCEPT;
/*
 * Subtract npages now, under the mmap write lock, waited for killably: 0,
 * or -EINTR if the caller was killed while waiting (nothing changed).  0
 * too when the mm has exited (its locked_vm died with it).  What to do on
 * -EINTR is the core's (accounting.h: uncharge()).
 */
int kapi_mm_uncharge_now(struct kapi_mm *mm, unsigned long npages) KAPI_NOEXCEPT;
/*
 * Subtract npages from a work item, which holds its own mm_count reference
 * and waits for the lock; dropped when the mm has exited.  Never fails.
 */
void kapi_mm_uncharge_later(struct kapi_mm *mm, unsigned long npages) KAPI_NOEXCEPT;
/* Wait for the work items queued so far (tests, module exit). */
void kapi_mm_flush_deferred(void) KAPI_NOEXCEPT;
/* Whether mm's address space is gone (mm_users is 0): its owner exited. */
int kapi_mm_exited(struct kapi_mm *mm) KAPI_NOEXCEPT;

/*
 * Watching an mm for its exit (an MMU notifier with only a release
 * callback).  The core's vfio_cxx_mm_released(ctx, w, 1) runs for each
 * watch, at most once, from the exit path (exit_mmap) or, if the mm is still
 * alive then, from kapi_mm_watch_destroy(); if it finds a container lock
 * busy, vfio_cxx_mm_released(ctx, w, 0) runs from a work item: nothing waits
 * for a container lock inside the MMU notifiers' SRCU section, so no one
 * else is held up.  0, -ENOMEM, -EINTR or -ESRCH (already exited).
 */
struct kapi_mm_watch;
int kapi_mm_watch_create(struct kapi_mm *mm, void *ctx, struct kapi_mm_watch **out) KAPI_NOEXCEPT;
/*
 * Stop watching and free w.  Waits for the callback if it is queued or
 * running; the caller must hold no lock that the callback takes.
 */
void kapi_mm_watch_destroy(struct kapi_mm_watch *w) KAPI_NOEXCEPT;

/*
 * Pinning primitives; which to try, in what order and in what batches is the
 * core's (pinning.cpp).  Both pin up to n (at most KAPI_PIN_BATCH) pages at
 * vaddr for long-term DMA (FOLL_LONGTERM, and FOLL_WRITE when write) and
 * store their PFNs in pfns, which also serves as the kernel's array of page
 * pointers (nothing is allocated).  A PFN with KAPI_PFN_RESERVED set is an
 * invalid or reserved page frame (a VM_PFNMAP mapping such as another
 * device's BAR, or the zero page): it holds no pin, is never charged to
 * locked_vm and must not be passed to kapi_unpin_pages().
 *   kapi_pin_fast: current's mm, without its mmap lock (GUP-fast).  Stops
 *     at the first page it cannot take that way (one to fault in or to
 *     migrate, MMIO) and returns the count, maybe 0; never sleeps long.
 *   kapi_pin_remote: mm's, under its mmap read lock, faulting pages in:
 *     the count (> 0), -ESRCH (the mm has exited), or GUP's errno for the
 *     first page.
 */
#define KAPI_PFN_RESERVED (1ULL << 63)
#define KAPI_PIN_BATCH 512
long kapi_pin_fast(unsigned long vaddr, unsigned long n, int write, kapi_u64 *pfns) KAPI_NOEXCEPT;
long kapi_pin_remote(struct kapi_mm *mm, unsigned long vaddr, unsigned long n, int write,
		     kapi_u64 *pfns) KAPI_NOEXCEPT;
/*
 * The page frame that a VM_PFNMAP mapping (MMIO) of mm maps at vaddr,
 * faulting it in if needed (type1's follow_fault_pfn()): 0 with *pfn, or
 * -ENOENT (vaddr is not in a VM_PFNMAP vma), -EFAULT (not writable but
 * write asked, or a frame with a normal struct page), -ESRCH (exited).
 */
int kapi_pfnmap_pfn(struct kapi_mm *mm, unsigned long vaddr, int write, kapi_u64 *pfn) KAPI_NOEXCEPT;
/* Unpin npages physically contiguous pages from pfn, dirtying them if asked. */
void kapi_unpin_pages(kapi_u64 pfn, unsigned long npages, int dirty) KAPI_NOEXCEPT;

/*
 * What a PFN is: KAPI_PFN_PAGE (a normal page that a pin holds),
 * KAPI_PFN_RESERVED_PAGE (a struct page that is reserved, such as the zero
 * page: no pin, no charge) or KAPI_PFN_INVALID (no struct page: MMIO).
 */
enum { KAPI_PFN_PAGE = 0, KAPI_PFN_RESERVED_PAGE = 1, KAPI_PFN_INVALID = 2 };
int kapi_pfn_kind(kapi_u64 pfn) KAPI_NOEXCEPT;

/*
 * Copy len bytes between buf and mm's user memory at vaddr (write: buf ->
 * user), a page at a time under mm's mmap read lock (get_user_pages_remote),
 * from any context: the caller need not be a thread of mm (for current's
 * own mm a plain user copy does; which to use is the core's, pinning.cpp).
 * 0, -EFAULT if any byte is not accessible, -EPERM if mm has exited, -EINTR
 * if killed while waiting for the lock.
 */
int kapi_mm_rw_remote(struct kapi_mm *mm, unsigned long vaddr, void *buf, unsigned long len,
		      int write) KAPI_NOEXCEPT;

/* ---- locks ------------------------------------------------------------- */

/*
 * Each mutex belongs to a lock class (a lockdep class in the kernel).  The
 * documented order (Documentation/design.rst) is the enum's order: a lock
 * may only be taken while holding locks of lower classes.
 */
enum kapi_lock_class {
	KAPI_LOCK_REGISTRY = 0,		/* the registry of live containers (registry.cpp) */
	KAPI_LOCK_DEVICES,		/* Container::devices_lock_ */
	KAPI_LOCK_CONTAINER,		/* Container::lock_ */
	KAPI_LOCK_REGIONS,		/* the sPAPR regions shared per mm (shared_region.cpp) */
	KAPI_LOCK_NR
};

struct kapi_mutex;
struct kapi_mutex *kapi_mutex_create(enum kapi_lock_class cls) KAPI_NOEXCEPT;
void kapi_mutex_destroy(struct kapi_mutex *m) KAPI_NOEXCEPT;
void kapi_mutex_lock(struct kapi_mutex *m) KAPI_NOEXCEPT;
/* 0, or -EINTR if a fatal signal arrived while waiting (the lock is not held). */
int kapi_mutex_lock_killable(struct kapi_mutex *m) KAPI_NOEXCEPT;
/* 1 if taken without waiting, else 0. */
int kapi_mutex_trylock(struct kapi_mutex *m) KAPI_NOEXCEPT;
void kapi_mutex_unlock(struct kapi_mutex *m) KAPI_NOEXCEPT;
void kapi_mutex_assert_held(struct kapi_mutex *m) KAPI_NOEXCEPT;
/*
 * The module's one static mutex of class KAPI_LOCK_REGISTRY (never
 * created or destroyed by the core; valid from module init to exit).
 */
struct kapi_mutex *kapi_registry_mutex(void) KAPI_NOEXCEPT;
/* The same for KAPI_LOCK_REGIONS. */
struct kapi_mutex *kapi_regions_mutex(void) KAPI_NOEXCEPT;

/* ---- the calling task (observability, ownership) ------------------------ */

/* current's thread-group id (its pid as user space sees it, in the init ns). */
unsigned int kapi_current_tgid(void) KAPI_NOEXCEPT;
/* current's effective uid, in the initial user namespace. */
unsigned int kapi_current_euid(void) KAPI_NOEXCEPT;
int kapi_capable_sys_admin(void) KAPI_NOEXCEPT;
/*
 * An opaque identity of an mm for user space: a keyed hash of the pointer
 * (siphash, key drawn at module load), stable for the mm's life, never the
 * pointer itself; 0 for NULL.
 */
kapi_u64 kapi_mm_id(struct kapi_mm *mm) KAPI_NOEXCEPT;

/* ---- events of the netlink multicast group "events" (core/netlink.cpp sends them) -- */

enum kapi_event_type {
	KAPI_EVENT_CONTAINER_CREATED = 1,
	KAPI_EVENT_CONTAINER_RELEASED = 2,
	KAPI_EVENT_MEMLOCK_DENIED = 3,	/* RLIMIT_MEMLOCK refused a charge */
	KAPI_EVENT_MM_EXITED = 4,	/* an owner mm exited with mappings left */
};
struct kapi_event {
	kapi_u64 container_id;
	kapi_u64 mm_id;
	unsigned int tgid;		/* the container's owner */
	unsigned int uid;		/* the container's owner */
	kapi_u64 pages;			/* MEMLOCK_DENIED: asked; MM_EXITED: left pinned */
	kapi_u64 limit_pages;		/* MEMLOCK_DENIED: the limit */
	kapi_u64 mappings;		/* MM_EXITED: mappings left */
};

/* ---- logging ----------------------------------------------------------- */

enum kapi_log_level { KAPI_LOG_ERR, KAPI_LOG_WARN, KAPI_LOG_INFO, KAPI_LOG_DEBUG };
void kapi_log(enum kapi_log_level level, const char *fmt, ...) KAPI_NOEXCEPT
	__attribute__((format(printf, 2, 3)));

/*
 * A state of the core's own bookkeeping that no input can reach: WARN_ONCE in
 * the kernel (the caller then recovers; never BUG), abort() on the host so
 * that the host tests catch it.  Use VFIO_CXX_INTERNAL_ERROR() from
 * vfio_cxx/log.h.  Never for anything user input can cause: fleets run
 * panic_on_warn.
 */
void kapi_internal_error(const char *msg) KAPI_NOEXCEPT;

/* ---- module parameters ------------------------------------------------- */

/* claim_type1: answer and serve VFIO_TYPE1_IOMMU / VFIO_TYPE1v2_IOMMU. */
int kapi_param_claim_type1(void) KAPI_NOEXCEPT;
/* dma_entry_limit: most mappings per container (type1's parameter). */
unsigned int kapi_param_dma_entry_limit(void) KAPI_NOEXCEPT;
/* disable_hugepages: map page by page, no large IOMMU pages (type1's parameter). */
int kapi_param_disable_hugepages(void) KAPI_NOEXCEPT;
/* exit_policy: VFIO_CXX_EXIT_KEEP (0, default) or VFIO_CXX_EXIT_RELEASE (1). */
unsigned int kapi_param_exit_policy(void) KAPI_NOEXCEPT;
/* spapr: serve VFIO_SPAPR_TCE_v2_IOMMU containers (host-wide; admin-guide.rst). */
int kapi_param_spapr(void) KAPI_NOEXCEPT;
/* allow_unsafe_interrupts: attach groups without isolated MSI (type1's parameter). */
int kapi_param_allow_unsafe_interrupts(void) KAPI_NOEXCEPT;

/* ---- IOMMU groups and domains ------------------------------------------ */

struct kapi_group;	/* struct iommu_group, owned by the VFIO core */
struct kapi_domain;	/* a paging iommu_domain and what kapi knows of it */

int kapi_group_id(struct kapi_group *g) KAPI_NOEXCEPT;
/*
 * Whether the group's MSIs are isolated (interrupt remapping): what the
 * kernel's iommu_group_has_isolated_msi() says, or before it existed, the
 * MSI domain's or any device's IOMMU capability, as type1 asked.
 */
int kapi_group_msi_isolated(struct kapi_group *g) KAPI_NOEXCEPT;

/* A new paging domain suitable for g's devices (not yet attached). */
int kapi_domain_alloc(struct kapi_group *g, struct kapi_domain **out) KAPI_NOEXCEPT;
void kapi_domain_free(struct kapi_domain *d) KAPI_NOEXCEPT;
int kapi_domain_attach_group(struct kapi_domain *d, struct kapi_group *g) KAPI_NOEXCEPT;
void kapi_domain_detach_group(struct kapi_domain *d, struct kapi_group *g) KAPI_NOEXCEPT;
/* The IOMMU driver of d, as an identity to compare (its domain ops). */
const void *kapi_domain_driver(struct kapi_domain *d) KAPI_NOEXCEPT;
int kapi_domain_enforces_coherency(struct kapi_domain *d) KAPI_NOEXCEPT;
/*
 * Whether the kernel has iommu_enable_nesting(), and with it type1's
 * VFIO_TYPE1_NESTING_IOMMU (upstream removed both in 6.13: type 6 then opens
 * a plain v2 container and is not advertised).
 */
int kapi_iommu_has_nesting(void) KAPI_NOEXCEPT;
/*
 * What the target kernel's type1 answers for a MAP_DMA, UNMAP_DMA or dirty
 * bitmap range that wraps the 64-bit space: -EINVAL, or -EOVERFLOW once
 * type1 checks with check_add_overflow().  Read from that module's code at
 * build time (scripts/kconf.sh, part 3).
 */
int kapi_type1_wrap_errno(void) KAPI_NOEXCEPT;
/* iommu_enable_nesting() before the first attach: 0, or the driver's errno. */
int kapi_domain_enable_nesting(struct kapi_domain *d) KAPI_NOEXCEPT;
kapi_u64 kapi_domain_pgsize_bitmap(struct kapi_domain *d) KAPI_NOEXCEPT;
void kapi_domain_aperture(struct kapi_domain *d, kapi_u64 *start, kapi_u64 *end) KAPI_NOEXCEPT;

/* IOMMU_READ / IOMMU_WRITE; kapi adds IOMMU_CACHE as type1 does. */
enum { KAPI_IOMMU_READ = 1, KAPI_IOMMU_WRITE = 2 };
/*
 * Map IOVA-consecutive segments from iova on: segment i (pfns[i], with
 * KAPI_PFN_RESERVED for memory without a struct page, npages[i]) follows
 * segment i - 1.  RAM segments go through iommu_map_sg(), so the IOTLB is
 * synced once per call instead of once per physically contiguous run.  On
 * failure nothing of the call stays mapped.  0 or -errno.
 */
#define KAPI_MAP_SEGS_MAX 16
int kapi_domain_map_segs(struct kapi_domain *d, kapi_u64 iova, const kapi_u64 *pfns,
			 const kapi_u64 *npages, unsigned int n, int prot) KAPI_NOEXCEPT;
/*
 * Unmap [iova, iova + size): one page-table walk with gathered IOTLB
 * invalidation and a single sync before returning.  Returns bytes unmapped.
 */
kapi_u64 kapi_domain_unmap(struct kapi_domain *d, kapi_u64 iova, kapi_u64 size) KAPI_NOEXCEPT;
/* 0 if iova is not mapped. */
kapi_u64 kapi_domain_iova_to_phys(struct kapi_domain *d, kapi_u64 iova) KAPI_NOEXCEPT;
/*
 * The PFNs of the n pages from iova into pfns, one call for a vendor
 * driver's batch: n, or the index of the first page that is not mapped.
 */
kapi_u64 kapi_domain_iova_to_pfns(struct kapi_domain *d, kapi_u64 iova, kapi_u64 n,
				  kapi_u64 *pfns) KAPI_NOEXCEPT;

/*
 * Call fn for each reserved IOVA region of the group: its start, its length
 * in bytes, and whether it is relaxable (IOMMU_RESV_DIRECT_RELAXABLE: a
 * direct mapping the device can do without once it is assigned).  Which of
 * them VFIO keeps out of user mappings is the core's (groups.cpp).
 * Returns 0 or a negative errno.
 */
typedef void (*kapi_resv_fn)(void *ctx, kapi_u64 start, kapi_u64 length, int relaxable);
int kapi_group_for_each_resv_region(struct kapi_group *g, kapi_resv_fn fn, void *ctx) KAPI_NOEXCEPT;

/* ---- range map: the kernel's rbtree, nodes embedded in the entries ------ */

/*
 * Non-overlapping closed ranges [first, last] -> non-NULL entry pointer.
 * Each entry brings its node (kapi_range_node, embedded in the caller's
 * object), so neither insert nor erase allocates.  No lock of its own: the
 * caller serialises every call on a map (the container lock).
 *
 * (It was the maple tree: its insert and erase preallocate nodes and free
 * the replaced ones through RCU, which made a MAP_DMA + UNMAP_DMA of one
 * small mapping cost 2-3x type1's rbtree in the benchmark.)
 */
struct kapi_range_node {
	kapi_u64 first, last;
	void *entry;
	unsigned long rb[3]; /* the kernel's struct rb_node (rangemap.c checks the size) */
};
struct kapi_rangemap;
struct kapi_rangemap *kapi_rangemap_create(void) KAPI_NOEXCEPT;
/* The map must be empty. */
void kapi_rangemap_destroy(struct kapi_rangemap *m) KAPI_NOEXCEPT;
/* 0, or -EEXIST if any index in the range is taken (n is then left unused). */
int kapi_rangemap_insert(struct kapi_rangemap *m, struct kapi_range_node *n, kapi_u64 first,
			 kapi_u64 last, void *entry) KAPI_NOEXCEPT;
/* Remove the range that contains index; returns its entry or NULL. */
void *kapi_rangemap_erase(struct kapi_rangemap *m, kapi_u64 index) KAPI_NOEXCEPT;
/* Remove n, which is in m (no lookup: UNMAP_DMA's hot path). */
void kapi_rangemap_remove(struct kapi_rangemap *m, struct kapi_range_node *n) KAPI_NOEXCEPT;
/* The entry of the lowest range intersecting [first, last], or NULL. */
void *kapi_rangemap_find(struct kapi_rangemap *m, kapi_u64 first, kapi_u64 last) KAPI_NOEXCEPT;

/* ---- index map: the kernel's xarray -------------------------------------- */

/*
 * unsigned long index -> pointer (4-byte aligned, not null).  The map has
 * its own internal lock; callers still serialise updates with their own
 * (container) lock.  Its one user is the core's PinTable (pin_table.h),
 * which keeps a leaf of records per chunk of indices here.
 */
struct kapi_xmap;
struct kapi_xmap *kapi_xmap_create(void) KAPI_NOEXCEPT;
/* The map must be empty. */
void kapi_xmap_destroy(struct kapi_xmap *m) KAPI_NOEXCEPT;
/*
 * 0 or -ENOMEM.  Replacing the entry of a present index never allocates
 * and never fails.
 */
int kapi_xmap_store(struct kapi_xmap *m, unsigned long index, void *p) KAPI_NOEXCEPT;
/* The entry at index, NULL if absent. */
void *kapi_xmap_load(struct kapi_xmap *m, unsigned long index) KAPI_NOEXCEPT;
void kapi_xmap_erase(struct kapi_xmap *m, unsigned long index) KAPI_NOEXCEPT;
/*
 * The first present index in [*index, last]: stores it in *index and
 * returns its entry, or returns NULL if there is none.
 */
void *kapi_xmap_find(struct kapi_xmap *m, unsigned long *index, unsigned long last) KAPI_NOEXCEPT;

/* ---- emulated (mdev) devices of a container ----------------------------- */

/*
 * struct vfio_device, owned by the VFIO core and its vendor driver.  The
 * VFIO core registers a device with the container's backend while the
 * device is open; the backend keeps the ones that can be told about unmaps
 * on a list linked through the device itself (no allocation).  The list is
 * protected by the caller's lock (Container::devices_lock_).
 */
struct kapi_device;
struct kapi_devlist;
struct kapi_devlist *kapi_devlist_create(void) KAPI_NOEXCEPT;
/* The list must be empty. */
void kapi_devlist_destroy(struct kapi_devlist *l) KAPI_NOEXCEPT;
/* Whether dev's driver implements dma_unmap (can be told about unmaps). */
int kapi_device_has_dma_unmap(struct kapi_device *dev) KAPI_NOEXCEPT;
/* Adds dev, which is not on the list. */
void kapi_devlist_add(struct kapi_devlist *l, struct kapi_device *dev) KAPI_NOEXCEPT;
/* Removes dev if it is on the list; returns whether it was. */
int kapi_devlist_del(struct kapi_devlist *l, struct kapi_device *dev) KAPI_NOEXCEPT;
/*
 * Calls dma_unmap(iova, length) of every device on the list.  The vendor
 * drivers unpin synchronously from there, which re-enters the backend's
 * unpin_pages: the caller must not hold the container lock.
 */
void kapi_devlist_notify_unmap(struct kapi_devlist *l, kapi_u64 iova, kapi_u64 length) KAPI_NOEXCEPT;

/* ---- viewer: who may read the registry (netlink.c; "netlink" block) ----- */

/*
 * A container's owner: the process that did VFIO_SET_IOMMU, as a reference
 * to its thread group's struct pid (never the task itself, so a container
 * keeps no exited process alive, and a recycled pid number never matches).
 * kapi_owner_get() takes one for current and never fails;
 * kapi_owner_put(NULL) does nothing.
 */
struct kapi_owner;
struct kapi_owner *kapi_owner_get(void) KAPI_NOEXCEPT;
void kapi_owner_put(struct kapi_owner *o) KAPI_NOEXCEPT;

/* A viewer: what a netlink request is judged by (kapi/netlink_services.h). */
struct kapi_viewer;

KAPI_END_DECLS

#endif /* VFIO_CXX_KAPI_SERVICES_H */
