// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded, seeded, model-checked random ioctl fuzzer of vfio_iommu_cxx.
 *
 * One VFIO_CXX_IOMMU container with QEMU's edu group (a real IOMMU domain);
 * halfway through, the test mdev's group joins it (a mixed container).
 * NTHREADS threads each own a zone of IOVA space and of user memory and run
 * random operations on it: MAP (read-only or read/write), UNMAP of random
 * ranges (v2 semantics: a range that bisects a mapping is refused), the
 * UPDATE_VADDR pair, preregistration and unregistration of random regions
 * (which later MAPs use), dirty tracking start/stop, bitmap queries and
 * unmaps that collect the bitmap, GET_INFO, mdev pins and unpins, and
 * malformed requests of every kind.  Each thread keeps a model of its zone
 * and checks every result against it: the exact errno, the unmapped size,
 * the pins the device holds.  Every CHECK_EVERY calls the threads meet and
 * one of them checks the whole state: VmLck equals what the models say is
 * charged (mapped pages not backed by a region + region pages), and the
 * module's counters (DMA mappings, prereg pages) and the device's pin count
 * equal the models' sums.  At the end everything is unmapped and closed,
 * and VmLck and every counter must be back at the baseline.
 *
 * Environment: VFIO_CXX_FUZZ_SEED (default 1), VFIO_CXX_FUZZ_CALLS (total,
 * default 200000), VFIO_CXX_FUZZ_SECONDS (time limit, default 420).  The
 * calls made are printed as "# metric fuzz_calls <n>".  A failure prints
 * the seed, thread and call number: the same seed replays the same
 * per-thread sequence (the interleaving differs, the zones do not touch).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "../../uapi/linux/vfio_cxx.h"

#pragma GCC diagnostic ignored "-Wclobbered"

#define NTHREADS	4
#define ZPAGES		64		/* pages per zone */
#define ZONE_IOVA(t)	(0x1000000ULL + (uint64_t)(t) * 0x1000000ULL)
#define BAD_IOVA	0x80000000ULL	/* never mapped by anyone */
#define CHECK_EVERY	2500		/* calls per thread between checks */
#define MAX_PINS	200		/* device pin entries per thread */

enum op {
	OP_MAP, OP_UNMAP, OP_UNMAP_DIRTY, OP_DIRTY, OP_VADDR, OP_REGISTER, OP_UNREGISTER,
	OP_PIN, OP_INFO, OP_BAD, OP_N
};
static const char *const op_name[OP_N] = {
	"map", "unmap", "unmap+bitmap", "dirty", "update_vaddr", "register", "unregister",
	"pin/unpin", "get_info", "malformed",
};

struct region {
	int start, n;			/* pages of the zone */
	int users;			/* mappings inside it */
};

struct zone {
	int t;
	uint64_t rng;
	unsigned char *mem;		/* ZPAGES pages, identity with the IOVAs */
	/* model: a mapping starts at page i with map_len[i] pages */
	int map_len[ZPAGES];
	int map_ro[ZPAGES];
	int map_region[ZPAGES];		/* index+1 of the backing region, or 0 */
	int pin[ZPAGES];		/* device pin entries per page */
	struct region reg[8];
	int nreg;
	long calls;
	long done[OP_N][2];		/* per operation: [0] succeeded, [1] refused */
	char fail[256];
};

static struct {
	int container, edu;
	struct mdev m;
	int mixed;			/* the mdev group is in the container */
	pthread_mutex_t dev_lock;	/* the device's registers */
	pthread_barrier_t bar;
	volatile int stop;
	int halt;			/* written between the barriers only */
	long long deadline;
	long calls_per_thread;
	long vmlck0, dmas0, prereg0;
	struct zone z[NTHREADS];
	char check_fail[256];
} F;

static uint64_t rnd(struct zone *z)
{
	z->rng ^= z->rng << 13;
	z->rng ^= z->rng >> 7;
	z->rng ^= z->rng << 17;
	return z->rng;
}

static int rn(struct zone *z, int n)
{
	return (int)(rnd(z) % (uint64_t)n);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

#define FAIL(z, ...) do {							\
	if (!(z)->fail[0])							\
		snprintf((z)->fail, sizeof((z)->fail), __VA_ARGS__);		\
	return -1;								\
} while (0)

