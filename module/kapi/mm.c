// SPDX-License-Identifier: GPL-2.0
/* kapi: user copies, mm references, pinning and locked_vm accounting. */
#include <linux/capability.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "vfio_cxx_kconf.h"
#include <linux/workqueue.h>

#include "services.h"
#include "../core/entry.h"
#include "internal.h"

/*
 * The core's ioctl structs have a few fixed sizes; each gets a copy of
 * constant size, as the kernel's own ioctls make them (type1's
 * copy_from_user(&map, arg, minsz)), so hardened usercopy's run-time
 * object check (__check_object_size: an out-of-line walk of the stack
 * frame or slab object, on every MAP and UNMAP) is left out for them, as it
 * is for type1's.  Other sizes (bitmaps, dma_rw) keep it.
 */
#define KAPI_COPY_SIZES(X) X(8) X(16) X(24) X(32) X(40)

int kapi_copy_from_user(void *dst, unsigned long uaddr, unsigned long n)
{
	const void __user *src = (const void __user *)uaddr;

	switch (n) {
#define KAPI_COPY_IN(sz)	\
	case sz:		\
		return copy_from_user(dst, src, sz) ? -EFAULT : 0;
	KAPI_COPY_SIZES(KAPI_COPY_IN)
#undef KAPI_COPY_IN
	default:
		return copy_from_user(dst, src, n) ? -EFAULT : 0;
	}
}

int kapi_copy_to_user(unsigned long uaddr, const void *src, unsigned long n)
{
	void __user *dst = (void __user *)uaddr;

	switch (n) {
#define KAPI_COPY_OUT(sz)	\
	case sz:		\
		return copy_to_user(dst, src, sz) ? -EFAULT : 0;
	KAPI_COPY_SIZES(KAPI_COPY_OUT)
#undef KAPI_COPY_OUT
	default:
		return copy_to_user(dst, src, n) ? -EFAULT : 0;
	}
}

int kapi_access_ok(unsigned long uaddr, unsigned long n)
{
	return access_ok((const void __user *)uaddr, n);
}

static struct mm_struct *to_mm(struct kapi_mm *mm)
{
	return (struct mm_struct *)mm;
}

struct kapi_mm *kapi_mm_grab_current(void)
{
	struct mm_struct *mm = current->mm;

	if (!mm)
		return NULL;
	mmgrab(mm);
	return (struct kapi_mm *)mm;
}

void kapi_mm_grab(struct kapi_mm *mm)
{
	mmgrab(to_mm(mm));
}

void kapi_mm_drop(struct kapi_mm *mm)
{
	mmdrop(to_mm(mm));
}

int kapi_mm_is_current(struct kapi_mm *mm)
{
	return current->mm == to_mm(mm);
}

int kapi_capable_ipc_lock(void)
{
	return capable(CAP_IPC_LOCK);
}

unsigned long kapi_rlimit_memlock_pages(void)
{
	return rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
}

struct kapi_mm *kapi_mm_grab_current_acct(int *lock_cap, unsigned long *limit_pages)
{
	struct kapi_mm *mm = kapi_mm_grab_current();

	if (mm) {
		*lock_cap = kapi_capable_ipc_lock();
		*limit_pages = kapi_rlimit_memlock_pages();
	}
	return mm;
}

int kapi_mm_charge(struct kapi_mm *kmm, unsigned long npages, int lock_cap,
		   unsigned long limit_pages)
{
	struct mm_struct *mm = to_mm(kmm);
	int ret;

	if (!npages)
		return 0;
	if (!mmget_not_zero(mm))
		return -ESRCH;
	ret = mmap_write_lock_killable(mm);
	if (!ret) {
		unsigned long locked = mm->locked_vm + npages;

		if (!lock_cap && locked > limit_pages)
			ret = -ENOMEM;
		else
			mm->locked_vm = locked;
		mmap_write_unlock(mm);
	}
	mmput_async(mm);
	return ret;
}

/* Deferred uncharges: a work item owns an mm_count reference. */
struct deferred_uncharge {
	struct work_struct work;
	struct mm_struct *mm;
	unsigned long npages;
};

