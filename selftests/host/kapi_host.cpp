// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace implementation of module/kapi/services.h for the host unit tests.
 * See kapi_host.h for the model and the test controls.
 */
#include "kapi_host.h"

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <new>
#include <unordered_set>
#include <thread>
#include <set>
#include <vector>

namespace {

[[noreturn]] void die(const char *what)
{
	fprintf(stderr, "kapi_host: FATAL: %s\n", what);
	fflush(stderr);
	abort();
}

/* One lock for the fake's own state (never held while calling the core). */
pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
struct StateGuard {
	StateGuard() { pthread_mutex_lock(&state_lock); }
	~StateGuard() { pthread_mutex_unlock(&state_lock); }
	StateGuard(const StateGuard &) = delete;
	StateGuard &operator=(const StateGuard &) = delete;
};

/* ---- allocation accounting ------------------------------------------- */

/* An allocator that bypasses operator new, for the set of live blocks. */
template <class T>
struct MallocAlloc {
	using value_type = T;
	MallocAlloc() = default;
	template <class U>
	MallocAlloc(const MallocAlloc<U> &) {}
	T *allocate(size_t n)
	{
		void *p = malloc(n * sizeof(T));
		if (!p)
			die("out of memory in the test harness");
		return static_cast<T *>(p);
	}
	void deallocate(T *p, size_t) { free(p); }
	template <class U>
	bool operator==(const MallocAlloc<U> &) const { return true; }
	template <class U>
	bool operator!=(const MallocAlloc<U> &) const { return false; }
};

pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;
std::unordered_set<void *, std::hash<void *>, std::equal_to<void *>, MallocAlloc<void *>> *live_blocks;

std::atomic<long> fail_countdown{ 0 };
std::atomic<bool> fail_hit{ false };
std::atomic<long> attempts{ 0 };
std::atomic<long> n_mutexes{ 0 };
std::atomic<long> n_rangemaps{ 0 };
std::atomic<long> n_xmaps{ 0 };
std::atomic<long> n_watches{ 0 };
std::atomic<long> n_devlists{ 0 };
std::atomic<int> n_domains{ 0 };

/* true: this allocation must fail. */
bool inject()
{
	attempts++;
	long n = fail_countdown.load();
	while (n > 0) {
		if (fail_countdown.compare_exchange_weak(n, n - 1)) {
			if (n == 1) {
				fail_hit = true;
				return true;
			}
			return false;
		}
	}
	return false;
}

void track(void *p)
{
	pthread_mutex_lock(&alloc_lock);
	if (!live_blocks) {
		void *mem = malloc(sizeof(*live_blocks));
		if (!mem)
			die("out of memory in the test harness");
		live_blocks = new (mem) std::remove_pointer_t<decltype(live_blocks)>();
	}
	live_blocks->insert(p);
	pthread_mutex_unlock(&alloc_lock);
}

/* true if p was a kapi block (and forgets it). */
bool untrack(void *p)
{
	pthread_mutex_lock(&alloc_lock);
	bool found = live_blocks && live_blocks->erase(p);
	pthread_mutex_unlock(&alloc_lock);
	return found;
}

long live_count()
{
	pthread_mutex_lock(&alloc_lock);
	long n = live_blocks ? static_cast<long>(live_blocks->size()) : 0;
	pthread_mutex_unlock(&alloc_lock);
	return n;
}

/* ---- parameters --------------------------------------------------------- */

std::atomic<bool> claim_type1{ false };
std::atomic<bool> spapr_param{ false };
std::atomic<bool> kernel_nesting{ true };
std::atomic<int> type1_wrap_errno{ -EINVAL };
std::atomic<unsigned int> dma_entry_limit{ 65535 };
std::atomic<unsigned int> exit_policy_param{ 0 };
std::atomic<bool> disable_hugepages{ false };
std::atomic<bool> allow_unsafe_interrupts{ false };
std::atomic<bool> cap_ipc_lock{ false };
std::atomic<unsigned long> rlimit_pages{ 16384 }; /* 64 MiB */

/* ---- log ------------------------------------------------------------------ */

std::vector<khost::LogLine> *log_buf;

/* ---- mm ------------------------------------------------------------------- */

struct MmSet {
	std::vector<khost::FakeMm *> all;
};
MmSet mms;
khost::FakeMm *current_mm;
khost::FakeMm *default_mm;

/* ---- pinning and user memory -------------------------------------------- */

struct Range {
	unsigned long start, last;
};
std::vector<Range> pfnmap_ranges;
std::vector<Range> fault_ranges;
std::map<kapi_u64, long> pins; /* pfn -> pin count */
unsigned long pin_fail_at;
int pin_fail_err;
std::set<unsigned long> unfaulted; /* page numbers GUP-fast cannot take */
long pin_calls_fast, pin_calls_remote, pin_calls_pfnmap, mm_rw_remote_calls;
int uncharge_interrupted;
std::vector<std::pair<khost::FakeMm *, unsigned long>> deferred_uncharges;

bool in_ranges(const std::vector<Range> &rs, unsigned long a, unsigned long n)
{
	for (const Range &r : rs)
		if (n && a <= r.last && a + n - 1 >= r.start)
			return true;
	return false;
}

} /* namespace */

namespace khost {

struct FakeMm {
	std::vector<kapi_mm_watch *> watches;
	long count = 1;
	unsigned long locked_vm = 0;
	bool exited = false;
	long charges = 0;
	long uncharges = 0;
};

} /* namespace khost */

namespace {

/* ---- fake IOMMU domain ---------------------------------------------------- */

struct Mapping {
	kapi_u64 paddr;
	kapi_u64 size;
	int prot;
};

struct FakeDomain {
	int family;
	bool coherent;
	kapi_u64 pgsize_bitmap;
	kapi_u64 ap_start, ap_end;
	std::vector<khost::FakeGroup *> groups;
	std::map<kapi_u64, Mapping> maps; /* iova -> mapping */
	bool nesting_ok = false; /* the group's "driver" can nest */
};

std::vector<FakeDomain *> live_domains; /* under state_lock */
long map_segs_calls_total; /* kapi_domain_map_segs calls: one IOTLB sync each */

int attached_groups_total()
{
	StateGuard g;
	int n = 0;
	for (FakeDomain *d : live_domains)
		n += static_cast<int>(d->groups.size());
	return n;
}

FakeDomain *to_fake(kapi_domain *d) { return reinterpret_cast<FakeDomain *>(d); }
khost::FakeGroup *to_fake(kapi_group *g) { return reinterpret_cast<khost::FakeGroup *>(g); }

} /* namespace */

/* ---- the core's allocator: nothrow new is kapi_alloc, as in runtime.cpp -- */

void *operator new(size_t size, const std::nothrow_t &) noexcept { return kapi_alloc(size); }
void *operator new[](size_t size, const std::nothrow_t &) noexcept { return kapi_alloc(size); }

/* Everything else (GoogleTest, the STL) allocates uncounted. */
void *operator new(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		die("operator new: out of memory");
	return p;
}
void *operator new[](size_t size) { return operator new(size); }