#define EXPECT_RET(z, what, want, got) do {					\
	long long _w = (want), _g = (got);					\
	if (_w != _g)								\
		FAIL(z, "thread %d call %ld: %s: expected %lld (%s), got %lld (%s)", \
		     (z)->t, (z)->calls, what, _w, _w < 0 ? strerror((int)-_w) : "",	\
		     _g, _g < 0 ? strerror((int)-_g) : "");			\
} while (0)

static uint64_t iova_of(struct zone *z, int page)
{
	return ZONE_IOVA(z->t) + (uint64_t)page * PG;
}

/* The mapping covering page p: its first page, or -1. */
static int mapping_at(struct zone *z, int p)
{
	for (int s = p; s >= 0; s--)
		if (z->map_len[s])
			return s + z->map_len[s] > p ? s : -1;
	return -1;
}

static int region_covering(struct zone *z, int start, int n)
{
	for (int i = 0; i < z->nreg; i++)
		if (start >= z->reg[i].start && start + n <= z->reg[i].start + z->reg[i].n)
			return i;
	return -1;
}

/* A random range of 1..maxlen pages starting in the zone, cut at its end. */
static void pick_range(struct zone *z, int maxlen, int *s, int *n)
{
	*s = rn(z, ZPAGES);
	*n = 1 + rn(z, maxlen);
	if (*s + *n > ZPAGES)
		*n = ZPAGES - *s;
}

/* ---- operations: each returns 0, or -1 with z->fail set --------------- */

static int op_map(struct zone *z)
{
	int s, n, ro, overlap = 0;
	int r;

	pick_range(z, 8, &s, &n);
	ro = rn(z, 4) == 0;
	for (int p = s; p < s + n; p++)
		overlap |= mapping_at(z, p) >= 0;
	r = dma_map(F.container, z->mem + (size_t)s * PG, iova_of(z, s), (uint64_t)n * PG,
		    VFIO_DMA_MAP_FLAG_READ | (ro ? 0 : VFIO_DMA_MAP_FLAG_WRITE));
	EXPECT_RET(z, "MAP", overlap ? -EEXIST : 0, r);
	if (!r) {
		int reg = region_covering(z, s, n);

		z->map_len[s] = n;
		z->map_ro[s] = ro;
		z->map_region[s] = reg + 1;
		if (reg >= 0)
			z->reg[reg].users++;
	}
	return r != 0;
}

static void model_remove(struct zone *z, int s)
{
	if (z->map_region[s])
		z->reg[z->map_region[s] - 1].users--;
	for (int p = s; p < s + z->map_len[s]; p++)
		z->pin[p] = 0;	/* the device was told, and dropped its pins */
	z->map_len[s] = 0;
	z->map_region[s] = 0;
}

/* The model after an unmap of [s, s+n): the mappings in it are gone. */
static void model_remove_range(struct zone *z, int s, int n)
{
	for (int p = s; p < s + n; p++)
		if (z->map_len[p])
			model_remove(z, p);
}

/* What an unmap of [s, s+n) does: -EINVAL if it bisects, else the bytes. */
static long long unmap_predict(struct zone *z, int s, int n)
{
	int a = mapping_at(z, s), b = mapping_at(z, s + n - 1);
	long long bytes = 0;

	if ((a >= 0 && a != s) || (b >= 0 && b + z->map_len[b] != s + n))
		return -EINVAL;
	for (int p = s; p < s + n; p++)
		if (z->map_len[p])
			bytes += (long long)z->map_len[p] * PG;
	return bytes;
}

static int op_unmap(struct zone *z)
{
	int s, n;
	long long want, r;

	pick_range(z, 16, &s, &n);
	want = unmap_predict(z, s, n);
	r = dma_unmap(F.container, iova_of(z, s), (uint64_t)n * PG);
	EXPECT_RET(z, "UNMAP", want, r);
	if (r > 0)
		model_remove_range(z, s, n);
	return r <= 0;
}