static void uncharge_locked(struct mm_struct *mm, unsigned long npages)
{
	mmap_assert_write_locked(mm);
	/* Never a WARN: fleets run panic_on_warn, and we cannot vouch for every other charger. */
	if (unlikely(npages > mm->locked_vm)) {
		pr_warn_once("vfio_iommu_cxx: uncharge of %lu pages exceeds locked_vm %lu; clamped\n",
			     npages, mm->locked_vm);
		npages = mm->locked_vm;
	}
	mm->locked_vm -= npages;
}

static void deferred_uncharge_fn(struct work_struct *work)
{
	struct deferred_uncharge *d = container_of(work, struct deferred_uncharge, work);

	/* An exited mm's locked_vm died with it: nothing to give back. */
	if (mmget_not_zero(d->mm)) {
		mmap_write_lock(d->mm);
		uncharge_locked(d->mm, d->npages);
		mmap_write_unlock(d->mm);
		mmput(d->mm);
	}
	mmdrop(d->mm);
	kfree(d);
}

static struct workqueue_struct *uncharge_wq;

int kapi_mm_init(void)
{
	/* Deferred uncharges and the mm-exit handlers. */
	uncharge_wq = alloc_workqueue("vfio_cxx_mm", WQ_UNBOUND, 0);
	return uncharge_wq ? 0 : -ENOMEM;
}

void kapi_mm_exit(void)
{
	destroy_workqueue(uncharge_wq); /* drains it first */
}

void kapi_mm_flush_deferred(void)
{
	flush_workqueue(uncharge_wq);
}

/*
 * The container lock ranks above the mmap lock (nothing that holds an mmap
 * lock takes ours: the MMU notifier's release runs before exit_mmap takes
 * it), so waiting here is safe.  mm_users is dropped with mmput_async so the
 * final exit work never runs in this context.
 */
int kapi_mm_uncharge_now(struct kapi_mm *kmm, unsigned long npages)
{
	struct mm_struct *mm = to_mm(kmm);
	int ret;

	if (!npages || !mmget_not_zero(mm))
		return 0; /* exited: nothing to give back */
	ret = mmap_write_lock_killable(mm);
	if (!ret) {
		uncharge_locked(mm, npages);
		mmap_write_unlock(mm);
	}
	mmput_async(mm);
	return ret;
}

void kapi_mm_uncharge_later(struct kapi_mm *kmm, unsigned long npages)
{
	struct deferred_uncharge *d = kmalloc(sizeof(*d), GFP_KERNEL | __GFP_NOFAIL);

	INIT_WORK(&d->work, deferred_uncharge_fn);
	mmgrab(to_mm(kmm));
	d->mm = to_mm(kmm);
	d->npages = npages;
	queue_work(uncharge_wq, &d->work);
}

/* pfns doubles as the array of page pointers GUP fills. */
static_assert(sizeof(struct page *) == sizeof(kapi_u64));

static bool pfn_invalid_or_reserved(unsigned long pfn)
{
	return !pfn_valid(pfn) || PageReserved(pfn_to_page(pfn));
}

/*
 * Turn the n page pointers GUP stored in pfns into PFNs, in place; the zero
 * page (GUP takes no pin on it) is reserved.  A page GUP returns has a
 * memmap, so pfn_valid() need not be asked (it is, per page, the costlier
 * half of type1's is_invalid_reserved_pfn()).
 */
static long to_pfns(long n, kapi_u64 *pfns)
{
	struct page **pages = (struct page **)pfns;
	long i;

	for (i = 0; i < n; i++) {
		struct page *page = pages[i];
		unsigned long pfn = page_to_pfn(page);

		pfns[i] = PageReserved(page) ? pfn | KAPI_PFN_RESERVED : pfn;
	}
	return n;
}

static unsigned int pin_flags(int write)
{
	return FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
}

long kapi_pin_fast(unsigned long vaddr, unsigned long n, int write, kapi_u64 *pfns)
{
	long ret = pin_user_pages_fast(vaddr, min(n, (unsigned long)KAPI_PIN_BATCH), pin_flags(write),
				       (struct page **)pfns);

	return ret > 0 ? to_pfns(ret, pfns) : 0;
}

