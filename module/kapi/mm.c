// SPDX-License-Identifier: GPL-2.0
/* kapi: user copies, mm references, pinning and locked_vm accounting. */
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "kapi.h"
#include "internal.h"

int kapi_copy_from_user(void *dst, unsigned long uaddr, unsigned long n)
{
	return copy_from_user(dst, (const void __user *)uaddr, n) ? -EFAULT : 0;
}

int kapi_copy_to_user(unsigned long uaddr, const void *src, unsigned long n)
{
	return copy_to_user((void __user *)uaddr, src, n) ? -EFAULT : 0;
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
	mmput(mm);
	return ret;
}

/* Deferred uncharges: a work item owns an mm_count reference. */
struct deferred_uncharge {
	struct work_struct work;
	struct mm_struct *mm;
	unsigned long npages;
};

/*
 * mmap_write_trylock() left the kernel in 6.12 for want of users.  On 6.12
 * this mirrors mmap_write_lock() of Debian's 6.12 (down_write plus the
 * mm_lock_seq write section that mmap_write_unlock() ends); the compat range
 * check in vfio_compat.h keeps other kernels from building against it.
 */
static bool mm_write_trylock(struct mm_struct *mm)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	return mmap_write_trylock(mm);
#else
	if (!down_write_trylock(&mm->mmap_lock))
		return false;
	mm_lock_seqcount_begin(mm);
	return true;
#endif
}

static void uncharge_locked(struct mm_struct *mm, unsigned long npages)
{
	mmap_assert_write_locked(mm);
	if (WARN_ON_ONCE(npages > mm->locked_vm))
		npages = mm->locked_vm;
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
	uncharge_wq = alloc_workqueue("vfio_cxx_uncharge", WQ_UNBOUND, 0);
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

void kapi_mm_uncharge(struct kapi_mm *kmm, unsigned long npages)
{
	struct mm_struct *mm = to_mm(kmm);
	struct deferred_uncharge *d;

	if (!npages)
		return;
	if (!mmget_not_zero(mm))
		return; /* exited: nothing to give back */
	if (mm_write_trylock(mm)) {
		uncharge_locked(mm, npages);
		mmap_write_unlock(mm);
		mmput(mm);
		return;
	}
	/*
	 * Contended: never wait for the mmap lock here (callers may hold locks
	 * that a fault path takes).  Drop mm_users with mmput_async so the
	 * final exit work never runs in this context.
	 */
	d = kmalloc(sizeof(*d), GFP_KERNEL | __GFP_NOFAIL);
	INIT_WORK(&d->work, deferred_uncharge_fn);
	mmgrab(mm);
	d->mm = mm;
	d->npages = npages;
	queue_work(uncharge_wq, &d->work);
	mmput_async(mm);
}

#define PIN_BATCH (PAGE_SIZE / sizeof(struct page *))

long kapi_pin_user_pages(struct kapi_mm *kmm, unsigned long vaddr, unsigned long n,
			 int write, kapi_u64 *pfns)
{
	struct mm_struct *mm = to_mm(kmm);
	unsigned int flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	struct page **pages;
	long ret, i;
	int locked = 1;

	if (n > PIN_BATCH)
		n = PIN_BATCH;
	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	if (!mmget_not_zero(mm)) {
		free_page((unsigned long)pages);
		return -ESRCH;
	}
	mmap_read_lock(mm);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	ret = pin_user_pages_remote(mm, vaddr, n, flags, pages, &locked);
#else
	/* Before 6.5, FOLL_LONGTERM GUP must not drop the lock (no "locked"). */
	ret = pin_user_pages_remote(mm, vaddr, n, flags, pages, NULL, NULL);
#endif
	if (locked)
		mmap_read_unlock(mm);
	mmput(mm);
	for (i = 0; i < ret; i++)
		pfns[i] = page_to_pfn(pages[i]);
	free_page((unsigned long)pages);
	if (ret == 0)
		ret = -EFAULT;
	return ret;
}

void kapi_unpin_pages(kapi_u64 pfn, unsigned long npages, int dirty)
{
	unpin_user_page_range_dirty_lock(pfn_to_page(pfn), npages, dirty);
}