static int op_unmap_dirty(struct zone *z)
{
	static __thread uint64_t bitmap[ZPAGES / 64 + 1];
	int s, n;
	long long want;
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} a;
	int r;

	pick_range(z, 16, &s, &n);
	want = unmap_predict(z, s, n);
	memset(&a, 0, sizeof(a));
	a.u.argsz = sizeof(a);
	a.u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	a.u.iova = iova_of(z, s);
	a.u.size = (uint64_t)n * PG;
	a.b.pgsize = PG;
	a.b.size = sizeof(bitmap);
	a.b.data = (__u64 *)bitmap;
	memset(bitmap, 0, sizeof(bitmap));
	r = ioctl(F.container, VFIO_IOMMU_UNMAP_DMA, &a) ? -errno : 0;
	/* Tracking is container-wide and other threads toggle it: EINVAL is
	 * also the answer when it is off, and then nothing changed. */
	if (r == -EINVAL)
		return 1;
	EXPECT_RET(z, "UNMAP+GET_DIRTY_BITMAP", want < 0 ? want : 0, r);
	EXPECT_RET(z, "UNMAP+GET_DIRTY_BITMAP size", want, (long long)a.u.size);
	/* With an IOMMU domain every page of an unmapped mapping is dirty. */
	for (int p = s; p < s + n; p++)
		if (mapping_at(z, p) >= 0 && !(bitmap[(p - s) / 64] & (1ULL << ((p - s) % 64))))
			FAIL(z, "thread %d call %ld: page %d of an unmapped mapping not dirty",
			     z->t, z->calls, p);
	model_remove_range(z, s, n);
	return want <= 0;
}