static void any_delete(void *p) noexcept
{
	if (!p)
		return;
	untrack(p); /* a kapi block (nothrow new) or not: both are malloc'd */
	free(p);
}
void operator delete(void *p) noexcept { any_delete(p); }
void operator delete[](void *p) noexcept { any_delete(p); }
void operator delete(void *p, size_t) noexcept { any_delete(p); }
void operator delete[](void *p, size_t) noexcept { any_delete(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { any_delete(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { any_delete(p); }

/* ---- kapi: memory ----------------------------------------------------------- */

extern "C" void *kapi_alloc(unsigned long size) noexcept
{
	if (size > 0x7fffffffUL)
		return nullptr;
	if (inject())
		return nullptr;
	void *p = calloc(1, size ? size : 1);
	if (!p)
		return nullptr;
	track(p);
	return p;
}

extern "C" void kapi_free(void *p) noexcept
{
	if (!p)
		return;
	if (!untrack(p))
		die("kapi_free of a pointer kapi_alloc did not return (double free?)");
	free(p);
}

/*
 * The object caches: kapi_alloc's tracking and injected failures, filled
 * with a pattern, not zeroed: a member its constructor forgets reads as
 * garbage here, where a fresh slab could hand out zeroes.
 */
extern "C" void *kapi_cache_alloc(enum kapi_cache_id id) noexcept
{
	if (id != KAPI_CACHE_DMA)
		die("kapi_cache_alloc of an unknown cache");
	void *p = kapi_alloc(KAPI_CACHE_DMA_SIZE);
	if (p)
		memset(p, 0xa5, KAPI_CACHE_DMA_SIZE);
	return p;
}

extern "C" void kapi_cache_free(enum kapi_cache_id, void *p) noexcept { kapi_free(p); }

extern "C" void kapi_cond_resched(void) noexcept {}

/* ---- kapi: user memory -------------------------------------------------------- */

extern "C" int kapi_copy_from_user(void *dst, unsigned long uaddr, unsigned long n) noexcept
{
	{
		StateGuard g;
		if (!uaddr || uaddr + n < uaddr || in_ranges(fault_ranges, uaddr, n))
			return -EFAULT;
	}
	if (n)
		memcpy(dst, reinterpret_cast<const void *>(uaddr), n);
	return 0;
}

extern "C" int kapi_copy_to_user(unsigned long uaddr, const void *src, unsigned long n) noexcept
{
	{
		StateGuard g;
		if (!uaddr || uaddr + n < uaddr || in_ranges(fault_ranges, uaddr, n))
			return -EFAULT;
	}
	if (n)
		memcpy(reinterpret_cast<void *>(uaddr), src, n);
	return 0;
}

extern "C" int kapi_access_ok(unsigned long uaddr, unsigned long n) noexcept
{
	return uaddr + n >= uaddr && uaddr + n <= (1UL << 47);
}

/* ---- kapi: mm ------------------------------------------------------------------ */

static khost::FakeMm *to_fake(kapi_mm *mm) { return reinterpret_cast<khost::FakeMm *>(mm); }

static void mm_drop_locked(khost::FakeMm *mm)
{
	if (mm->count <= 0)
		die("mm_count underflow (mmdrop without mmgrab)");
	if (--mm->count == 0) {
		for (auto it = mms.all.begin(); it != mms.all.end(); ++it)
			if (*it == mm) {
				mms.all.erase(it);
				break;
			}
		if (current_mm == mm)
			current_mm = nullptr;
		delete mm;
	}
}

extern "C" kapi_mm *kapi_mm_grab_current(void) noexcept
{
	StateGuard g;
	if (!current_mm)
		return nullptr;
	current_mm->count++;
	return reinterpret_cast<kapi_mm *>(current_mm);
}

extern "C" void kapi_mm_grab(kapi_mm *mm) noexcept
{
	StateGuard g;
	if (!mm || to_fake(mm)->count <= 0)
		die("kapi_mm_grab on a dead mm");
	to_fake(mm)->count++;
}

extern "C" void kapi_mm_drop(kapi_mm *mm) noexcept
{
	StateGuard g;
	if (!mm)
		die("kapi_mm_drop(NULL)");
	mm_drop_locked(to_fake(mm));
}

extern "C" int kapi_mm_is_current(kapi_mm *mm) noexcept
{
	StateGuard g;
	return to_fake(mm) == current_mm;
}

extern "C" int kapi_capable_ipc_lock(void) noexcept { return cap_ipc_lock.load(); }
extern "C" unsigned long kapi_rlimit_memlock_pages(void) noexcept { return rlimit_pages.load(); }

extern "C" kapi_mm *kapi_mm_grab_current_acct(int *lock_cap, unsigned long *limit_pages) noexcept
{
	kapi_mm *mm = kapi_mm_grab_current();
	if (mm) {
		*lock_cap = kapi_capable_ipc_lock();
		*limit_pages = kapi_rlimit_memlock_pages();
	}
	return mm;
}

extern "C" int kapi_mm_charge(kapi_mm *mm, unsigned long npages, int lock_cap,
			      unsigned long limit_pages) noexcept
{
	StateGuard g;
	khost::FakeMm *m = to_fake(mm);
	if (!m || m->count <= 0)
		die("kapi_mm_charge on a dead mm");
	m->charges++;
	if (m->exited)
		return -ESRCH;
	if (!lock_cap && m->locked_vm + npages > limit_pages)
		return -ENOMEM;
	m->locked_vm += npages;
	return 0;
}

namespace {
void uncharge_locked(khost::FakeMm *m, unsigned long npages)
{
	if (m->exited)
		return; /* its locked_vm died with it */
	if (npages > m->locked_vm)
		die("locked_vm underflow (uncharged more than was charged)");
	m->locked_vm -= npages;
}
} /* namespace */

extern "C" int kapi_mm_uncharge_now(kapi_mm *mm, unsigned long npages) noexcept
{
	StateGuard g;
	khost::FakeMm *m = to_fake(mm);
	if (!m || m->count <= 0)
		die("kapi_mm_uncharge_now on a dead mm");
	if (!npages)
		return 0;
	m->uncharges++;
	if (uncharge_interrupted > 0) {
		uncharge_interrupted--;
		return -EINTR; /* "killed while waiting for the mmap lock": nothing changed */
	}
	uncharge_locked(m, npages);
	return 0;
}

/* The "work item" runs at kapi_mm_flush_deferred(), holding its own mm_count. */
extern "C" void kapi_mm_uncharge_later(kapi_mm *mm, unsigned long npages) noexcept
{
	StateGuard g;
	khost::FakeMm *m = to_fake(mm);
	if (!m || m->count <= 0)
		die("kapi_mm_uncharge_later on a dead mm");
	m->count++;
	deferred_uncharges.push_back({ m, npages });
}

extern "C" void kapi_mm_flush_deferred(void) noexcept
{
	StateGuard g;
	for (auto &[m, npages] : deferred_uncharges) {
		uncharge_locked(m, npages);
		mm_drop_locked(m);
	}
	deferred_uncharges.clear();
}

extern "C" int kapi_mm_exited(kapi_mm *mm) noexcept
{
	StateGuard g;
	return to_fake(mm)->exited;
}

/* A watch holds an mm_count reference, as an MMU notifier does. */
struct kapi_mm_watch {
	khost::FakeMm *mm;
	void *ctx;
	bool released;
	std::thread *work = nullptr; /* the kernel's work item, when the try found a lock busy */
};

namespace {
/* The release callback as mm.c's watch_release: try, else run it from a "work item". */
void watch_release(kapi_mm_watch *w)
{
	if (!vfio_cxx_mm_released(w->ctx, w, 1))
		w->work = new std::thread([w] { vfio_cxx_mm_released(w->ctx, w, 0); });
}
void watch_flush(kapi_mm_watch *w)
{
	if (w->work) {
		w->work->join();
		delete w->work;
		w->work = nullptr;
	}
}
} /* namespace */

extern "C" int kapi_mm_watch_create(kapi_mm *mm, void *ctx, kapi_mm_watch **out) noexcept
{
	if (inject())
		return -ENOMEM;
	StateGuard g;
	khost::FakeMm *m = to_fake(mm);
	if (!m || m->count <= 0)
		die("kapi_mm_watch_create on a dead mm");
	if (m->exited)
		return -ESRCH;
	auto *w = new kapi_mm_watch{ m, ctx, false };
	m->count++;
	m->watches.push_back(w);
	n_watches++;
	*out = w;
	return 0;
}

extern "C" void kapi_mm_watch_destroy(kapi_mm_watch *w) noexcept
{
	if (khost::core_lock_held())
		die("kapi_mm_watch_destroy with the container lock held (the release callback takes it)");
	bool run = false;
	{
		StateGuard g;
		/* mmu_notifier_unregister runs release itself while the mm lives. */
		if (!w->released && !w->mm->exited) {
			w->released = true;
			run = true;
		}
	}
	if (run)
		watch_release(w);
	watch_flush(w); /* flush_work() */
	StateGuard g;
	auto &ws = w->mm->watches;
	for (auto it = ws.begin(); it != ws.end(); ++it)
		if (*it == w) {
			ws.erase(it);
			break;
		}
	mm_drop_locked(w->mm);
	n_watches--;
	delete w;
}

void khost_pin_hook(unsigned long vaddr, unsigned long n); /* "netlink" block, at the end */

namespace {
/* Pin normal pages from vaddr up to the first PFNMAP page or the failure point. */
long pin_normal(khost::FakeMm *m, unsigned long vaddr, unsigned long n, kapi_u64 *pfns, bool fast)
{
	if (!m || m->count <= 0)
		die("pinning on a dead mm");
	if (n > KAPI_PIN_BATCH)
		die("pinning more than KAPI_PIN_BATCH pages in one call");
	unsigned long i = 0;
	for (; i < n; i++) {
		const unsigned long va = vaddr + i * 4096;
		if ((pin_fail_err && va >= pin_fail_at) || in_ranges(pfnmap_ranges, va, 1))
			break;
		if (fast && unfaulted.count(va >> 12))
			break;
		unfaulted.erase(va >> 12); /* the remote walk faults it in */
		pins[va >> 12]++;
		pfns[i] = va >> 12;
	}
	return static_cast<long>(i);
}
} /* namespace */

/* GUP-fast: current's mm only; stops at the first page not faulted in (set_unfaulted). */
extern "C" long kapi_pin_fast(unsigned long vaddr, unsigned long n, int write,
			      kapi_u64 *pfns) noexcept
{
	(void)write;
	khost_pin_hook(vaddr, n);
	StateGuard g;
	pin_calls_fast++;
	if (!current_mm)
		die("kapi_pin_fast without a current mm");
	if (current_mm->exited)
		return 0;
	return pin_normal(current_mm, vaddr, n, pfns, true);
}

extern "C" long kapi_pin_remote(kapi_mm *mm, unsigned long vaddr, unsigned long n, int write,
				kapi_u64 *pfns) noexcept
{
	(void)write;
	if (to_fake(mm) != current_mm)
		khost_pin_hook(vaddr, n); /* (kapi_pin_fast called it for current's) */
	StateGuard g;
	pin_calls_remote++;
	khost::FakeMm *m = to_fake(mm);
	if (m && m->count > 0 && m->exited)
		return -ESRCH;
	if (!n)
		return -EINVAL;
	const long got = pin_normal(m, vaddr, n, pfns, false);
	if (got)
		return got;
	return pin_fail_err && vaddr >= pin_fail_at ? pin_fail_err : -EFAULT; /* GUP refuses VM_PFNMAP */
}

extern "C" int kapi_pfnmap_pfn(kapi_mm *mm, unsigned long vaddr, int write, kapi_u64 *pfn) noexcept
{
	(void)write;
	StateGuard g;
	pin_calls_pfnmap++;
	khost::FakeMm *m = to_fake(mm);
	if (!m || m->count <= 0)
		die("kapi_pfnmap_pfn on a dead mm");
	if (m->exited)
		return -ESRCH;
	if (!in_ranges(pfnmap_ranges, vaddr, 1))
		return -ENOENT;
	*pfn = vaddr >> 12;
	return 0;
}

extern "C" void kapi_unpin_pages(kapi_u64 pfn, unsigned long npages, int dirty) noexcept
{
	(void)dirty;
	StateGuard g;
	if (pfn & KAPI_PFN_RESERVED)
		die("kapi_unpin_pages of a reserved PFN");
	for (unsigned long i = 0; i < npages; i++) {
		auto it = pins.find(pfn + i);
		if (it == pins.end())
			die("kapi_unpin_pages of a page that is not pinned");
		if (--it->second == 0)
			pins.erase(it);
	}
}

/* ---- kapi: locks ------------------------------------------------------------------ */

struct kapi_mutex {
	pthread_mutex_t m;
	std::atomic<bool> held;
	pthread_t owner;
	kapi_lock_class cls;
};

namespace {
thread_local int held_per_class[KAPI_LOCK_NR];
}

extern "C" kapi_mutex *kapi_mutex_create(kapi_lock_class cls) noexcept
{
	if (cls < 0 || cls >= KAPI_LOCK_NR)
		die("kapi_mutex_create: bad lock class");
	if (inject())
		return nullptr;
	auto *m = static_cast<kapi_mutex *>(malloc(sizeof(kapi_mutex)));
	if (!m)
		return nullptr;
	pthread_mutex_init(&m->m, nullptr);
	m->held = false;
	m->cls = cls;
	n_mutexes++;
	return m;
}

extern "C" void kapi_mutex_destroy(kapi_mutex *m) noexcept
{
	if (!m)
		die("kapi_mutex_destroy(NULL)");
	if (m->held)
		die("kapi_mutex_destroy of a held mutex");
	pthread_mutex_destroy(&m->m);
	free(m);
	n_mutexes--;
}

extern "C" void kapi_mutex_lock(kapi_mutex *m) noexcept
{
	if (m->held && pthread_equal(m->owner, pthread_self()))
		die("kapi_mutex_lock: recursive lock (self-deadlock)");
	/* lockdep: only classes above every held one (same class: no nesting). */
	for (int c = m->cls; c < KAPI_LOCK_NR; c++)
		if (held_per_class[c])
			die("kapi_mutex_lock: lock order violation");
	pthread_mutex_lock(&m->m);
	m->owner = pthread_self();
	m->held = true;
	held_per_class[m->cls]++;
}

extern "C" int kapi_mutex_lock_killable(kapi_mutex *m) noexcept
{
	kapi_mutex_lock(m); /* the host has no fatal signals */
	return 0;
}

extern "C" int kapi_mutex_trylock(kapi_mutex *m) noexcept
{
	if (m->held && pthread_equal(m->owner, pthread_self()))
		die("kapi_mutex_trylock: recursive lock");
	if (pthread_mutex_trylock(&m->m))
		return 0;
	m->owner = pthread_self();
	m->held = true;
	held_per_class[m->cls]++;
	return 1;
}

extern "C" void kapi_mutex_unlock(kapi_mutex *m) noexcept
{
	if (!m->held || !pthread_equal(m->owner, pthread_self()))
		die("kapi_mutex_unlock of a mutex this thread does not hold");
	m->held = false;
	held_per_class[m->cls]--;
	pthread_mutex_unlock(&m->m);
}

extern "C" void kapi_mutex_assert_held(kapi_mutex *m) noexcept
{
	if (!m->held || !pthread_equal(m->owner, pthread_self()))
		die("kapi_mutex_assert_held: mutex not held by the calling thread");
}

/* The static mutexes (registry, regions): never created, never counted as live. */
static kapi_mutex *static_mutex(kapi_lock_class cls)
{
	auto *r = static_cast<kapi_mutex *>(malloc(sizeof(kapi_mutex)));
	pthread_mutex_init(&r->m, nullptr);
	r->held = false;
	r->cls = cls;
	return r;
}

extern "C" kapi_mutex *kapi_registry_mutex(void) noexcept
{
	static kapi_mutex *m = static_mutex(KAPI_LOCK_REGISTRY);
	return m;
}

extern "C" kapi_mutex *kapi_regions_mutex(void) noexcept
{
	static kapi_mutex *m = static_mutex(KAPI_LOCK_REGIONS);
	return m;
}

/* ---- kapi: the calling task, events ----------------------------------------------- */

namespace {
std::atomic<unsigned int> cur_tgid{ 4242 };
std::atomic<unsigned int> cur_euid{ 0 };
std::atomic<bool> cap_sys_admin{ true };
std::vector<khost::Event> *event_buf;
}

extern "C" unsigned int kapi_current_tgid(void) noexcept { return cur_tgid.load(); }
extern "C" unsigned int kapi_current_euid(void) noexcept { return cur_euid.load(); }
extern "C" int kapi_capable_sys_admin(void) noexcept { return cap_sys_admin.load(); }
extern "C" kapi_u64 kapi_mm_id(kapi_mm *mm) noexcept
{
	/* Opaque, like the kernel's keyed hash: never the pointer itself. */
	return mm ? ((reinterpret_cast<uintptr_t>(mm) * 0x9e3779b97f4a7c15ULL) ^ 0x5bd1e995ULL) | 1 : 0;
}

/* The recorder of events (no longer a kapi service: kapi_msg_multicast() feeds it). */
extern "C" void kapi_emit_event(kapi_event_type type, const kapi_event *ev) noexcept;
extern "C" void kapi_emit_event(kapi_event_type type, const kapi_event *ev) noexcept
{
	StateGuard g;
	if (!event_buf)
		event_buf = new std::vector<khost::Event>();
	event_buf->push_back({ type, *ev });
}

/* ---- kapi: log, bug, params ---------------------------------------------------- */

extern "C" void kapi_log(kapi_log_level level, const char *fmt, ...) noexcept
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (getenv("KAPI_HOST_VERBOSE"))
		fprintf(stderr, "kapi_log(%d): %s", level, buf);
	StateGuard g;
	if (!log_buf)
		log_buf = new std::vector<khost::LogLine>();
	log_buf->push_back({ level, buf });
}

extern "C" void kapi_internal_error(const char *msg) noexcept
{
	fprintf(stderr, "kapi_internal_error: %s\n", msg);
	fflush(stderr);
	abort();
}

extern "C" int kapi_param_claim_type1(void) noexcept { return claim_type1.load() ? 1 : 0; }
extern "C" int kapi_param_spapr(void) noexcept { return spapr_param.load() ? 1 : 0; }
extern "C" int kapi_iommu_has_nesting(void) noexcept { return kernel_nesting.load() ? 1 : 0; }
extern "C" int kapi_type1_wrap_errno(void) noexcept { return type1_wrap_errno.load(); }
extern "C" unsigned int kapi_param_dma_entry_limit(void) noexcept { return dma_entry_limit.load(); }
extern "C" unsigned int kapi_param_exit_policy(void) noexcept { return exit_policy_param.load(); }
extern "C" int kapi_param_disable_hugepages(void) noexcept { return disable_hugepages.load() ? 1 : 0; }
extern "C" int kapi_param_allow_unsafe_interrupts(void) noexcept
{
	return allow_unsafe_interrupts.load() ? 1 : 0;
}

/* ---- kapi: groups and domains ----------------------------------------------------- */

extern "C" int kapi_group_id(kapi_group *g) noexcept { return to_fake(g)->id; }

extern "C" int kapi_group_msi_isolated(kapi_group *g) noexcept
{
	return to_fake(g)->msi_isolated ? 1 : 0;
}

extern "C" int kapi_domain_alloc(kapi_group *g, kapi_domain **out) noexcept
{
	if (inject())
		return -ENOMEM;
	khost::FakeGroup *fg = to_fake(g);
	auto *d = new FakeDomain{ fg->family, fg->coherent, fg->pgsize_bitmap, fg->aperture_start,
				  fg->aperture_end, {}, {}, fg->nesting };
	n_domains++;
	{
		StateGuard sg;
		live_domains.push_back(d);
	}
	*out = reinterpret_cast<kapi_domain *>(d);
	return 0;
}

extern "C" void kapi_domain_free(kapi_domain *d) noexcept
{
	FakeDomain *fd = to_fake(d);
	if (!fd)
		die("kapi_domain_free(NULL)");
	{
		StateGuard g;
		if (!fd->groups.empty())
			die("kapi_domain_free of a domain with groups attached");
		for (auto it = live_domains.begin(); it != live_domains.end(); ++it)
			if (*it == fd) {
				live_domains.erase(it);
				break;
			}
	}
	delete fd;
	n_domains--;
}

extern "C" int kapi_domain_attach_group(kapi_domain *d, kapi_group *g) noexcept
{
	FakeDomain *fd = to_fake(d);
	khost::FakeGroup *fg = to_fake(g);
	StateGuard sg;
	/* The iommu core: a group has one domain at a time. */
	if (fg->attached_to)
		return -EBUSY;
	if (fg->attach_fails)
		return fg->attach_error;
	/* A domain of another driver cannot take the group. */
	if (fd->family != fg->family)
		return -EINVAL;
	fg->attached_to = fd;
	fd->groups.push_back(fg);
	return 0;
}

extern "C" void kapi_domain_detach_group(kapi_domain *d, kapi_group *g) noexcept
{
	FakeDomain *fd = to_fake(d);
	khost::FakeGroup *fg = to_fake(g);
	StateGuard sg;
	if (fg->attached_to != fd)
		die("kapi_domain_detach_group of a group not attached to this domain");
	for (auto it = fd->groups.begin(); it != fd->groups.end(); ++it)
		if (*it == fg) {
			fd->groups.erase(it);
			break;
		}
	fg->attached_to = nullptr;
}

/* The fake's IOMMU driver is its family: an identity only compared, never dereferenced. */
extern "C" const void *kapi_domain_driver(kapi_domain *d) noexcept
{
	return reinterpret_cast<const void *>(static_cast<uintptr_t>(to_fake(d)->family) + 1);
}

extern "C" int kapi_domain_enforces_coherency(kapi_domain *d) noexcept { return to_fake(d)->coherent; }
/* As the kernel's Intel driver: no enable_nesting, -EINVAL, unless the group says it can. */
extern "C" int kapi_domain_enable_nesting(kapi_domain *d) noexcept
{
	return to_fake(d)->nesting_ok ? 0 : -EINVAL;
}
extern "C" kapi_u64 kapi_domain_pgsize_bitmap(kapi_domain *d) noexcept { return to_fake(d)->pgsize_bitmap; }

extern "C" void kapi_domain_aperture(kapi_domain *d, kapi_u64 *start, kapi_u64 *end) noexcept
{
	*start = to_fake(d)->ap_start;
	*end = to_fake(d)->ap_end;
}

/* One segment of kapi_domain_map_segs (the kernel's iommu_map). */
static long map_fail_nth; /* fail_nth_map(): the map call that fails, counting down */
static bool map_fail_hit;

static int fake_domain_map(kapi_domain *d, kapi_u64 iova, kapi_u64 paddr, kapi_u64 size, int prot)
{
	FakeDomain *fd = to_fake(d);
	StateGuard sg;
	if (map_fail_nth > 0 && --map_fail_nth == 0) {
		map_fail_hit = true;
		return -ENOMEM;
	}
	if (!size || ((iova | paddr | size) & 0xfff) || iova + size - 1 < iova)
		return -EINVAL;
	if (iova < fd->ap_start || iova + size - 1 > fd->ap_end)
		return -EINVAL;
	auto it = fd->maps.upper_bound(iova + size - 1);
	if (it != fd->maps.begin()) {
		--it;
		if (it->first + it->second.size > iova)
			return -EEXIST;
	}
	fd->maps[iova] = { paddr, size, prot };
	return 0;
}

extern "C" int kapi_domain_map_segs(kapi_domain *d, kapi_u64 iova, const kapi_u64 *pfns,
				   const kapi_u64 *npages, unsigned int n, int prot) noexcept
{
	if (n > KAPI_MAP_SEGS_MAX)
		die("kapi_domain_map_segs: more than KAPI_MAP_SEGS_MAX segments");
	kapi_u64 at = iova;
	for (unsigned int i = 0; i < n; i++) {
		const kapi_u64 len = npages[i] << 12;
		int ret = fake_domain_map(d, at, (pfns[i] & ~KAPI_PFN_RESERVED) << 12, len, prot);
		if (ret) {
			if (at > iova)
				kapi_domain_unmap(d, iova, at - iova);
			return ret;
		}
		at += len;
	}
	StateGuard sg;
	map_segs_calls_total++;
	return 0;
}

extern "C" kapi_u64 kapi_domain_unmap(kapi_domain *d, kapi_u64 iova, kapi_u64 size) noexcept
{
	FakeDomain *fd = to_fake(d);
	StateGuard sg;
	kapi_u64 done = 0;
	const kapi_u64 last = iova + size - 1;
	for (auto it = fd->maps.lower_bound(iova); it != fd->maps.end() && it->first <= last;) {
		done += it->second.size;
		it = fd->maps.erase(it);
	}
	return done;
}

static kapi_u64 phys_locked(FakeDomain *fd, kapi_u64 iova)
{
	auto it = fd->maps.upper_bound(iova);
	if (it == fd->maps.begin())
		return 0;
	--it;
	if (iova - it->first >= it->second.size)
		return 0;
	return it->second.paddr + (iova - it->first);
}

extern "C" kapi_u64 kapi_domain_iova_to_phys(kapi_domain *d, kapi_u64 iova) noexcept
{
	StateGuard sg;
	return phys_locked(to_fake(d), iova);
}

extern "C" kapi_u64 kapi_domain_iova_to_pfns(kapi_domain *d, kapi_u64 iova, kapi_u64 n,
					    kapi_u64 *pfns) noexcept
{
	StateGuard sg;
	kapi_u64 i;
	for (i = 0; i < n; i++) {
		kapi_u64 pa = phys_locked(to_fake(d), iova + (i << 12));
		if (!pa)
			break;
		pfns[i] = pa >> 12;
	}
	return i;
}

extern "C" int kapi_group_for_each_resv_region(kapi_group *g, kapi_resv_fn fn, void *ctx) noexcept
{
	khost::FakeGroup *fg = to_fake(g);
	if (fg->resv_error)
		return fg->resv_error;
	for (const khost::ResvRegion &r : fg->resv)
		fn(ctx, r.start, r.last - r.start + 1, r.relaxable);
	return 0;
}

/* ---- kapi: range map ------------------------------------------------------------------ */

struct kapi_rangemap {
	pthread_mutex_t lock;
	std::map<kapi_u64, std::pair<kapi_u64, void *>> m; /* first -> (last, entry) */
};

extern "C" kapi_rangemap *kapi_rangemap_create(void) noexcept
{
	if (inject())
		return nullptr;
	auto *m = new kapi_rangemap();
	pthread_mutex_init(&m->lock, nullptr);
	n_rangemaps++;
	return m;
}

extern "C" void kapi_rangemap_destroy(kapi_rangemap *m) noexcept
{
	if (!m->m.empty())
		die("kapi_rangemap_destroy of a non-empty map");
	pthread_mutex_destroy(&m->lock);
	delete m;
	n_rangemaps--;
}

/* The entry intersecting [first, last] with the lowest first index, or end. */
static std::map<kapi_u64, std::pair<kapi_u64, void *>>::iterator
lowest_intersecting(kapi_rangemap *m, kapi_u64 first, kapi_u64 last)
{
	auto it = m->m.upper_bound(first);
	if (it != m->m.begin()) {
		auto prev = std::prev(it);
		if (prev->second.first >= first)
			return prev;
	}
	if (it != m->m.end() && it->first <= last)
		return it;
	return m->m.end();
}

extern "C" int kapi_rangemap_insert(kapi_rangemap *m, kapi_range_node *n, kapi_u64 first,
				    kapi_u64 last, void *entry) noexcept
{
	if (!n || !entry || last < first)
		die("kapi_rangemap_insert: bad arguments");
	pthread_mutex_lock(&m->lock);
	int ret = 0;
	if (lowest_intersecting(m, first, last) != m->m.end()) {
		ret = -EEXIST;
	} else {
		/* The node is the kernel's storage; here it only records the range. */
		n->first = first;
		n->last = last;
		n->entry = entry;
		m->m[first] = { last, entry };
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

extern "C" void *kapi_rangemap_erase(kapi_rangemap *m, kapi_u64 index) noexcept
{
	pthread_mutex_lock(&m->lock);
	void *e = nullptr;
	auto it = lowest_intersecting(m, index, index);
	if (it != m->m.end()) {
		e = it->second.second;
		m->m.erase(it);
	}
	pthread_mutex_unlock(&m->lock);
	return e;
}

extern "C" void kapi_rangemap_remove(kapi_rangemap *m, kapi_range_node *n) noexcept
{
	pthread_mutex_lock(&m->lock);
	auto it = m->m.find(n->first);
	if (it == m->m.end() || it->second.first != n->last || it->second.second != n->entry)
		die("kapi_rangemap_remove: the node is not in the map");
	m->m.erase(it);
	pthread_mutex_unlock(&m->lock);
}

extern "C" void *kapi_rangemap_find(kapi_rangemap *m, kapi_u64 first, kapi_u64 last) noexcept
{
	pthread_mutex_lock(&m->lock);
	void *e = nullptr;
	auto it = lowest_intersecting(m, first, last);
	if (it != m->m.end())
		e = it->second.second;
	pthread_mutex_unlock(&m->lock);
	return e;
}

/* ---- kapi: index map (the xarray) and device lists ---------------------------------- */

struct kapi_xmap {
	pthread_mutex_t lock;
	std::map<unsigned long, void *> m;
};

extern "C" kapi_xmap *kapi_xmap_create(void) noexcept
{
	if (inject())
		return nullptr;
	auto *m = new kapi_xmap();
	pthread_mutex_init(&m->lock, nullptr);
	n_xmaps++;
	return m;
}

extern "C" void kapi_xmap_destroy(kapi_xmap *m) noexcept
{
	if (!m->m.empty())
		die("kapi_xmap_destroy of a non-empty map");
	pthread_mutex_destroy(&m->lock);
	delete m;
	n_xmaps--;
}

extern "C" int kapi_xmap_store(kapi_xmap *m, unsigned long index, void *p) noexcept
{
	/* The xarray takes no null, and no pointer with its low two bits used. */
	if (!p || (reinterpret_cast<uintptr_t>(p) & 3))
		die("kapi_xmap_store: entry the xarray cannot hold");
	pthread_mutex_lock(&m->lock);
	int ret = 0;
	auto it = m->m.find(index);
	if (it != m->m.end())
		it->second = p; /* a replacement never allocates */
	else if (inject())
		ret = -ENOMEM;
	else
		m->m[index] = p;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

extern "C" void *kapi_xmap_load(kapi_xmap *m, unsigned long index) noexcept
{
	pthread_mutex_lock(&m->lock);
	auto it = m->m.find(index);
	void *v = it == m->m.end() ? nullptr : it->second;
	pthread_mutex_unlock(&m->lock);
	return v;
}

extern "C" void kapi_xmap_erase(kapi_xmap *m, unsigned long index) noexcept
{
	pthread_mutex_lock(&m->lock);
	m->m.erase(index);
	pthread_mutex_unlock(&m->lock);
}

extern "C" void *kapi_xmap_find(kapi_xmap *m, unsigned long *index, unsigned long last) noexcept
{
	pthread_mutex_lock(&m->lock);
	void *v = nullptr;
	auto it = m->m.lower_bound(*index);
	if (it != m->m.end() && it->first <= last) {
		*index = it->first;
		v = it->second;
	}
	pthread_mutex_unlock(&m->lock);
	return v;
}

struct kapi_devlist {
	std::vector<khost::FakeDevice *> devs;
};

static khost::FakeDevice *to_fake(kapi_device *d) { return reinterpret_cast<khost::FakeDevice *>(d); }

extern "C" kapi_devlist *kapi_devlist_create(void) noexcept
{
	if (inject())
		return nullptr;
	n_devlists++;
	return new kapi_devlist();
}

extern "C" void kapi_devlist_destroy(kapi_devlist *l) noexcept
{
	if (!l->devs.empty())
		die("kapi_devlist_destroy of a non-empty list");
	delete l;
	n_devlists--;
}

extern "C" int kapi_device_has_dma_unmap(kapi_device *dev) noexcept
{
	return to_fake(dev)->on_unmap ? 1 : 0;
}

extern "C" void kapi_devlist_add(kapi_devlist *l, kapi_device *dev) noexcept
{
	khost::FakeDevice *d = to_fake(dev);
	for (khost::FakeDevice *x : l->devs)
		if (x == d)
			die("kapi_devlist_add: device registered twice");
	if (!d->on_unmap)
		die("kapi_devlist_add of a device without dma_unmap");
	l->devs.push_back(d);
}

extern "C" int kapi_devlist_del(kapi_devlist *l, kapi_device *dev) noexcept
{
	for (auto it = l->devs.begin(); it != l->devs.end(); ++it)
		if (*it == to_fake(dev)) {
			l->devs.erase(it);
			return 1;
		}
	return 0;
}

extern "C" void kapi_devlist_notify_unmap(kapi_devlist *l, kapi_u64 iova, kapi_u64 length) noexcept
{
	/* The vendor's callback re-enters the core: no core lock may be held. */
	if (khost::core_lock_held())
		die("dma_unmap notification with the container lock held");
	for (khost::FakeDevice *d : l->devs) {
		d->unmap_calls++;
		d->on_unmap(iova, length);
	}
}

extern "C" int kapi_pfn_kind(kapi_u64 pfn) noexcept
{
	StateGuard g;
	if (in_ranges(pfnmap_ranges, pfn << 12, 1))
		return KAPI_PFN_INVALID;
	return KAPI_PFN_PAGE;
}

extern "C" int kapi_mm_rw_remote(kapi_mm *mm, unsigned long vaddr, void *buf, unsigned long len,
				 int write) noexcept
{
	{
		StateGuard g;
		mm_rw_remote_calls++;
		khost::FakeMm *m = to_fake(mm);
		if (!m || m->count <= 0)
			die("kapi_mm_rw_remote on a dead mm");
		if (m->exited)
			return -EPERM;
		if (in_ranges(fault_ranges, vaddr, len))
			return -EFAULT;
	}
	if (write)
		memcpy(reinterpret_cast<void *>(vaddr), buf, len);
	else
		memcpy(buf, reinterpret_cast<const void *>(vaddr), len);
	return 0;
}

/* ---- test controls ------------------------------------------------------------------- */

namespace khost {

FakeMm *mm_new()
{
	StateGuard g;
	auto *mm = new FakeMm();
	mms.all.push_back(mm);
	return mm;
}

void mm_put(FakeMm *mm)
{
	StateGuard g;
	mm_drop_locked(mm);
}

void set_current_mm(FakeMm *mm)
{
	StateGuard g;
	current_mm = mm;
}

unsigned long mm_locked_vm(FakeMm *mm)
{
	StateGuard g;
	return mm->locked_vm;
}

long mm_count(FakeMm *mm)
{
	StateGuard g;
	return mm->count;
}

void mm_exit(FakeMm *mm)
{
	std::vector<kapi_mm_watch *> run;
	{
		StateGuard g;
		mm->exited = true;
		mm->locked_vm = 0;
		/* The exit path calls each watch's release once (exit_mmap). */
		for (kapi_mm_watch *w : mm->watches)
			if (!w->released) {
				w->released = true;
				run.push_back(w);
			}
	}
	for (kapi_mm_watch *w : run)
		watch_release(w);
}

void mm_flush_exit_work(FakeMm *mm)
{
	std::vector<kapi_mm_watch *> ws;
	{
		StateGuard g;
		ws = mm->watches;
	}
	for (kapi_mm_watch *w : ws)
		watch_flush(w);
}

long mm_watches(FakeMm *mm)
{
	StateGuard g;
	return static_cast<long>(mm->watches.size());
}

long mm_charge_calls(FakeMm *mm)
{
	StateGuard g;
	return mm->charges;
}

long mm_uncharge_calls(FakeMm *mm)
{
	StateGuard g;
	return mm->uncharges;
}

void set_capable_ipc_lock(bool cap) { cap_ipc_lock = cap; }
void set_rlimit_memlock_pages(unsigned long pages) { rlimit_pages = pages; }

void add_pfnmap_range(unsigned long start, unsigned long last)
{
	StateGuard g;
	pfnmap_ranges.push_back({ start, last });
}

void set_unfaulted(unsigned long vaddr, unsigned long npages)
{
	StateGuard g;
	for (unsigned long i = 0; i < npages; i++)
		unfaulted.insert((vaddr >> 12) + i);
}

PinCalls pin_calls()
{
	StateGuard g;
	return { pin_calls_fast, pin_calls_remote, pin_calls_pfnmap, mm_rw_remote_calls };
}

void set_uncharge_interrupted(int n)
{
	StateGuard g;
	uncharge_interrupted = n;
}

size_t deferred_uncharge_count()
{
	StateGuard g;
	return deferred_uncharges.size();
}

void set_pin_fail_at(unsigned long vaddr, int err)
{
	StateGuard g;
	pin_fail_at = vaddr;
	pin_fail_err = err;
}

long map_segs_calls()
{
	StateGuard g;
	return map_segs_calls_total;
}

unsigned long pinned_pages()
{
	StateGuard g;
	unsigned long n = 0;
	for (auto &p : pins)
		n += static_cast<unsigned long>(p.second);
	return n;
}

kapi_u64 pfn_of(unsigned long vaddr) { return vaddr >> 12; }

void add_fault_range(unsigned long start, unsigned long last)
{
	StateGuard g;
	fault_ranges.push_back({ start, last });
}

int domains_live() { return n_domains.load(); }

int groups_attached() { return attached_groups_total(); }

kapi_u64 iova_to_phys(FakeGroup &g, kapi_u64 iova)
{
	StateGuard sg;
	if (!g.attached_to)
		return 0;
	return phys_locked(static_cast<FakeDomain *>(g.attached_to), iova);
}

kapi_u64 mapped_bytes(FakeGroup &g)
{
	StateGuard sg;
	if (!g.attached_to)
		return 0;
	kapi_u64 n = 0;
	for (auto &m : static_cast<FakeDomain *>(g.attached_to)->maps)
		n += m.second.size;
	return n;
}

void fail_nth_alloc(long n)
{
	fail_hit = false;
	fail_countdown = n;
}

bool injected_failure_hit() { return fail_hit.load(); }
long alloc_attempts() { return attempts.load(); }
long live_allocations() { return live_count(); }
long live_mutexes() { return n_mutexes.load(); }
long live_rangemaps() { return n_rangemaps.load(); }

bool core_lock_held() { return held_per_class[KAPI_LOCK_CONTAINER] != 0; }

void set_claim_type1(bool on) { claim_type1 = on; }
void set_spapr(bool on) { spapr_param = on; }
void fail_nth_map(long n)
{
	StateGuard g;
	map_fail_nth = n;
	map_fail_hit = false;
}
bool map_failure_hit()
{
	StateGuard g;
	return map_fail_hit;
}
void set_kernel_nesting(bool on) { kernel_nesting = on; }
void set_type1_wrap_errno(int e) { type1_wrap_errno = e; }
void set_dma_entry_limit(unsigned int n) { dma_entry_limit = n; }
void set_exit_policy(unsigned int p) { exit_policy_param = p; }
void set_disable_hugepages(bool on) { disable_hugepages = on; }
void set_allow_unsafe_interrupts(bool on) { allow_unsafe_interrupts = on; }

const std::vector<LogLine> &log_lines()
{
	StateGuard g;
	if (!log_buf)
		log_buf = new std::vector<LogLine>();
	return *log_buf;
}

int log_count(const std::string &needle)
{
	StateGuard g;
	int n = 0;
	if (log_buf)
		for (const LogLine &l : *log_buf)
			if (l.text.find(needle) != std::string::npos)
				n++;
	return n;
}

void set_current_tgid(unsigned int tgid) { cur_tgid = tgid; }
void set_current_euid(unsigned int uid) { cur_euid = uid; }
void set_capable_sys_admin(bool cap) { cap_sys_admin = cap; }

std::vector<Event> events()
{
	StateGuard g;
	return event_buf ? *event_buf : std::vector<Event>();
}

void clear_events()
{
	StateGuard g;
	if (event_buf)
		event_buf->clear();
}

void clear_log()
{
	StateGuard g;
	if (log_buf)
		log_buf->clear();
}

void reset()
{
	fail_countdown = 0;
	fail_hit = false;
	attempts = 0;
	claim_type1 = false;
	spapr_param = false;
	map_fail_nth = 0;
	map_fail_hit = false;
	kernel_nesting = true;
	type1_wrap_errno = -EINVAL;
	dma_entry_limit = 65535;
	exit_policy_param = 0;
	disable_hugepages = false;
	allow_unsafe_interrupts = false;
	cap_ipc_lock = false;
	rlimit_pages = 16384;
	cur_tgid = 4242;
	cur_euid = 0;
	cap_sys_admin = true;
	clear_events();
	clear_log();
	StateGuard g;
	pfnmap_ranges.clear();
	fault_ranges.clear();
	pin_fail_at = 0;
	pin_fail_err = 0;
	unfaulted.clear();
	pin_calls_fast = pin_calls_remote = pin_calls_pfnmap = mm_rw_remote_calls = 0;
	uncharge_interrupted = 0;
	if (!deferred_uncharges.empty())
		die("a deferred uncharge was never flushed");
	if (!default_mm) {
		default_mm = new FakeMm();
		mms.all.push_back(default_mm);
	}
	current_mm = default_mm;
}

std::string leak_report()
{
	std::string r;
	auto add = [&r](const char *what, long n) {
		if (n)
			r += std::string(what) + "=" + std::to_string(n) + " ";
	};
	add("kapi_alloc blocks", live_count());
	add("mutexes", n_mutexes.load());
	add("rangemaps", n_rangemaps.load());
	add("xmaps", n_xmaps.load());
	add("mm watches", n_watches.load());
	add("device lists", n_devlists.load());
	add("domains", n_domains.load());
	add("attached groups", attached_groups_total());
	add("pinned pages", static_cast<long>(pinned_pages()));
	StateGuard g;
	for (FakeMm *mm : mms.all) {
		if (mm == default_mm) {
			add("default mm extra mm_count", mm->count - 1);
			add("default mm locked_vm", static_cast<long>(mm->locked_vm));
		} else {
			add("live test mm (not put, or a reference leaked)", 1);
			add("mm locked_vm", static_cast<long>(mm->locked_vm));
		}
	}
	return r;
}

} /* namespace khost */

/* ---- kapi: netlink viewers and container owners ("netlink" block) ------------- */

namespace {

struct HostOwner {
	unsigned int tgid, uid, label;
	bool dumpable = true;
	bool exited = false;
};
std::vector<HostOwner *> *host_owners; /* live, under state_lock */
std::atomic<unsigned int> cur_label{ 0 };
std::atomic<long> n_viewer_checks{ 0 }, n_viewer_quiet{ 0 };
std::function<void(unsigned long, unsigned long)> *pin_hook; /* under state_lock */

bool host_may_read(const khost::FakeCred &c, const HostOwner &o)
{
	if (c.label != o.label)
		return false;
	return c.cap_ptrace || (c.uid == o.uid && o.dumpable);
}

template <class F>
void for_owners_of(unsigned int tgid, F fn)
{
	StateGuard g;
	if (host_owners)
		for (HostOwner *o : *host_owners)
			if (o->tgid == tgid)
				fn(*o);
}

} /* namespace */

void khost_pin_hook(unsigned long vaddr, unsigned long n)
{
	std::function<void(unsigned long, unsigned long)> hook;
	{
		StateGuard g;
		if (pin_hook)
			hook = *pin_hook;
	}
	if (hook)
		hook(vaddr, n);
}

extern "C" kapi_owner *kapi_owner_get(void) noexcept
{
	auto *o = new HostOwner{ cur_tgid.load(), cur_euid.load(), cur_label.load() };
	StateGuard g;
	if (!host_owners)
		host_owners = new std::vector<HostOwner *>();
	host_owners->push_back(o);
	return reinterpret_cast<kapi_owner *>(o);
}

extern "C" void kapi_owner_put(kapi_owner *o) noexcept
{
	if (!o)
		return;
	auto *ho = reinterpret_cast<HostOwner *>(o);
	StateGuard g;
	for (size_t i = 0; host_owners && i < host_owners->size(); i++)
		if ((*host_owners)[i] == ho) {
			host_owners->erase(host_owners->begin() + static_cast<long>(i));
			delete ho;
			return;
		}
	die("kapi_owner_put of an owner that is not live");
}

extern "C" int kapi_viewer_may_see(const kapi_viewer *v, kapi_owner *o, int quiet) noexcept
{
	const auto *fv = reinterpret_cast<const khost::FakeViewer *>(v);
	n_viewer_checks++;
	if (quiet)
		n_viewer_quiet++;
	for (int cls = 0; cls < KAPI_LOCK_NR; cls++)
		if (held_per_class[cls])
			die("kapi_viewer_may_see with a registry or container lock held");
	if (fv->admin)
		return 1;
	if (!o || fv->no_opener)
		return 0;
	StateGuard g;
	const HostOwner &ho = *reinterpret_cast<HostOwner *>(o);
	if (fv->own_socket && fv->sender_tgid == ho.tgid)
		return 1;
	if (ho.exited)
		return 0;
	const bool sender = fv->sender_tgid == ho.tgid || host_may_read(fv->sender, ho);
	return sender && host_may_read(fv->opener, ho);
}

namespace khost {

FakeViewer viewer_of(unsigned int tgid, unsigned int uid, unsigned int label)
{
	FakeViewer v;
	v.opener.uid = v.sender.uid = uid;
	v.opener.label = v.sender.label = label;
	v.sender_tgid = tgid;
	v.own_socket = true;
	return v;
}

FakeViewer admin_viewer()
{
	FakeViewer v;
	v.admin = true;
	return v;
}

void set_current_label(unsigned int label) { cur_label = label; }

void process_set_uid(unsigned int tgid, unsigned int uid)
{
	for_owners_of(tgid, [uid](HostOwner &o) { o.uid = uid; });
}

void process_set_dumpable(unsigned int tgid, bool dumpable)
{
	for_owners_of(tgid, [dumpable](HostOwner &o) { o.dumpable = dumpable; });
}

void process_exit(unsigned int tgid)
{
	for_owners_of(tgid, [](HostOwner &o) { o.exited = true; });
}

long live_owners()
{
	StateGuard g;
	return host_owners ? static_cast<long>(host_owners->size()) : 0;
}

long viewer_checks() { return n_viewer_checks.load(); }
long viewer_quiet_checks() { return n_viewer_quiet.load(); }

void clear_viewer_checks()
{
	n_viewer_checks = 0;
	n_viewer_quiet = 0;
}

void set_pin_hook(std::function<void(unsigned long vaddr, unsigned long n)> hook)
{
	StateGuard g;
	delete pin_hook;
	pin_hook = hook ? new std::function<void(unsigned long, unsigned long)>(std::move(hook))
			: nullptr;
}

} /* namespace khost */

/*
 * ---- kapi: netlink messages and requests (helper "netlink": append-only section) ----
 *
 * kapi/netlink_services.h in userspace (kapi_host.h says what is modelled).
 */

#include "../../uapi/linux/vfio_cxx_netlink.h"

namespace {

constexpr size_t NL_PART_HDR = 16 + 4; /* NLMSG_HDRLEN + GENL_HDRLEN */
constexpr size_t NL_U32_SIZE = 8, NL_U64_SIZE = 12, NL_NEST_SIZE = 4;
constexpr int NL_EMSGSIZE = 90;

std::atomic<bool> nl_listeners{ true };
std::atomic<size_t> nl_reply_room{ 3776 }, nl_event_room{ 3760 };
std::atomic<int> nl_fail{ 0 };
std::atomic<long> nl_viewers{ 0 }, nl_tasks{ 0 }, nl_msgs{ 0 }, nl_built{ 0 };
std::vector<khost::NlPart> *nl_multicasts; /* under state_lock */

void no_core_lock_held(const char *what)
{
	for (int cls = 0; cls < KAPI_LOCK_NR; cls++)
		if (held_per_class[cls]) {
			fprintf(stderr, "%s with a registry or container lock held\n", what);
			die("a viewer decision under a core lock");
		}
}

bool nl_alloc_fails()
{
	int n = nl_fail.load();
	while (n > 0)
		if (nl_fail.compare_exchange_weak(n, n - 1))
			return true;
	return false;
}

khost::FakeMsg &fmsg(kapi_msg *m) { return *reinterpret_cast<khost::FakeMsg *>(m); }
khost::FakeReq &freq(const kapi_nl_req *r)
{
	return *reinterpret_cast<khost::FakeReq *>(const_cast<kapi_nl_req *>(r));
}
const khost::FakeViewer &fview(const kapi_viewer *v) { return *reinterpret_cast<const khost::FakeViewer *>(v); }

int nl_add(khost::FakeMsg &m, size_t size, khost::NlAttr a)
{
	if (!m.part_open)
		die("an attribute outside a part");
	if (m.len + size > m.room)
		return -NL_EMSGSIZE;
	m.len += size;
	m.parts.back().attrs.push_back(a);
	return 0;
}

kapi_msg *nl_new(size_t room, unsigned int portid, unsigned int seq)
{
	if (nl_alloc_fails())
		return nullptr;
	auto *m = new khost::FakeMsg();
	m->room = room;
	m->portid = portid;
	m->seq = seq;
	m->allocated = true;
	nl_msgs++;
	return m->msg();
}

void nl_delete(khost::FakeMsg &m)
{
	if (!m.allocated)
		die("kapi_msg_free/reply/multicast of a dump's message");
	if (m.part_open)
		die("a message sent or freed with a part open");
	nl_msgs--;
	delete &m;
}

} /* namespace */

/* ---- viewer facts ---- */

extern "C" int kapi_viewer_admin(const kapi_viewer *v) noexcept
{
	no_core_lock_held("kapi_viewer_admin");
	return fview(v).admin;
}

extern "C" int kapi_viewer_has_opener(const kapi_viewer *v) noexcept { return !fview(v).no_opener; }
extern "C" int kapi_viewer_opener_is_sender(const kapi_viewer *v) noexcept { return fview(v).own_socket; }

extern "C" int kapi_viewer_sender_is(const kapi_viewer *v, const kapi_owner *o) noexcept
{
	return o && fview(v).sender_tgid == reinterpret_cast<const HostOwner *>(o)->tgid;
}

extern "C" kapi_owner_task *kapi_owner_task_get(const kapi_owner *o) noexcept
{
	no_core_lock_held("kapi_owner_task_get");
	StateGuard g;
	if (reinterpret_cast<const HostOwner *>(o)->exited)
		return nullptr;
	nl_tasks++;
	return reinterpret_cast<kapi_owner_task *>(const_cast<kapi_owner *>(o));
}

extern "C" void kapi_owner_task_put(kapi_owner_task *t) noexcept
{
	if (!t || nl_tasks.fetch_sub(1) <= 0)
		die("kapi_owner_task_put without a task");
}

extern "C" int kapi_viewer_may_read(const kapi_viewer *v, int who, kapi_owner_task *t,
				    int quiet) noexcept
{
	no_core_lock_held("kapi_viewer_may_read");
	const khost::FakeViewer &fv = fview(v);
	n_viewer_checks++;
	if (quiet)
		n_viewer_quiet++;
	if (who == KAPI_VIEWER_OPENER && fv.no_opener)
		return 0;
	StateGuard g;
	return host_may_read(who == KAPI_VIEWER_OPENER ? fv.opener : fv.sender,
			     *reinterpret_cast<const HostOwner *>(t));
}

/* ---- requests ---- */

extern "C" int kapi_nl_req_container_id(const kapi_nl_req *r, kapi_u64 *id) noexcept
{
	khost::FakeReq &q = freq(r);
	if (!q.has_id) {
		if (q.doit)
			q.missing_attr = VFIO_CXX_A_CONTAINER_ID;
		else
			q.missing_msg = true;
		return -22; /* EINVAL */
	}
	*id = q.id;
	return 0;
}

extern "C" void *kapi_nl_dump_ctx(kapi_nl_req *r) noexcept
{
	if (freq(r).doit)
		die("kapi_nl_dump_ctx in a doit");
	return freq(r).ctx;
}

extern "C" const kapi_viewer *kapi_nl_req_viewer(kapi_nl_req *r) noexcept
{
	if (!freq(r).doit)
		die("kapi_nl_req_viewer in a dump: its viewer is the one held at start");
	return freq(r).viewer.viewer();
}

extern "C" kapi_viewer *kapi_nl_viewer_hold(kapi_nl_req *r) noexcept
{
	if (freq(r).doit)
		die("kapi_nl_viewer_hold in a doit");
	if (nl_alloc_fails())
		return nullptr;
	nl_viewers++;
	return reinterpret_cast<kapi_viewer *>(new khost::FakeViewer(freq(r).viewer));
}

extern "C" void kapi_viewer_release(kapi_viewer *v) noexcept
{
	if (!v)
		return;
	if (nl_viewers.fetch_sub(1) <= 0)
		die("kapi_viewer_release of a viewer not held");
	delete reinterpret_cast<khost::FakeViewer *>(v);
}

/* ---- messages ---- */

extern "C" int kapi_msg_begin(kapi_msg *m, unsigned int cmd) noexcept
{
	khost::FakeMsg &f = fmsg(m);
	if (f.part_open)
		die("kapi_msg_begin with a part open");
	if (f.len + NL_PART_HDR > f.room)
		return -NL_EMSGSIZE;
	f.part_start = f.len;
	f.len += NL_PART_HDR;
	khost::NlPart p;
	p.cmd = cmd;
	p.portid = f.portid;
	p.seq = f.seq;
	p.flags = f.flags;
	f.parts.push_back(p);
	f.part_open = true;
	return 0;
}

extern "C" void kapi_msg_end(kapi_msg *m) noexcept
{
	khost::FakeMsg &f = fmsg(m);
	if (!f.part_open || f.nest_open)
		die("kapi_msg_end without a part, or with a nest open");
	f.part_open = false;
}

extern "C" void kapi_msg_cancel(kapi_msg *m) noexcept
{
	khost::FakeMsg &f = fmsg(m);
	if (!f.part_open)
		die("kapi_msg_cancel without a part");
	f.parts.pop_back();
	f.len = f.part_start;
	f.part_open = f.nest_open = false;
}

extern "C" int kapi_msg_put_u32(kapi_msg *m, int attr, unsigned int v) noexcept
{
	return nl_add(fmsg(m), NL_U32_SIZE, { attr, khost::NL_U32, v });
}

extern "C" int kapi_msg_put_u64(kapi_msg *m, int attr, kapi_u64 v) noexcept
{
	return nl_add(fmsg(m), NL_U64_SIZE, { attr, khost::NL_U64, v });
}

extern "C" int kapi_msg_nest_start(kapi_msg *m, int attr) noexcept
{
	khost::FakeMsg &f = fmsg(m);
	if (f.nest_open)
		die("nested nests");
	int ret = nl_add(f, NL_NEST_SIZE, { attr, khost::NL_NEST, 0 });
	f.nest_open = !ret;
	return ret;
}

extern "C" void kapi_msg_nest_end(kapi_msg *m) noexcept
{
	khost::FakeMsg &f = fmsg(m);
	if (!f.nest_open)
		die("kapi_msg_nest_end without a nest");
	f.nest_open = false;
	f.parts.back().attrs.push_back({ 0, khost::NL_NEST_END, 0 });
}

extern "C" int kapi_msg_len(const kapi_msg *m) noexcept
{
	return static_cast<int>(reinterpret_cast<const khost::FakeMsg *>(m)->len);
}

extern "C" kapi_msg *kapi_msg_reply_new(kapi_nl_req *r) noexcept
{
	if (!freq(r).doit)
		die("a reply in a dump");
	return nl_new(nl_reply_room.load(), freq(r).portid, freq(r).seq);
}

extern "C" int kapi_msg_reply(kapi_nl_req *r, kapi_msg *m) noexcept
{
	khost::FakeMsg &f = fmsg(m);
	for (auto &p : f.parts)
		freq(r).replies.push_back(p);
	nl_delete(f);
	return 0;
}

extern "C" int kapi_nl_has_listeners(void) noexcept { return nl_listeners.load(); }

extern "C" kapi_msg *kapi_msg_event_new(void) noexcept
{
	kapi_msg *m = nl_new(nl_event_room.load(), 0, 0);
	if (m)
		nl_built++;
	return m;
}

extern "C" void kapi_msg_multicast(kapi_msg *m) noexcept
{
	khost::FakeMsg &f = fmsg(m);
	for (auto &p : f.parts) {
		{
			StateGuard g;
			if (!nl_multicasts)
				nl_multicasts = new std::vector<khost::NlPart>();
			nl_multicasts->push_back(p);
		}
		/* Decoded for events() (the recorder above): what a listener would read. */
		kapi_event ev{};
		kapi_event_type type;
		switch (p.cmd) {
		case VFIO_CXX_CMD_CONTAINER_CREATED: type = KAPI_EVENT_CONTAINER_CREATED; break;
		case VFIO_CXX_CMD_CONTAINER_RELEASED: type = KAPI_EVENT_CONTAINER_RELEASED; break;
		case VFIO_CXX_CMD_MEMLOCK_DENIED: type = KAPI_EVENT_MEMLOCK_DENIED; break;
		case VFIO_CXX_CMD_MM_EXITED: type = KAPI_EVENT_MM_EXITED; break;
		default: die("a multicast of a command that is no event");
		}
		ev.container_id = p.get(VFIO_CXX_A_CONTAINER_ID);
		ev.tgid = static_cast<unsigned int>(p.get(VFIO_CXX_A_OWNER_TGID));
		ev.uid = static_cast<unsigned int>(p.get(VFIO_CXX_A_OWNER_UID));
		ev.mm_id = p.get(VFIO_CXX_A_MM_ID);
		if (p.has(VFIO_CXX_A_EVENT_PAGES))
			ev.pages = p.get(VFIO_CXX_A_EVENT_PAGES);
		if (p.has(VFIO_CXX_A_LIMIT_PAGES))
			ev.limit_pages = p.get(VFIO_CXX_A_LIMIT_PAGES);
		if (p.has(VFIO_CXX_A_MAPPINGS))
			ev.mappings = p.get(VFIO_CXX_A_MAPPINGS);
		kapi_emit_event(type, &ev);
	}
	nl_delete(f);
}

extern "C" void kapi_msg_free(kapi_msg *m) noexcept { nl_delete(fmsg(m)); }

namespace khost {

std::vector<int> NlPart::types() const
{
	std::vector<int> r;
	bool in_nest = false;
	for (const NlAttr &a : attrs) {
		if (a.kind == NL_NEST_END) {
			in_nest = false;
			continue;
		}
		if (!in_nest)
			r.push_back(a.type);
		if (a.kind == NL_NEST)
			in_nest = true;
	}
	return r;
}

bool NlPart::has(int type) const
{
	for (int t : types())
		if (t == type)
			return true;
	return false;
}

unsigned long long NlPart::get(int type) const
{
	bool in_nest = false;
	for (const NlAttr &a : attrs) {
		if (a.kind == NL_NEST_END)
			in_nest = false;
		else if (!in_nest && a.type == type && a.kind != NL_NEST)
			return a.value;
		else if (a.kind == NL_NEST)
			in_nest = true;
	}
	fprintf(stderr, "attribute %d missing\n", type);
	die("NlPart::get of a missing attribute");
}

std::vector<unsigned long long> NlPart::nested(int type) const
{
	std::vector<unsigned long long> r;
	bool in = false;
	for (const NlAttr &a : attrs) {
		if (a.kind == NL_NEST)
			in = a.type == type;
		else if (a.kind == NL_NEST_END)
			in = false;
		else if (in)
			r.push_back(a.value);
	}
	return r;
}

FakeMsg FakeReq::dump_msg(size_t room) const
{
	FakeMsg m;
	m.room = room;
	m.portid = portid;
	m.seq = seq;
	m.flags = 2; /* NLM_F_MULTI */
	return m;
}

void nl_set_listeners(bool on) { nl_listeners = on; }

void nl_set_room(size_t reply_room, size_t event_room)
{
	nl_reply_room = reply_room;
	nl_event_room = event_room;
}

void nl_fail_allocs(int n) { nl_fail = n; }

std::vector<NlPart> multicasts()
{
	StateGuard g;
	return nl_multicasts ? *nl_multicasts : std::vector<NlPart>();
}

long nl_live_viewers() { return nl_viewers.load(); }
long nl_live_tasks() { return nl_tasks.load(); }
long nl_live_msgs() { return nl_msgs.load(); }
long nl_events_built() { return nl_built.load(); }

void nl_reset()
{
	nl_listeners = true;
	nl_set_room(3776, 3760);
	nl_fail = 0;
	nl_built = 0;
	StateGuard g;
	if (nl_multicasts)
		nl_multicasts->clear();
}

} /* namespace khost */