long kapi_pin_remote(struct kapi_mm *kmm, unsigned long vaddr, unsigned long n, int write,
		     kapi_u64 *pfns)
{
	struct mm_struct *mm = to_mm(kmm);
	int locked = 1;
	long ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	n = min(n, (unsigned long)KAPI_PIN_BATCH);
	mmap_read_lock(mm);
#if VFIO_CXX_HAVE_PIN_USER_PAGES_REMOTE_LOCKED
	ret = pin_user_pages_remote(mm, vaddr, n, pin_flags(write), (struct page **)pfns, &locked);
#else
	/* The older GUP: FOLL_LONGTERM GUP must not drop the lock (no "locked"). */
	ret = pin_user_pages_remote(mm, vaddr, n, pin_flags(write), (struct page **)pfns, NULL, NULL);
#endif
	if (locked)
		mmap_read_unlock(mm);
	mmput_async(mm);
	if (ret > 0)
		return to_pfns(ret, pfns);
	return ret ? ret : -EFAULT;
}

/*
 * Fault vaddr in when the page-table walk found nothing: 0 to walk again,
 * -EAGAIN if the fault dropped the mmap read lock (and took it back), or
 * the fault's errno.
 */
static int fault_in_pfnmap(struct mm_struct *mm, unsigned long vaddr, bool write)
{
	bool unlocked = false;
	int ret = fixup_user_fault(mm, vaddr, FAULT_FLAG_REMOTE | (write ? FAULT_FLAG_WRITE : 0),
				   &unlocked);

	return unlocked ? -EAGAIN : ret;
}

/*
 * The PFN behind a VM_PFNMAP address (faulting it in if needed), as type1's
 * follow_fault_pfn().  Called with the mmap read lock held; returns -EAGAIN
 * if the fault dropped it.
 */
static int follow_pfnmap_pfn(struct vm_area_struct *vma, unsigned long vaddr,
			     bool write, unsigned long *pfn)
{
	struct mm_struct *mm = vma->vm_mm;
	int ret;
#if VFIO_CXX_HAVE_FOLLOW_PFNMAP
	struct follow_pfnmap_args args = { .vma = vma, .address = vaddr };

	ret = follow_pfnmap_start(&args);
	if (ret) {
		ret = fault_in_pfnmap(mm, vaddr, write) ?: follow_pfnmap_start(&args);
		if (ret)
			return ret;
	}
	if (write && !args.writable)
		ret = -EFAULT;
	else
		*pfn = args.pfn;
	follow_pfnmap_end(&args);
#else
	spinlock_t *ptl;
	pte_t *ptep;

	ret = follow_pte(mm, vaddr, &ptep, &ptl);
	if (ret) {
		ret = fault_in_pfnmap(mm, vaddr, write) ?: follow_pte(mm, vaddr, &ptep, &ptl);
		if (ret)
			return ret;
	}
	if (write && !pte_write(*ptep))
		ret = -EFAULT;
	else
		*pfn = pte_pfn(*ptep);
	pte_unmap_unlock(ptep, ptl);
#endif
	return ret;
}

int kapi_pfnmap_pfn(struct kapi_mm *kmm, unsigned long vaddr, int write, kapi_u64 *pfn)
{
	struct mm_struct *mm = to_mm(kmm);
	struct vm_area_struct *vma;
	unsigned long p;
	int ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	mmap_read_lock(mm);
	do {
		vma = vma_lookup(mm, vaddr);
		ret = vma && (vma->vm_flags & VM_PFNMAP) ?
			      follow_pfnmap_pfn(vma, vaddr, write, &p) : -ENOENT;
	} while (ret == -EAGAIN); /* the fault dropped the lock and took it back */
	mmap_read_unlock(mm);
	mmput_async(mm);
	if (!ret && !pfn_invalid_or_reserved(p))
		ret = -EFAULT;
	if (!ret)
		*pfn = p;
	return ret;
}

void kapi_unpin_pages(kapi_u64 pfn, unsigned long npages, int dirty)
{
	unpin_user_page_range_dirty_lock(pfn_to_page(pfn), npages, dirty);
}

int kapi_pfn_kind(kapi_u64 pfn)
{
	if (!pfn_valid(pfn))
		return KAPI_PFN_INVALID;
	if (PageReserved(pfn_to_page(pfn)) || is_zero_pfn(pfn))
		return KAPI_PFN_RESERVED_PAGE;
	return KAPI_PFN_PAGE;
}

/*
 * One page of a remote mm at a time: a short-lived reference (not a
 * long-term pin), mapped with kmap_local_page.  Works from the owner, from
 * another process and from a kernel thread alike, without borrowing the mm
 * (kthread_use_mm) or touching current's address space.
 */