static int op_dirty(struct zone *z)
{
	static __thread uint64_t bitmap[ZPAGES / 64 + 1];
	struct {
		struct vfio_iommu_type1_dirty_bitmap d;
		struct vfio_iommu_type1_dirty_bitmap_get g;
	} a;
	int k = rn(z, 4), s, n, r;

	if (k == 0)
		EXPECT_RET(z, "DIRTY_PAGES START", 0, dirty_flags(F.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	else if (k == 1)
		EXPECT_RET(z, "DIRTY_PAGES STOP", 0, dirty_flags(F.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	else if (k == 2)
		EXPECT_RET(z, "DIRTY_PAGES START|STOP", -EINVAL,
			   dirty_flags(F.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	if (k != 3)
		return k == 2;
	pick_range(z, 16, &s, &n);
	memset(&a, 0, sizeof(a));
	a.d.argsz = sizeof(a);
	a.d.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	a.g.iova = iova_of(z, s);
	a.g.size = (uint64_t)n * PG;
	a.g.bitmap.pgsize = PG;
	a.g.bitmap.size = sizeof(bitmap);
	a.g.bitmap.data = (__u64 *)bitmap;
	r = ioctl(F.container, VFIO_IOMMU_DIRTY_PAGES, &a) ? -errno : 0;
	if (r == -EINVAL)	/* tracking off (another thread), or bisected */
		return 1;
	EXPECT_RET(z, "DIRTY_PAGES GET_BITMAP", unmap_predict(z, s, n) < 0 ? -EINVAL : 0, r);
	return 0;
}

static int op_update_vaddr(struct zone *z)
{
	int s = rn(z, ZPAGES), m = -1;
	long long r;

	for (int p = s; p < ZPAGES && m < 0; p++)
		if (z->map_len[p] && !z->map_region[p])
			m = p;
	if (m < 0)
		return 1;
	{
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .flags = VFIO_DMA_UNMAP_FLAG_VADDR,
			.iova = iova_of(z, m), .size = (uint64_t)z->map_len[m] * PG,
		};

		r = ioctl(F.container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : (long long)u.size;
	}
	/* With an emulated (mdev) group, vaddrs cannot change (as type1). */
	EXPECT_RET(z, "UNMAP VADDR", F.mixed ? -EBUSY : (long long)(z->map_len[m] * PG), r);
	if (r < 0)
		return 1;
	r = dma_map(F.container, z->mem + (size_t)m * PG, iova_of(z, m),
		    (uint64_t)z->map_len[m] * PG, VFIO_DMA_MAP_FLAG_VADDR);
	EXPECT_RET(z, "MAP VADDR (restore)", 0, r);
	return 0;
}

static int op_register(struct zone *z)
{
	int s, n, want = 0, r, i;

	if (z->nreg && rn(z, 3) == 0) {	/* the same region again */
		i = rn(z, z->nreg);
		s = z->reg[i].start;
		n = z->reg[i].n;
	} else {
		pick_range(z, 16, &s, &n);
	}
	for (i = 0; i < z->nreg; i++) {
		if (z->reg[i].start == s && z->reg[i].n == n) {
			want = -EBUSY;
			break;
		}
		if (s < z->reg[i].start + z->reg[i].n && z->reg[i].start < s + n)
			want = -EINVAL;
	}
	if (!want && z->nreg == 8)
		return 1;
	r = prereg_ioctl(F.container, VFIO_CXX_REGISTER_MEMORY, z->mem + (size_t)s * PG, (uint64_t)n * PG, 0);
	EXPECT_RET(z, "REGISTER_MEMORY", want, r);
	if (!r)
		z->reg[z->nreg++] = (struct region){ .start = s, .n = n };
	return r != 0;
}

static int op_unregister(struct zone *z)
{
	int s, n, want = -ENOENT, r, i, hit = -1;

	if (z->nreg && rn(z, 4)) {
		i = rn(z, z->nreg);
		s = z->reg[i].start;
		n = z->reg[i].n;
	} else {
		pick_range(z, 8, &s, &n);
	}
	for (i = 0; i < z->nreg; i++)
		if (z->reg[i].start == s && z->reg[i].n == n) {
			hit = i;
			want = z->reg[i].users ? -EBUSY : 0;
		}
	r = prereg_ioctl(F.container, VFIO_CXX_UNREGISTER_MEMORY, z->mem + (size_t)s * PG, (uint64_t)n * PG, 0);
	EXPECT_RET(z, "UNREGISTER_MEMORY", want, r);
	if (!r) {
		/* Mappings remember their region by index: renumber. */
		for (int p = 0; p < ZPAGES; p++) {
			if (z->map_region[p] == hit + 1)
				FAIL(z, "thread %d: a used region was unregistered", z->t);
			if (z->map_region[p] == z->nreg)
				z->map_region[p] = hit + 1;
		}
		z->reg[hit] = z->reg[--z->nreg];
	}
	return r != 0;
}

static int pins_of(struct zone *z)
{
	int n = 0;

	for (int p = 0; p < ZPAGES; p++)
		n += z->pin[p];
	return n;
}

/* PIN (or, one time in three and when the table is full, UNPIN) n pages. */
static int op_pin(struct zone *z)
{
	int s = rn(z, ZPAGES), n = 1 + rn(z, 8), write = rn(z, 2), ok = 1;
	long long r;

	if (!F.mixed)
		return 1;
	if (rn(z, 2)) {	/* half the time, inside a mapping that exists */
		for (int p = (s + 1) % ZPAGES; p != s; p = (p + 1) % ZPAGES)
			if (z->map_len[p]) {
				s = p + rn(z, z->map_len[p]);
				break;
			}
	}
	if (s + n > ZPAGES)
		n = ZPAGES - s;
	if (pins_of(z) + n > MAX_PINS || rn(z, 3) == 0) {
		pthread_mutex_lock(&F.dev_lock);
		r = run_cmd(&F.m, MTEST_CMD_UNPIN, iova_of(z, s), n, 0, 0);
		pthread_mutex_unlock(&F.dev_lock);
		{
			long long dropped = 0;

			for (int p = s; p < s + n; p++)
				if (z->pin[p]) {
					z->pin[p]--;
					dropped++;
				}
			EXPECT_RET(z, "mdev UNPIN", dropped, r);
		}
		return r == 0;
	}
	for (int p = s; p < s + n; p++) {
		int m = mapping_at(z, p);

		if (m < 0 || (write && z->map_ro[m]))
			ok = 0;
	}
	pthread_mutex_lock(&F.dev_lock);
	r = run_cmd(&F.m, MTEST_CMD_PIN, iova_of(z, s), n,
		    MTEST_PROT_READ | (write ? MTEST_PROT_WRITE : 0), 0);
	pthread_mutex_unlock(&F.dev_lock);
	if (ok) {
		EXPECT_RET(z, "mdev PIN", n, r);
		for (int p = s; p < s + n; p++)
			z->pin[p]++;
	} else if (r != -EINVAL && r != -EPERM) {
		FAIL(z, "thread %d call %ld: mdev PIN outside/read-only: got %lld", z->t, z->calls, r);
	}
	return !ok;
}

static int op_info(struct zone *z)
{
	unsigned char buf[1024];
	struct vfio_iommu_type1_info *i = (void *)buf;
	int r;

	memset(buf, 0, sizeof(buf));
	i->argsz = sizeof(buf);
	r = ioctl(F.container, VFIO_IOMMU_GET_INFO, i) ? -errno : 0;
	EXPECT_RET(z, "GET_INFO", 0, r);
	if (!(i->flags & VFIO_IOMMU_INFO_PGSIZES) || !(i->iova_pgsizes & PG))
		FAIL(z, "thread %d: GET_INFO page sizes %llx", z->t, (unsigned long long)i->iova_pgsizes);
	i->argsz = 8;	/* below its minimum */
	EXPECT_RET(z, "GET_INFO short argsz", -EINVAL,
		   ioctl(F.container, VFIO_IOMMU_GET_INFO, i) ? -errno : 0);
	return 0;
}

/* Malformed requests: each has one exact answer and changes nothing. */
static int op_bad(struct zone *z)
{
	uint64_t iova = BAD_IOVA + (uint64_t)z->t * 0x100000;
	void *v = z->mem;
	int k = rn(z, 12), r = 0, want = -EINVAL;

	switch (k) {
	case 0: r = dma_map(F.container, v, iova, 0, VFIO_DMA_MAP_FLAG_READ); break;
	case 1: r = dma_map(F.container, v, iova + 1, PG, VFIO_DMA_MAP_FLAG_READ); break;
	case 2: r = dma_map(F.container, (char *)v + 8, iova, PG, VFIO_DMA_MAP_FLAG_READ); break;
	case 3: r = dma_map(F.container, v, ~0ULL - PG + 1, 2 * PG, VFIO_DMA_MAP_FLAG_READ); break;
	case 4: r = dma_map(F.container, v, iova, PG, 0); break;
	case 5: r = dma_map(F.container, v, iova, PG, VFIO_DMA_MAP_FLAG_READ | (1u << (3 + rn(z, 29)))); break;
	case 6: r = dma_map(F.container, (void *)(uintptr_t)PG, iova, PG, VFIO_DMA_MAP_FLAG_READ);
		want = -EFAULT;	/* nothing is mapped at the second page of memory */
		break;
	case 7: {
		long long u = dma_unmap(F.container, iova + 1, PG);

		r = u < 0 ? (int)u : 0;
		break;
	}
	case 8: {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .flags = VFIO_DMA_UNMAP_FLAG_ALL, .iova = iova, .size = PG,
		};

		r = ioctl(F.container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
		break;
	}
	case 9:
		r = prereg_ioctl(F.container, VFIO_CXX_REGISTER_MEMORY, (char *)v + 1, PG, 0);
		break;
	case 10:
		/*
		 * Flags 1, 2, 4 alone would be VFIO_IOMMU_DIRTY_PAGES requests
		 * (the ioctl number is shared: uapi/linux/vfio_cxx.h).
		 */
		r = prereg_ioctl(F.container, VFIO_CXX_REGISTER_MEMORY, v, PG, 1u << (3 + rn(z, 29)));
		break;
	case 11:
		r = ioctl(F.container, _IO(VFIO_TYPE, VFIO_BASE + 30 + rn(z, 40))) ? -errno : 0;
		want = -ENOTTY;
		break;
	}
	{
		char what[48];

		snprintf(what, sizeof(what), "malformed request %d", k);
		EXPECT_RET(z, what, want, r);
	}
	return 1;
}

/* Each op returns -1 on a model mismatch, else 0 (done) or 1 (refused). */
static int dispatch(struct zone *z, enum op op)
{
	switch (op) {
	case OP_MAP: return op_map(z);
	case OP_UNMAP: return op_unmap(z);
	case OP_UNMAP_DIRTY: return op_unmap_dirty(z);
	case OP_DIRTY: return op_dirty(z);
	case OP_VADDR: return op_update_vaddr(z);
	case OP_REGISTER: return op_register(z);
	case OP_UNREGISTER: return op_unregister(z);
	case OP_PIN: return op_pin(z);
	case OP_INFO: return op_info(z);
	default: return op_bad(z);
	}
}

static int one_call(struct zone *z)
{
	static const unsigned char cut[OP_N] = { 24, 42, 47, 53, 58, 64, 70, 85, 88, 100 };
	int k = rn(z, 100), r;
	enum op op = OP_MAP;

	while (k >= cut[op])
		op++;
	r = dispatch(z, op);
	if (r < 0)
		return r;
	z->done[op][r ? 1 : 0]++;
	return 0;
}

/* ---- whole-state checks -------------------------------------------------- */

static long model_locked(void)
{
	long pages = 0;

	for (int t = 0; t < NTHREADS; t++) {
		struct zone *z = &F.z[t];

		for (int p = 0; p < ZPAGES; p++)
			if (z->map_len[p] && !z->map_region[p])
				pages += z->map_len[p];
		for (int i = 0; i < z->nreg; i++)
			pages += z->reg[i].n;
	}
	return pages;
}

static void check_state(const char *when)
{
	long dmas = 0, prereg = 0, pins = 0, locked = model_locked(), v = -1;
	long long pinned = 0;

	for (int t = 0; t < NTHREADS; t++) {
		for (int p = 0; p < ZPAGES; p++)
			dmas += F.z[t].map_len[p] != 0;
		for (int i = 0; i < F.z[t].nreg; i++)
			prereg += F.z[t].reg[i].n;
		pins += pins_of(&F.z[t]);
	}
	/* Deferred locked_vm updates (a contended mmap lock) land from a
	 * workqueue: give them a moment. */
	for (int tries = 0; tries < 300; tries++) {
		v = vmlck_kb();
		if (v == F.vmlck0 + KB(locked))
			break;
		usleep(10000);
	}
	if (v != F.vmlck0 + KB(locked))
		snprintf(F.check_fail, sizeof(F.check_fail), "%s: VmLck %ld kB, model %ld kB",
			 when, v, F.vmlck0 + KB(locked));
	else if (stat_get("dmas_live") != F.dmas0 + dmas)
		snprintf(F.check_fail, sizeof(F.check_fail), "%s: dmas_live %ld, model %ld",
			 when, stat_get("dmas_live"), F.dmas0 + dmas);
	else if (stat_get("prereg_pages") != F.prereg0 + prereg)
		snprintf(F.check_fail, sizeof(F.check_fail), "%s: prereg_pages %ld, model %ld",
			 when, stat_get("prereg_pages"), F.prereg0 + prereg);
	else if (F.m.dev >= 0 && (pinned = (long long)reg_r(&F.m, MTEST_REG_PINNED)) != pins)
		snprintf(F.check_fail, sizeof(F.check_fail), "%s: device holds %lld pins, model %ld",
			 when, pinned, pins);
}

static void *worker(void *arg)
{
	struct zone *z = arg;

	while (z->calls < F.calls_per_thread) {
		for (int i = 0; i < CHECK_EVERY && z->calls < F.calls_per_thread; i++) {
			z->calls++;
			if (F.stop || one_call(z)) {
				F.stop = 1;
				break;
			}
		}
		if (now_ms() > F.deadline)
			F.stop = 1;
		/*
		 * Meet; one thread checks everything and decides, for all,
		 * whether to go on.  F.halt changes only between the two
		 * barriers, so every thread reads the same decision.
		 */
		if (pthread_barrier_wait(&F.bar) == PTHREAD_BARRIER_SERIAL_THREAD) {
			if (!F.check_fail[0] && !F.stop)
				check_state("checkpoint");
			F.halt = F.stop || F.check_fail[0];
		}
		pthread_barrier_wait(&F.bar);
		if (F.halt)
			break;
	}
	return NULL;
}

static long run_phase(struct __test_metadata *_metadata, long calls_per_thread)
{
	pthread_t th[NTHREADS];
	long calls = 0;

	F.calls_per_thread = calls_per_thread;
	for (int t = 0; t < NTHREADS; t++)
		F.z[t].calls = 0;
	pthread_barrier_init(&F.bar, NULL, NTHREADS);
	for (int t = 0; t < NTHREADS; t++)
		EXPECT_EQ(0, pthread_create(&th[t], NULL, worker, &F.z[t]));
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&F.bar);
	for (int t = 0; t < NTHREADS; t++) {
		calls += F.z[t].calls;
		EXPECT_STREQ("", F.z[t].fail);
	}
	EXPECT_STREQ("", F.check_fail);
	return calls;
}

/* The harness's fixture form, for the timeout: the calls take a while under KASAN. */
FIXTURE(fz) {
	int unused;
};
FIXTURE_SETUP(fz) {}
FIXTURE_TEARDOWN(fz) {}

TEST_F_TIMEOUT(fz, fuzz_model_checked, 600)
{
	const char *e;
	unsigned long seed = (e = getenv("VFIO_CXX_FUZZ_SEED")) ? strtoul(e, NULL, 0) : 1;
	long total = (e = getenv("VFIO_CXX_FUZZ_CALLS")) ? atol(e) : 200000;
	long seconds = (e = getenv("VFIO_CXX_FUZZ_SECONDS")) ? atol(e) : 420;
	long calls = 0, t0 = (long)now_ms();
	char path[64];

	if (!module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	if (access(MTEST_CREATE, W_OK))
		SKIP(return, "vfio_cxx_mtest is not loaded");
	memset(&F, 0, sizeof(F));
	pthread_mutex_init(&F.dev_lock, NULL);
	F.m.dev = F.m.group = -1;
	F.deadline = now_ms() + seconds * 1000;
	F.vmlck0 = vmlck_kb();
	F.dmas0 = stat_get("dmas_live");
	F.prereg0 = stat_get("prereg_pages");
	ASSERT_LE(0, F.dmas0);

	F.container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, F.container);
	snprintf(path, sizeof(path), "/dev/vfio/%d", edu_group_number());
	F.edu = open(path, O_RDWR);
	ASSERT_LE(0, F.edu);
	ASSERT_EQ(0, set_container(F.edu, F.container));
	ASSERT_EQ(0, ioctl(F.container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	ASSERT_EQ(0, mdev_create(&F.m));
	for (int t = 0; t < NTHREADS; t++) {
		F.z[t].t = t;
		F.z[t].rng = (seed + 1) * 0x9e3779b97f4a7c15ULL + (uint64_t)t * 0xbf58476d1ce4e5b9ULL;
		F.z[t].mem = anon(ZPAGES * PG);
		ASSERT_NE(MAP_FAILED, F.z[t].mem);
	}

	/* Phase 1: edu only (UPDATE_VADDR allowed, no device pins). */
	calls += run_phase(_metadata, total / 2 / NTHREADS);
	/* Phase 2: the mdev group joins the container with the mappings live. */
	if (!F.check_fail[0] && !F.stop) {
		ASSERT_EQ(0, set_container(F.m.group, F.container));
		ASSERT_EQ(0, mdev_open_dev(&F.m));
		F.mixed = 1;
		check_state("after the mdev group joined");
		ASSERT_STREQ("", F.check_fail);
		calls += run_phase(_metadata, (total - calls + NTHREADS - 1) / NTHREADS);
	}
	printf("# metric fuzz_calls %ld\n", calls);
	for (int op = 0; op < OP_N; op++) {
		long d = 0, f = 0;

		for (int t = 0; t < NTHREADS; t++) {
			d += F.z[t].done[op][0];
			f += F.z[t].done[op][1];
		}
		printf("# fuzz: %-13s %7ld done, %7ld refused as the model predicted\n",
		       op_name[op], d, f);
	}
	printf("# fuzz: seed %lu, %d threads, %ld calls in %ld ms\n", seed, NTHREADS, calls,
	       (long)now_ms() - t0);
	fflush(stdout);

	/* Unmap everything (the device drops its pins), unregister, close. */
	{
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .flags = VFIO_DMA_UNMAP_FLAG_ALL,
		};

		EXPECT_EQ(0, dirty_flags(F.container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
		EXPECT_EQ(0, ioctl(F.container, VFIO_IOMMU_UNMAP_DMA, &u));
	}
	if (F.m.dev >= 0)
		EXPECT_EQ(0, (long long)reg_r(&F.m, MTEST_REG_PINNED));
	for (int t = 0; t < NTHREADS; t++) {
		for (int i = 0; i < F.z[t].nreg; i++)
			EXPECT_EQ(0, prereg_ioctl(F.container, VFIO_CXX_UNREGISTER_MEMORY,
						  F.z[t].mem + (size_t)F.z[t].reg[i].start * PG,
						  (uint64_t)F.z[t].reg[i].n * PG, 0));
		memset(F.z[t].map_len, 0, sizeof(F.z[t].map_len));
		memset(F.z[t].pin, 0, sizeof(F.z[t].pin));
		F.z[t].nreg = 0;
	}
	F.check_fail[0] = 0;
	check_state("after unmap-all and unregister");
	EXPECT_STREQ("", F.check_fail);
	mdev_destroy(&F.m);
	close(F.edu);
	close(F.container);
	EXPECT_EQ(F.dmas0, stat_get("dmas_live"));
	EXPECT_EQ(0, stat_get("pages_pinned"));
	EXPECT_EQ(0, stat_get("external_pages"));
	EXPECT_EQ(F.vmlck0, vmlck_kb());
	/* The bound: the lane asks for at least this many calls. */
	EXPECT_GE(calls, total) TH_LOG("time limit (%ld s) reached after %ld calls", seconds, calls);
}

TEST_HARNESS_MAIN
