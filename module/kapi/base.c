// SPDX-License-Identifier: GPL-2.0
/* kapi: memory, locks, logging. */
#include <linux/bug.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "services.h"
#include "internal.h"

void *kapi_alloc(unsigned long size)
{
	if (size > INT_MAX)
		return NULL; /* kvmalloc would WARN; callers handle NULL */
	/* Small objects straight from the slab, as kvzalloc would, one call less. */
	if (size <= PAGE_SIZE)
		return kzalloc(size, GFP_KERNEL_ACCOUNT);
	return kvzalloc(size, GFP_KERNEL_ACCOUNT);
}

void kapi_free(void *p)
{
	kvfree(p);
}

static struct kmem_cache *kapi_caches[KAPI_CACHE_NR];
static const struct {
	const char *name;
	unsigned int size;
} kapi_cache_defs[KAPI_CACHE_NR] = {
	[KAPI_CACHE_DMA] = { "vfio_cxx_dma", KAPI_CACHE_DMA_SIZE },
};

void *kapi_cache_alloc(enum kapi_cache_id id)
{
	return kmem_cache_alloc(kapi_caches[id], GFP_KERNEL_ACCOUNT);
}

/* NULL-safe, as kfree is (kmem_cache_free of NULL may warn). */
void kapi_cache_free(enum kapi_cache_id id, void *p)
{
	if (p)
		kmem_cache_free(kapi_caches[id], p);
}

void kapi_cond_resched(void)
{
	cond_resched();
}

/* One lockdep class per kapi_lock_class, named after it. */
static struct lock_class_key kapi_lock_keys[KAPI_LOCK_NR];
static const char *const kapi_lock_names[KAPI_LOCK_NR] = {
	[KAPI_LOCK_REGISTRY] = "vfio_cxx_registry",
	[KAPI_LOCK_DEVICES] = "vfio_cxx_devices",
	[KAPI_LOCK_CONTAINER] = "vfio_cxx_container",
	[KAPI_LOCK_REGIONS] = "vfio_cxx_regions",
};

struct kapi_mutex {
	struct mutex m;
};

struct kapi_mutex *kapi_mutex_create(enum kapi_lock_class cls)
{
	struct kapi_mutex *m;

	if (WARN_ON(cls >= KAPI_LOCK_NR))
		return NULL;
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (m)
		__mutex_init(&m->m, kapi_lock_names[cls], &kapi_lock_keys[cls]);
	return m;
}

void kapi_mutex_destroy(struct kapi_mutex *m)
{
	mutex_destroy(&m->m);
	kfree(m);
}

void kapi_mutex_lock(struct kapi_mutex *m)
{
	mutex_lock(&m->m);
}

int kapi_mutex_lock_killable(struct kapi_mutex *m)
{
	return mutex_lock_killable(&m->m) ? -EINTR : 0;
}

int kapi_mutex_trylock(struct kapi_mutex *m)
{
	return mutex_trylock(&m->m);
}

void kapi_mutex_unlock(struct kapi_mutex *m)
{
	mutex_unlock(&m->m);
}

void kapi_mutex_assert_held(struct kapi_mutex *m)
{
	lockdep_assert_held(&m->m);
}

/* The registry's static mutex, given its lockdep class at module init. */
static struct kapi_mutex kapi_registry_lock;
static struct kapi_mutex kapi_regions_lock;

struct kapi_mutex *kapi_registry_mutex(void)
{
	return &kapi_registry_lock;
}

struct kapi_mutex *kapi_regions_mutex(void)
{
	return &kapi_regions_lock;
}

/* Key of kapi_mm_id(): user space sees hashes, never kernel pointers. */
static siphash_key_t kapi_mm_id_key;

void kapi_base_exit(void)
{
	int i;

	/* Every container is gone (they hold module references): the caches are empty. */
	for (i = 0; i < KAPI_CACHE_NR; i++)
		kmem_cache_destroy(kapi_caches[i]); /* NULL-safe */
}

int kapi_base_init(void)
{
	int i;

	__mutex_init(&kapi_registry_lock.m, kapi_lock_names[KAPI_LOCK_REGISTRY],
		     &kapi_lock_keys[KAPI_LOCK_REGISTRY]);
	__mutex_init(&kapi_regions_lock.m, kapi_lock_names[KAPI_LOCK_REGIONS],
		     &kapi_lock_keys[KAPI_LOCK_REGIONS]);
	get_random_bytes(&kapi_mm_id_key, sizeof(kapi_mm_id_key));
	for (i = 0; i < KAPI_CACHE_NR; i++) {
		kapi_caches[i] = kmem_cache_create(kapi_cache_defs[i].name, kapi_cache_defs[i].size,
						   0, SLAB_ACCOUNT, NULL);
		if (!kapi_caches[i]) {
			kapi_base_exit();
			return -ENOMEM;
		}
	}
	return 0;
}

unsigned int kapi_current_tgid(void)
{
	return task_tgid_nr(current);
}

unsigned int kapi_current_euid(void)
{
	return from_kuid_munged(&init_user_ns, current_euid());
}

int kapi_capable_sys_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}

kapi_u64 kapi_mm_id(struct kapi_mm *mm)
{
	/* Never 0 for a real mm: 0 means "none" to user space. */
	return mm ? siphash_1u64((u64)(unsigned long)mm, &kapi_mm_id_key) | 1 : 0;
}

void kapi_log(enum kapi_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[KAPI_LOG_ERR] = KERN_ERR, [KAPI_LOG_WARN] = KERN_WARNING,
		[KAPI_LOG_INFO] = KERN_INFO, [KAPI_LOG_DEBUG] = KERN_DEBUG,
	};
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	printk("%s%pV", prefix[level <= KAPI_LOG_DEBUG ? level : KAPI_LOG_DEBUG], &vaf);
	va_end(args);
}

void kapi_internal_error(const char *msg)
{
	WARN_ONCE(1, "%s\n", msg);
}