static int mm_rw_remote(struct mm_struct *mm, unsigned long vaddr, void *buf,
			unsigned long len, int write)
{
	unsigned int flags = write ? FOLL_WRITE : 0;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	while (len) {
		unsigned long off = offset_in_page(vaddr);
		unsigned long n = min_t(unsigned long, len, PAGE_SIZE - off);
		struct page *page;
		void *kaddr;
		long got;

#if VFIO_CXX_HAVE_GET_USER_PAGES_REMOTE_NOVMAS
		got = get_user_pages_remote(mm, vaddr, 1, flags, &page, NULL);
#else
		got = get_user_pages_remote(mm, vaddr, 1, flags, &page, NULL, NULL);
#endif
		if (got != 1) {
			ret = -EFAULT;
			break;
		}
		kaddr = kmap_local_page(page);
		if (write) {
			memcpy(kaddr + off, buf, n);
			set_page_dirty_lock(page);
		} else {
			memcpy(buf, kaddr + off, n);
		}
		kunmap_local(kaddr);
		put_page(page);
		vaddr += n;
		buf += n;
		len -= n;
	}
	mmap_read_unlock(mm);
	return ret;
}

int kapi_mm_rw_remote(struct kapi_mm *kmm, unsigned long vaddr, void *buf, unsigned long len,
		      int write)
{
	struct mm_struct *mm = to_mm(kmm);
	int ret;

	if (!mmget_not_zero(mm))
		return -EPERM;
	ret = mm_rw_remote(mm, vaddr, buf, len, write);
	mmput_async(mm);
	return ret;
}

/*
 * mm_users is raised only around a GUP or a charge, and always dropped with
 * mmput_async(): callers hold the container lock, and if theirs were the
 * last reference the exit path (exit_mmap -> the MMU notifier's release ->
 * the core's exit handler) would take that lock in this thread (seed 004).
 */

int kapi_mm_exited(struct kapi_mm *kmm)
{
	return atomic_read(&to_mm(kmm)->mm_users) == 0;
}

struct kapi_mm_watch {
	struct mmu_notifier mn;
	struct work_struct work;
	void *ctx;
};

static void watch_release_work(struct work_struct *work)
{
	struct kapi_mm_watch *w = container_of(work, struct kapi_mm_watch, work);

	vfio_cxx_mm_released(w->ctx, w, 0);
}

/*
 * Called once per watch (the MMU notifier core unhashes the subscription
 * before the exit path and mmu_notifier_unregister() can both call it, and
 * the core's handler is idempotent besides), inside the MMU notifiers' SRCU
 * read section.  The core's handler takes the container's locks, whose hold
 * time the container's users control (a long MAP_DMA by another process
 * sharing the container, a FUSE-backed page): waiting for them here would
 * hold up every synchronize_srcu() of MMU notifiers on the host.  So the
 * handler is only tried here, without waiting; if a lock is busy it runs
 * from a work item.  The pinned pages stay valid until it has run, and
 * kapi_mm_watch_destroy() waits for it.
 */
static void watch_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct kapi_mm_watch *w = container_of(mn, struct kapi_mm_watch, mn);

	if (!vfio_cxx_mm_released(w->ctx, w, 1))
		queue_work(uncharge_wq, &w->work);
}

/* No invalidate callbacks: nothing here runs in an invalidate path (B46). */
static const struct mmu_notifier_ops watch_ops = {
	.release = watch_release,
};

int kapi_mm_watch_create(struct kapi_mm *kmm, void *ctx, struct kapi_mm_watch **out)
{
	struct mm_struct *mm = to_mm(kmm);
	struct kapi_mm_watch *w;
	int ret;

	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;
	w->mn.ops = &watch_ops;
	INIT_WORK(&w->work, watch_release_work);
	w->ctx = ctx;
	if (!mmget_not_zero(mm)) {
		kfree(w);
		return -ESRCH;
	}
	ret = mmu_notifier_register(&w->mn, mm);
	mmput_async(mm);
	if (ret) {
		kfree(w);
		return ret;
	}
	*out = w;
	return 0;
}

void kapi_mm_watch_destroy(struct kapi_mm_watch *w)
{
	/* Runs release if the mm is alive, and waits for one that is running. */
	mmu_notifier_unregister(&w->mn, w->mn.mm);
	/* ... which queued the handler, if it had not run yet: wait for it too. */
	flush_work(&w->work);
	kfree(w);
}
