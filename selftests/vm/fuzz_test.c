// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded, seeded, model-checked random ioctl fuzzer of vfio_iommu_cxx
 * (the Type1v2 API below, the sPAPR TCE v2 API in spapr_model_checked).
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
#include <stdarg.h>
#include <sys/prctl.h>
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
	int map_va[ZPAGES];		/* its vaddr, in pages of mem (S1 moves it) */
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

/* The region of reg[0..nreg) that holds pages [start, start + n): its index, or -1. */
static int region_covering(const struct region *reg, int nreg, int start, int n)
{
	for (int i = 0; i < nreg; i++)
		if (start >= reg[i].start && start + n <= reg[i].start + reg[i].n)
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
		int reg = region_covering(z->reg, z->nreg, s, n);

		z->map_len[s] = n;
		z->map_ro[s] = ro;
		z->map_region[s] = reg + 1;
		z->map_va[s] = s;
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

/*
 * The UPDATE_VADDR pair on one mapping: UNMAP VADDR, then MAP VADDR.  A
 * mapping without a region gets its vaddr back.  A prereg-backed one (S1,
 * from the region's mm, which is ours) goes to the same vaddr, or into
 * another region of the zone (it moves there), or outside every region:
 * EINVAL, nothing changes, and then back to its vaddr.
 */
static int op_update_vaddr(struct zone *z)
{
	int s = rn(z, ZPAGES), m = -1, k = rn(z, 3), pick = rn(z, 8), at = rn(z, ZPAGES);
	long long r;

	for (int p = s; p < ZPAGES && m < 0; p++)
		if (z->map_len[p])
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
	if (z->map_region[m] && k) {
		int n = z->map_len[m], to = -1, want;

		if (k == 1) {	/* into a region that can take it */
			for (int i = 0; i < z->nreg && to < 0; i++) {
				struct region *g = &z->reg[(pick + i) % z->nreg];

				if (g->n >= n)
					to = g->start + at % (g->n - n + 1);
			}
		} else if (at + n <= ZPAGES && region_covering(z->reg, z->nreg, at, n) < 0) {
			to = at;	/* outside every region */
		}
		if (to >= 0) {
			int reg = region_covering(z->reg, z->nreg, to, n);

			want = reg < 0 ? -EINVAL : 0;
			r = dma_map(F.container, z->mem + (size_t)to * PG, iova_of(z, m),
				    (uint64_t)n * PG, VFIO_DMA_MAP_FLAG_VADDR);
			EXPECT_RET(z, "MAP VADDR of a prereg-backed mapping (S1)", want, r);
			if (!r) {
				z->reg[z->map_region[m] - 1].users--;
				z->reg[reg].users++;
				z->map_region[m] = reg + 1;
				z->map_va[m] = to;
				return 0;
			}
		}
	}
	r = dma_map(F.container, z->mem + (size_t)z->map_va[m] * PG, iova_of(z, m),
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
	case 3: r = dma_map(F.container, v, ~0ULL - PG + 1, 2 * PG, VFIO_DMA_MAP_FLAG_READ);
		want = type1_wrap_errno();	/* the IOVA wraps: -EOVERFLOW on 7.x */
		break;
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
	F.edu = edu_group_open();
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

/* ==== the multi-process fuzzer (issue 11) ================================= */

/*
 * One coordinator (the test process) keeps the model and decides, from the
 * seed, every step; worker processes (fuzz_mp.h) run the ioctls on their
 * own copies of the container fds and answer with the result.  Two
 * containers per round: container 0 with the edu group (an IOMMU domain;
 * VFIO_CXX_IOMMU, so preregistration too), container 1 with the test
 * mdev's group (no domain: the device pins, on the coordinator's command,
 * in the mapping owner's mm).  Zones 0-3 are container 0's, 4-5 container
 * 1's; zone z's memory is at MP_ZVA(z) in every worker, its IOVAs at
 * MP_IOVA(z).  Each step is one of: MAP, UNMAP (also unmap-all), UNMAP
 * VADDR (also all), MAP VADDR (restore in the same mm, or adopt from any
 * other mm sharing the fd: the charge moves, S3; prereg-backed ones only
 * from the region's mm and into a region, S1), REGISTER/UNREGISTER_MEMORY,
 * device PIN/UNPIN, and the process steps: fork a worker (the child
 * inherits its fds), spawn a fresh one (fork+exec of this binary, fds only
 * through SCM_RIGHTS), pass a container fd over SCM_RIGHTS, close one, exec
 * (a new mm on the same fds), exit, SIGKILL.  Up to MP_INFLIGHT commands
 * run at once (different workers, different zones; (un)registrations one
 * at a time); exec, exit and kill wait for the others first.  The model
 * changes when a command is sent, and each answer must be the one the
 * model predicted: the exact errno or size.
 *
 * At the exit (or exec) of an mm, with VFIO_CXX_EXIT_RELEASE (S2): its
 * mappings that are not vaddr-invalid go, and so do the mappings backed
 * by its regions and the regions themselves (the device drops its pins of
 * what goes); its vaddr-invalid ones stay for an adopter.  With KEEP (and
 * in the type1 variant, where vfio_iommu_type1 serves both containers)
 * everything stays, orphaned, until unmapped or closed.
 *
 * Every CHECK_EVERY steps, at the end of each round, and after the round's
 * workers are gone, the coordinator waits for every answer and compares:
 * VmLck of every live worker (/proc/<pid>/status) with what the model
 * charges to its mm; the module's counters (dmas_live, pages_pinned,
 * prereg_pages, external_pages, containers_live; mm_exits within what the
 * exits can have caused); the device's pins; and, through the vfio_cxx
 * netlink family, each container, its mappings (iova, size, vaddr, prot,
 * vaddr-invalid, pins, locked pages, and the owner mm: one netlink mm id
 * per model mm) and its regions (users, owner).  A dumper process runs
 * GET_STATS, the GET_CONTAINER dump and GET_MAPPINGS/GET_PREREGS of the
 * fuzzer's containers in a loop meanwhile.  After each round every worker
 * exits and every fd closes: the counters and VmLck must be back at the
 * baseline.  In the type1 variant the module's counters must not move.
 *
 * Environment: VFIO_CXX_FUZZ_SEED (shared with the single-process fuzzer),
 * VFIO_CXX_FUZZ_MP_STEPS (per variant, default 1500), _ROUNDS (default 3),
 * _SECONDS (time limit per variant, default 120; reaching it ends the run
 * early, as a pass, and says so).  lane-vm runs the defaults (seconds per
 * variant); the debug lane 4000 steps in 5 rounds (debug-guest-run.sh).
 */
#include "fuzz_mp.h"

#define MP_MAXW		6	/* live workers at most */
#define MP_MAXMM	8192	/* mms in one variant */
#define MP_MAXREG	6	/* regions per zone */
#define MP_INFLIGHT	3	/* commands in flight at once */
#define MP_IOVA(z)	(0x10000000ULL + (uint64_t)(z) * 0x1000000ULL)
#define MP_IOVA_END	MP_IOVA(MP_NZONES)
#define MP_WAIT_MS	120000	/* one answer, under TCG and KASAN */
#define MP_MAX_PINS	48	/* device pin entries per zone */
#define MP_CHECK_EVERY	150	/* steps between checkpoints */

enum { MPV_KEEP, MPV_RELEASE, MPV_TYPE1, MPV_CXX };

enum mp_op {
	MPO_MAP, MPO_UNMAP, MPO_INVALIDATE, MPO_SETVADDR, MPO_S1, MPO_REG, MPO_UNREG, MPO_PIN,
	MPO_FORK, MPO_SPAWN, MPO_PASS, MPO_CLOSE, MPO_EXEC, MPO_EXIT, MPO_KILL, MPO_N
};
static const char *const mp_op_name[MPO_N] = {
	"map", "unmap", "unmap vaddr", "map vaddr", "S1 sequence", "register", "unregister", "pin/unpin",
	"fork", "spawn", "scm_rights", "close fd", "exec", "exit", "sigkill",
};
/* Cumulative weights out of 100. */
static const unsigned char mp_cut[MPO_N] = { 18, 30, 42, 55, 58, 64, 69, 78, 82, 85, 89, 92, 95, 98, 100 };

struct mp_map { int len, ro, owner, va, inv, region; };	/* at its first page */

struct mp_zone {
	int c;
	struct mp_map m[MP_ZPAGES];
	int pin[MP_ZPAGES];		/* device pin entries per page */
	struct region reg[MP_MAXREG];
	int nreg;
	int busy;			/* worker index + 1 of a command in flight */
};

struct mp_mm {
	int alive;
	uint64_t nlid;			/* its netlink mm id once seen, 0 if not known */
	int used[MP_NC];		/* mapped, registered or adopted there: watched under RELEASE */
};

struct mp_worker {
	int alive, busy, zone, prereg;
	pid_t pid;
	int sock, mm;
	int holds[MP_NC];
	struct mp_msg sent;
	long long want;
	char what[200];
};

static struct {
	int variant, cxx, ours, nc, nzones, policy;
	int fd[MP_NC], group;
	uint64_t nlid[MP_NC], last_id;
	struct mdev m;
	struct mp_zone z[MP_NZONES];
	struct mp_mm *mm;
	int nmm;
	struct mp_worker w[MP_MAXW];
	int inflight, prereg_owner, prereg_busy;
	uint64_t rng;
	long round, step;
	struct mp_nl nl;
	/* figures */
	long procs, forks, spawns, passes, closes, execs, exits, kills, moves, restores;
	long ioctls, pins, checks, nldumps;
	long s1_moves, s1_eperm, s1_einval, adopt_dead, released, kept, regions_released;
	long kills_mid, kill_done, kill_undone;
	int killmid, kill_delay;	/* this step's command gets a SIGKILL after kill_delay us */
	int probe;			/* checking a candidate state: a mismatch is no failure */
	long done[MPO_N][2];
	long watch_exits;		/* mm_exits the exits must have caused */
	long vmlck0, dmas0, pinned0, prereg0, ext0, live0, mmexits0;
	char fail[700];
	char last[8][220];
	int nlast;
} M;

#define MPF(...) do {								\
	if (!M.fail[0] && !M.probe)						\
		snprintf(M.fail, sizeof(M.fail), __VA_ARGS__);			\
	return -1;								\
} while (0)

static uint64_t mp_rnd(void)
{
	M.rng ^= M.rng << 13;
	M.rng ^= M.rng >> 7;
	M.rng ^= M.rng << 17;
	return M.rng;
}

static int mp_rn(int n)
{
	return (int)(mp_rnd() % (uint64_t)n);
}

/* The last few operations, printed with a failure. */
static void __attribute__((format(printf, 1, 2))) mp_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(M.last[M.nlast++ % 8], sizeof(M.last[0]), fmt, ap);
	va_end(ap);
}

static int mp_mapping_at(struct mp_zone *z, int p)
{
	for (int s = p; s >= 0; s--)
		if (z->m[s].len)
			return s + z->m[s].len > p ? s : -1;
	return -1;
}

/* The first mapping from page from on (wrapping) with inv as given, prereg-backed if backed; -1. */
static int mp_find(struct mp_zone *z, int from, int inv, int backed)
{
	for (int k = 0; k < MP_ZPAGES; k++) {
		int p = (from + k) % MP_ZPAGES;

		if (z->m[p].len && z->m[p].inv == inv && (!backed || z->m[p].region))
			return p;
	}
	return -1;
}

static void mp_pick_range(int maxlen, int *s, int *n)
{
	*s = mp_rn(MP_ZPAGES);
	*n = 1 + mp_rn(maxlen);
	if (*s + *n > MP_ZPAGES)
		*n = MP_ZPAGES - *s;
}

static int mp_pinned_pages(struct mp_zone *z, int s)
{
	int n = 0;

	for (int p = s; p < s + z->m[s].len; p++)
		n += z->pin[p] > 0;
	return n;
}

/* What a mapping charges to its owner's locked_vm. */
static long mp_locked(struct mp_zone *z, int s)
{
	if (z->c == 1)
		return mp_pinned_pages(z, s);	/* no domain: the device's pins */
	return z->m[s].region ? 0 : z->m[s].len;
}

static long mp_regions_pages(void)
{
	long n = 0;

	for (int z = 0; z < MP_NZONES; z++)
		for (int i = 0; i < M.z[z].nreg; i++)
			n += M.z[z].reg[i].n;
	return n;
}

/* Pages charged to the locked_vm of mm. */
static long mp_charge(int mm)
{
	long pages = 0;

	for (int z = 0; z < M.nzones; z++)
		for (int s = 0; s < MP_ZPAGES; s++)
			if (M.z[z].m[s].len && M.z[z].m[s].owner == mm)
				pages += mp_locked(&M.z[z], s);
	if (mm == M.prereg_owner)
		pages += mp_regions_pages();
	return pages;
}

static void mp_remove(struct mp_zone *z, int s)
{
	if (z->m[s].region)
		z->reg[z->m[s].region - 1].users--;
	for (int p = s; p < s + z->m[s].len; p++)
		z->pin[p] = 0;	/* the device was told, and dropped its pins */
	memset(&z->m[s], 0, sizeof(z->m[s]));
}

static void mp_remove_range(struct mp_zone *z, int s, int n)
{
	for (int p = s; p < s + n; p++)
		if (z->m[p].len)
			mp_remove(z, p);
}

/* An unmap of [s, s+n): -EINVAL if it bisects a mapping, else the bytes. */
static long long mp_unmap_predict(struct mp_zone *z, int s, int n)
{
	int a = mp_mapping_at(z, s), b = mp_mapping_at(z, s + n - 1);
	long long bytes = 0;

	if ((a >= 0 && a != s) || (b >= 0 && b + z->m[b].len != s + n))
		return -EINVAL;
	for (int p = s; p < s + n; p++)
		bytes += (long long)z->m[p].len * PG;
	return bytes;
}

static int mp_new_mm(void)
{
	if (M.nmm == MP_MAXMM)
		MPF("more than %d mms", MP_MAXMM);
	memset(&M.mm[M.nmm], 0, sizeof(M.mm[0]));
	M.mm[M.nmm].alive = 1;
	return M.nmm++;
}

static int mp_nalive(void)
{
	int n = 0;

	for (int i = 0; i < MP_MAXW; i++)
		n += M.w[i].alive;
	return n;
}

/* A random live worker holding container c (any if c < 0), or -1. */
static int mp_pick_worker(int c)
{
	int cand[MP_MAXW], n = 0;

	for (int i = 0; i < MP_MAXW; i++)
		if (M.w[i].alive && (c < 0 || M.w[i].holds[c]))
			cand[n++] = i;
	return n ? cand[mp_rn(n)] : -1;
}

static int mp_free_slot(void)
{
	for (int i = 0; i < MP_MAXW; i++)
		if (!M.w[i].alive)
			return i;
	return -1;
}

/* ---- talking to the workers -------------------------------------------- */

/* Worker w has answered (or is gone): it, its zone and the regions are free again. */
static void mp_idle(struct mp_worker *w)
{
	w->busy = 0;
	M.inflight--;
	if (w->zone >= 0)
		M.z[w->zone].busy = 0;
	if (w->prereg)
		M.prereg_busy = 0;
}

/* The next message of worker wi: 1, or 0 at EOF; -1 with M.fail set. */
static int mp_read(int wi, struct mp_msg *m, const char *during)
{
	struct mp_worker *w = &M.w[wi];
	int r;

	if (!mp_wait_readable(w->sock, MP_WAIT_MS))
		MPF("round %ld step %ld: worker %d (pid %d) silent for %d s during %s", M.round, M.step,
		    wi, w->pid, MP_WAIT_MS / 1000, during);
	r = mp_recv(w->sock, m, NULL);
	/* A worker that died with a command unread resets the connection: that is its EOF. */
	if (r == -ECONNRESET)
		return 0;
	if (r < 0)
		MPF("round %ld step %ld: worker %d (pid %d): %s during %s", M.round, M.step, wi, w->pid,
		    strerror(-r), during);
	return r;
}

static int mp_complete(int wi)
{
	struct mp_worker *w = &M.w[wi];
	struct mp_msg m;
	int r = mp_read(wi, &m, w->what);

	if (r < 0)
		return -1;
	if (r == 0)
		MPF("%s: the worker died", w->what);
	mp_idle(w);
	if (m.op != w->sent.op || m.ret != w->want)
		MPF("%s: expected %lld (%s), got %lld (%s)", w->what, w->want,
		    w->want < 0 ? strerror((int)-w->want) : "", (long long)m.ret,
		    m.ret < 0 ? strerror((int)-m.ret) : "");
	return 0;
}

static int mp_complete_any(void)
{
	struct pollfd p[MP_MAXW];
	int idx[MP_MAXW], n = 0, r;

	for (int i = 0; i < MP_MAXW; i++)
		if (M.w[i].alive && M.w[i].busy) {
			p[n].fd = M.w[i].sock;
			p[n].events = POLLIN;
			idx[n++] = i;
		}
	if (!n)
		return 0;
	do
		r = poll(p, n, MP_WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		MPF("round %ld step %ld: no answer from %d busy workers in %d s (first: %s)", M.round,
		    M.step, n, MP_WAIT_MS / 1000, M.w[idx[0]].what);
	for (int k = 0; k < n; k++)
		if (p[k].revents)
			return mp_complete(idx[k]);
	return 0;
}

static int mp_drain(void)
{
	while (M.inflight)
		if (mp_complete_any())
			return -1;
	return 0;
}

static int mp_idle_worker(int wi)
{
	return M.w[wi].busy ? mp_complete(wi) : 0;
}

static int mp_idle_zone(int z)
{
	return M.z[z].busy ? mp_complete(M.z[z].busy - 1) : 0;
}

static int mp_idle_prereg(void)
{
	return M.prereg_busy ? mp_complete(M.prereg_busy - 1) : 0;
}

static int mp_kill_inflight(int wi);

/* Sends an ioctl command to idle worker wi (on idle zone z, if z >= 0). */
static int __attribute__((format(printf, 6, 7)))
mp_issue(int wi, int z, int prereg, const struct mp_msg *m, long long want, const char *fmt, ...)
{
	struct mp_worker *w = &M.w[wi];
	char what[160];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(w->what, sizeof(w->what), "round %ld step %ld: worker %d (pid %d, mm %d) %s",
		 M.round, M.step, wi, w->pid, w->mm, what);
	mp_note("%s: want %lld", w->what, want);
	w->sent = *m;
	w->want = want;
	r = mp_send(w->sock, m, -1);
	if (r)
		MPF("%s: send: %s", w->what, strerror(-r));
	w->busy = 1;
	w->zone = z;
	w->prereg = prereg;
	if (z >= 0)
		M.z[z].busy = wi + 1;
	if (prereg)
		M.prereg_busy = wi + 1;
	M.inflight++;
	M.ioctls++;
	if (M.killmid) {
		M.killmid = 0;
		return mp_kill_inflight(wi);
	}
	while (M.inflight >= MP_INFLIGHT)
		if (mp_complete_any())
			return -1;
	return 0;
}

/* A command answered at once (fork, fd passing, close): its ret. */
static int mp_sync(int wi, struct mp_msg *m, int fd, long long *ret)
{
	struct mp_worker *w = &M.w[wi];
	struct mp_msg a;
	int r;

	if (mp_idle_worker(wi))
		return -1;
	snprintf(w->what, sizeof(w->what), "round %ld step %ld: worker %d (pid %d) command %d",
		 M.round, M.step, wi, w->pid, m->op);
	mp_note("%s", w->what);
	r = mp_send(w->sock, m, fd);
	if (r)
		MPF("%s: send: %s", w->what, strerror(-r));
	r = mp_read(wi, &a, w->what);
	if (r <= 0)
		MPF("%s: %s", w->what, r ? "no answer" : "the worker died");
	if (a.op != m->op)
		MPF("%s: answer to command %d", w->what, a.op);
	*ret = a.ret;
	return 0;
}

/* A new worker on sock: waits for its hello; the slot's pid is checked if set. */
static int mp_adopt_worker(int slot, int sock, pid_t pid, int mm, const int *holds)
{
	struct mp_worker *w = &M.w[slot];
	struct mp_msg m;
	int r;

	memset(w, 0, sizeof(*w));
	w->alive = 1;
	w->sock = sock;
	w->pid = pid;
	w->mm = mm;
	w->zone = -1;
	for (int c = 0; c < MP_NC; c++)
		w->holds[c] = holds ? holds[c] : 0;
	r = mp_read(slot, &m, "the hello of a new worker");
	if (r <= 0 || m.op != MPC_HELLO || (pid && m.pid != pid))
		MPF("round %ld step %ld: new worker %d (pid %d): no hello (%d, op %d, pid %lld)", M.round,
		    M.step, slot, pid, r, r > 0 ? m.op : 0, r > 0 ? (long long)m.pid : 0LL);
	w->pid = (pid_t)m.pid;
	M.procs++;
	return 0;
}

static void mp_reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* ---- the model of an exit ------------------------------------------------ */

/*
 * mm exited (or exec'd).  Under RELEASE each container that watches it (it
 * mapped, registered or adopted there) releases, S2: the mappings it owns
 * that are not vaddr-invalid, every mapping its regions back, its regions.
 * Its vaddr-invalid mappings without a region stay, for an adopter.  Each
 * such release counts one mm_exits; an unwatched mm counts none.
 */
static void mp_exit_mm(int mm)
{
	M.mm[mm].alive = 0;
	for (int c = 0; c < M.nc; c++) {
		if (!M.cxx || M.policy != VFIO_CXX_EXIT_RELEASE || !M.mm[mm].used[c])
			continue;	/* KEEP (and type1): everything stays, orphaned */
		M.watch_exits++;
		for (int z = 0; z < M.nzones; z++) {
			struct mp_zone *Z = &M.z[z];

			if (Z->c != c)
				continue;
			for (int s = 0; s < MP_ZPAGES; s++) {
				struct mp_map *m = &Z->m[s];

				if (m->len && ((m->owner == mm && (!m->inv || m->region)) ||
					       (m->region && M.prereg_owner == mm))) {
					mp_remove(Z, s);
					M.released++;
				} else if (m->len && m->owner == mm) {
					M.kept++;	/* vaddr-invalid: waits for an adopter */
				}
			}
			if (c == 0 && M.prereg_owner == mm) {
				M.regions_released += Z->nreg;
				Z->nreg = 0;
			}
		}
		if (c == 0 && M.prereg_owner == mm)
			M.prereg_owner = -1;	/* its regions are gone: anyone may register */
	}
}

/*
 * The release runs from the exit's MMU notifier, or, when a container lock
 * is busy (the dumper may hold it), from a work item a little later: wait
 * until mm_exits says every release the model expects is done.
 */
static int mp_wait_releases(const char *what)
{
	long got = -1;

	if (!M.ours)
		return 0;
	for (int i = 0; i < 6000; i++) {
		got = stat_get("mm_exits") - M.mmexits0;
		if (got >= M.watch_exits)
			break;
		usleep(5000);
	}
	if (got != M.watch_exits)
		MPF("%s: mm_exits +%ld, the model +%ld (releases by the exits of watched mms)", what, got,
		    M.watch_exits);
	return 0;
}

/* ---- the steps ------------------------------------------------------------ */

static int mp_zone_pick(void)
{
	return mp_rn(M.nzones);
}

static struct mp_msg mp_cmd(int op, int c, uint32_t flags, int z, int va, int iova, int n)
{
	struct mp_msg m = {
		.op = op, .c = c, .flags = flags,
		.vaddr = MP_ZVA(z) + (uint64_t)va * PG, .iova = MP_IOVA(z) + (uint64_t)iova * PG,
		.size = (uint64_t)n * PG,
	};

	return m;
}

/*
 * S1: MAP VADDR of the invalid prereg-backed mapping at s of Z, from mm,
 * to page va: only the regions' mm, and only into one of its regions (the
 * mapping moves there).  Returns the answer; the model follows.
 */
static long long mp_s1(struct mp_zone *Z, int s, int mm, int va)
{
	struct mp_map *d = &Z->m[s];
	int k = region_covering(Z->reg, Z->nreg, va, d->len);

	if (mm != M.prereg_owner) {
		M.s1_eperm++;
		return -EPERM;
	}
	if (k < 0) {
		M.s1_einval++;
		return -EINVAL;
	}
	M.s1_moves++;
	M.restores++;
	Z->reg[d->region - 1].users--;
	Z->reg[k].users++;
	d->region = k + 1;
	d->va = va;
	d->inv = 0;
	return 0;
}

/* The worker whose mm has container 0's regions, if alive with the fd; else wi. */
static int mp_owner_worker(int wi)
{
	for (int i = 0; i < MP_MAXW; i++)
		if (M.w[i].alive && M.w[i].holds[0] && M.w[i].mm == M.prereg_owner)
			return i;
	return wi;
}

static int mp_op_map(void)
{
	int z = mp_zone_pick(), s, n, ro = mp_rn(4) == 0, inreg = mp_rn(2), pick = mp_rn(MP_MAXREG);
	int off = mp_rn(MP_ZPAGES), overlap = 0, wi;
	struct mp_zone *Z = &M.z[z];
	struct mp_msg m;

	mp_pick_range(6, &s, &n);
	wi = mp_pick_worker(Z->c);
	if (wi < 0)
		return 2;
	/* Half the time the regions' mm maps inside one of them: prereg-backed. */
	if (Z->c == 0 && inreg && Z->nreg) {
		struct region *g = &Z->reg[pick % Z->nreg];

		wi = mp_owner_worker(wi);
		s = g->start + off % g->n;
		if (s + n > g->start + g->n)
			n = g->start + g->n - s;
	}
	if (mp_idle_worker(wi) || mp_idle_zone(z))
		return -1;
	for (int p = s; p < s + n; p++)
		overlap |= mp_mapping_at(Z, p) >= 0;
	m = mp_cmd(MPC_MAP, Z->c, VFIO_DMA_MAP_FLAG_READ | (ro ? 0 : VFIO_DMA_MAP_FLAG_WRITE), z, s, s, n);
	if (!overlap) {
		int mm = M.w[wi].mm, reg = -1;

		if (Z->c == 0 && M.cxx && mm == M.prereg_owner)
			reg = region_covering(Z->reg, Z->nreg, s, n);
		Z->m[s] = (struct mp_map){ .len = n, .ro = ro, .owner = mm, .va = s, .region = reg + 1 };
		if (reg >= 0)
			Z->reg[reg].users++;
		M.mm[mm].used[Z->c] = 1;
	}
	if (mp_issue(wi, z, 0, &m, overlap ? -EEXIST : 0, "MAP c%d z%d [%d+%d) %s", Z->c, z, s, n,
		     ro ? "ro" : "rw"))
		return -1;
	return overlap;
}

static int mp_op_unmap(void)
{
	int z = mp_zone_pick(), all = mp_rn(40) == 0, exact = mp_rn(2), from = mp_rn(MP_ZPAGES), s, n, wi;
	struct mp_zone *Z = &M.z[z];
	long long want = 0;
	struct mp_msg m;

	mp_pick_range(12, &s, &n);
	wi = mp_pick_worker(Z->c);
	if (wi < 0)
		return 2;
	if (all) {
		/* Every zone of the container: wait for everything. */
		if (mp_drain())
			return -1;
		for (int y = 0; y < M.nzones; y++)
			if (M.z[y].c == Z->c) {
				want += mp_unmap_predict(&M.z[y], 0, MP_ZPAGES);
				mp_remove_range(&M.z[y], 0, MP_ZPAGES);
			}
		m = (struct mp_msg){ .op = MPC_UNMAP, .c = Z->c, .flags = VFIO_DMA_UNMAP_FLAG_ALL };
		/* It spans every zone of the container: wait for its answer. */
		if (mp_issue(wi, -1, 0, &m, want, "UNMAP ALL c%d", Z->c) || mp_idle_worker(wi))
			return -1;
		return !want;
	}
	if (mp_idle_worker(wi) || mp_idle_zone(z))
		return -1;
	for (int k = 0; exact && k < MP_ZPAGES; k++)
		if (Z->m[(from + k) % MP_ZPAGES].len) {
			s = (from + k) % MP_ZPAGES;
			n = Z->m[s].len;
			break;
		}
	want = mp_unmap_predict(Z, s, n);
	if (want > 0)
		mp_remove_range(Z, s, n);
	m = mp_cmd(MPC_UNMAP, Z->c, 0, z, 0, s, n);
	if (mp_issue(wi, z, 0, &m, want, "UNMAP c%d z%d [%d+%d)", Z->c, z, s, n))
		return -1;
	return want <= 0;
}

/* UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR: the vaddrs become invalid, the pins stay. */
static int mp_op_invalidate(void)
{
	int z = mp_zone_pick(), all = mp_rn(30) == 0, exact = mp_rn(4), from = mp_rn(MP_ZPAGES);
	int s, n, wi;
	struct mp_zone *Z = &M.z[z];
	long long want = 0;
	struct mp_msg m;

	mp_pick_range(12, &s, &n);
	wi = mp_pick_worker(Z->c);
	if (wi < 0)
		return 2;
	if (all) {
		int inv = 0;

		if (mp_drain())
			return -1;
		for (int y = 0; y < M.nzones; y++)
			for (int p = 0; p < MP_ZPAGES; p++)
				if (M.z[y].c == Z->c && M.z[y].m[p].len) {
					inv |= M.z[y].m[p].inv;
					want += (long long)M.z[y].m[p].len * PG;
				}
		/* With an emulated group, no vaddr can change (as type1); one invalid: nothing changes. */
		if (Z->c == 1)
			want = -EBUSY;
		else if (inv)
			want = -EINVAL;
		else
			for (int y = 0; y < M.nzones; y++)
				for (int p = 0; p < MP_ZPAGES; p++)
					if (M.z[y].c == 0 && M.z[y].m[p].len)
						M.z[y].m[p].inv = 1;
		m = (struct mp_msg){ .op = MPC_UNMAP, .c = Z->c,
				     .flags = VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR };
		if (mp_issue(wi, -1, 0, &m, want, "UNMAP ALL|VADDR c%d", Z->c) || mp_idle_worker(wi))
			return -1;
		return want <= 0;
	}
	if (mp_idle_worker(wi) || mp_idle_zone(z))
		return -1;
	/* exact 1-3: one valid mapping; 1: a prereg-backed one if there is one. */
	if (exact) {
		int p = exact == 1 ? mp_find(Z, from, 0, 1) : -1;

		if (p < 0)
			p = mp_find(Z, from, 0, 0);
		if (p >= 0) {
			s = p;
			n = Z->m[p].len;
		}
	}
	want = mp_unmap_predict(Z, s, n);
	for (int p = s; p < s + n && want >= 0; p++)
		if (Z->m[p].len && Z->m[p].inv)
			want = -EINVAL;	/* and the others it marked are restored */
	if (Z->c == 1)
		want = -EBUSY;
	if (want > 0)
		for (int p = s; p < s + n; p++)
			if (Z->m[p].len)
				Z->m[p].inv = 1;
	m = mp_cmd(MPC_UNMAP, Z->c, VFIO_DMA_UNMAP_FLAG_VADDR, z, 0, s, n);
	if (mp_issue(wi, z, 0, &m, want, "UNMAP VADDR c%d z%d [%d+%d)", Z->c, z, s, n))
		return -1;
	return want <= 0;
}

/*
 * MAP_DMA with VFIO_DMA_MAP_FLAG_VADDR: the new vaddr of an invalid
 * mapping, from the worker's mm (restore, or adoption from another mm: S3;
 * prereg-backed ones: S1); or a request the checks refuse.
 */
static int mp_op_setvaddr(void)
{
	int z = mp_zone_pick(), kind = mp_rn(20), from = mp_rn(MP_ZPAGES), keep_va = mp_rn(3);
	int newva = mp_rn(MP_ZPAGES), by_owner = mp_rn(2), pick = mp_rn(MP_MAXREG);
	int s, n, wi, mm, first = -1, count = 0, backed = 0;
	struct mp_zone *Z = &M.z[z];
	uint32_t flags = VFIO_DMA_MAP_FLAG_VADDR;
	long long want;
	struct mp_msg m;

	mp_pick_range(8, &s, &n);
	wi = mp_pick_worker(Z->c);
	if (wi < 0)
		return 2;
	if (mp_idle_worker(wi) || mp_idle_zone(z))
		return -1;
	mm = M.w[wi].mm;
	/*
	 * kind 0-13: an invalid mapping (0-4: a prereg-backed one if any);
	 * 14-16: a valid one; 17-18: any range; 19: malformed.
	 */
	if (kind < 17) {
		int p = kind < 5 ? mp_find(Z, from, 1, 1) : -1;

		if (p < 0)
			p = mp_find(Z, from, kind < 14, 0);
		if (p >= 0) {
			s = p;
			n = Z->m[p].len;
		}
	}
	if (kind == 19)
		flags |= VFIO_DMA_MAP_FLAG_READ;	/* VADDR with a protection: EINVAL */
	for (int p = s; p < s + n; p++) {
		int a = mp_mapping_at(Z, p);

		if (a >= 0 && a != first) {
			first = first < 0 ? a : first;
			count++;
			backed |= Z->m[a].region != 0;
		}
	}
	if (kind == 19) {
		want = -EINVAL;
	} else if (!count) {
		want = -ENOENT;
	} else if (count == 1 && first == s && Z->m[s].len == n && Z->m[s].inv) {
		struct mp_map *d = &Z->m[s];
		int va = keep_va == 0 || newva + n > MP_ZPAGES ? d->va : newva;

		if (d->region) {
			/* Half the time from the region's mm; then a third into a region that fits. */
			if (by_owner && mp_owner_worker(wi) != wi) {
				wi = mp_owner_worker(wi);
				if (mp_idle_worker(wi))
					return -1;
				mm = M.w[wi].mm;
			}
			for (int i = 0; keep_va == 1 && i < Z->nreg; i++) {
				struct region *g = &Z->reg[(pick + i) % Z->nreg];

				if (g->n >= n) {
					va = g->start + newva % (g->n - n + 1);
					break;
				}
			}
			want = mp_s1(Z, s, mm, va);
		} else {
			want = 0;
			if (d->owner != mm)
				M.moves++;	/* S3: the charge moves to mm */
			else
				M.restores++;
			M.adopt_dead += !M.mm[d->owner].alive;	/* e.g. an exec-based live update */
			d->owner = mm;
			d->va = va;
			d->inv = 0;
			M.mm[mm].used[Z->c] = 1;
		}
		m = mp_cmd(MPC_MAP, Z->c, flags, z, va, s, n);
		if (mp_issue(wi, z, 0, &m, want, "MAP VADDR c%d z%d [%d+%d) -> va %d%s", Z->c, z, s, n,
			     va, d->region ? " (prereg-backed)" : ""))
			return -1;
		return want != 0;
	} else {
		/* Which check refuses a prereg-backed one first is not specified: not asked. */
		if (backed)
			return 2;
		want = -EINVAL;
	}
	m = mp_cmd(MPC_MAP, Z->c, flags, z, s, s, n);
	if (mp_issue(wi, z, 0, &m, want, "MAP VADDR c%d z%d [%d+%d) (refused)", Z->c, z, s, n))
		return -1;
	return 1;
}

/*
 * The S1 sequence on one prereg-backed mapping of zone z (made by the
 * regions' mm if there is none): UNMAP VADDR by any worker, then MAP VADDR
 * from another mm (EPERM), or from the regions' mm to the same vaddr, into
 * a region that fits (it moves there) or anywhere (mostly EINVAL).
 */
static int mp_op_s1(void)
{
	int z = mp_rn(4), who = mp_rn(3), pick = mp_rn(MP_MAXREG), off = mp_rn(MP_ZPAGES);
	int len = 1 + mp_rn(4), to = mp_rn(MP_ZPAGES), any = mp_pick_worker(0), p, s, n, va;
	struct mp_zone *Z = &M.z[z];
	struct mp_msg m;
	long long want;

	if (!M.cxx || any < 0)
		return 2;
	/* A zone with regions; none anywhere: any worker registers one (and owns them). */
	for (int i = 0; i < 4 && !Z->nreg; i++)
		if (M.z[(z + i) % 4].nreg)
			Z = &M.z[z = (z + i) % 4];
	if (M.prereg_owner < 0) {
		int rs = off % (MP_ZPAGES - 12), rn = 4 + len * 2;	/* len <= 4 */

		if (mp_idle_zone(z) || mp_idle_worker(any) || mp_idle_prereg())
			return -1;
		Z->reg[Z->nreg++] = (struct region){ .start = rs, .n = rn };
		M.prereg_owner = M.w[any].mm;
		M.mm[M.w[any].mm].used[0] = 1;
		m = mp_cmd(MPC_REG, 0, 0, z, rs, 0, rn);
		if (mp_issue(any, z, 1, &m, 0, "REGISTER z%d [%d+%d) (S1)", z, rs, rn) ||
		    mp_idle_worker(any))
			return -1;
	}
	if ((p = mp_owner_worker(-1)) < 0 && M.prereg_owner >= 0 && !M.mm[M.prereg_owner].alive) {
		/*
		 * KEEP: the regions' mm is gone, its regions and the mappings
		 * they back stay until close, and nobody can give one a vaddr.
		 */
		if (mp_idle_zone(z) || mp_idle_worker(any))
			return -1;
		s = mp_find(Z, off, 1, 1);
		if (s < 0)
			return 2;
		want = mp_s1(Z, s, M.w[any].mm, Z->m[s].va);
		m = mp_cmd(MPC_MAP, 0, VFIO_DMA_MAP_FLAG_VADDR, z, Z->m[s].va, s, Z->m[s].len);
		return mp_issue(any, z, 0, &m, want, "MAP VADDR c0 z%d [%d+%d) (S1, the regions' mm is dead)",
				z, s, Z->m[s].len) ? -1 : 1;
	}
	if (p < 0 || !Z->nreg)
		return 2;
	if (mp_idle_zone(z) || mp_idle_worker(p) || mp_idle_worker(any))
		return -1;
	s = mp_find(Z, off, 0, 1);
	if (s < 0) {
		struct region *g = &Z->reg[pick % Z->nreg];
		int k;

		s = g->start + off % g->n;
		n = len < g->start + g->n - s ? len : g->start + g->n - s;
		for (int q = s; q < s + n; q++)
			if (mp_mapping_at(Z, q) >= 0)
				return 2;
		k = region_covering(Z->reg, Z->nreg, s, n);
		Z->m[s] = (struct mp_map){ .len = n, .owner = M.w[p].mm, .va = s, .region = k + 1 };
		Z->reg[k].users++;
		M.mm[M.w[p].mm].used[0] = 1;
		m = mp_cmd(MPC_MAP, 0, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, z, s, s, n);
		if (mp_issue(p, z, 0, &m, 0, "MAP c0 z%d [%d+%d) rw (S1: prereg-backed)", z, s, n) ||
		    mp_idle_worker(p))
			return -1;
		if (!M.w[p].alive)	/* killed in flight */
			return 0;
	}
	n = Z->m[s].len;
	Z->m[s].inv = 1;
	m = mp_cmd(MPC_UNMAP, 0, VFIO_DMA_UNMAP_FLAG_VADDR, z, 0, s, n);
	if (mp_issue(any, z, 0, &m, (long long)n * PG, "UNMAP VADDR c0 z%d [%d+%d) (S1)", z, s, n) ||
	    mp_idle_worker(any))
		return -1;
	if (!M.w[p].alive || !M.w[any].alive || !Z->m[s].len || !Z->m[s].inv)
		return 0;	/* a SIGKILL in flight changed the picture */
	va = Z->m[s].va;
	if (who == 0) {
		p = any;
	} else if (who == 2) {
		va = to + n > MP_ZPAGES ? MP_ZPAGES - n : to;
		for (int i = 0; (to & 1) && i < Z->nreg; i++) {
			struct region *g = &Z->reg[(pick + i) % Z->nreg];

			if (g->n >= n) {
				va = g->start + to % (g->n - n + 1);
				break;
			}
		}
	}
	want = mp_s1(Z, s, M.w[p].mm, va);
	m = mp_cmd(MPC_MAP, 0, VFIO_DMA_MAP_FLAG_VADDR, z, va, s, n);
	if (mp_issue(p, z, 0, &m, want, "MAP VADDR c0 z%d [%d+%d) -> va %d (S1)", z, s, n, va))
		return -1;
	return want != 0;
}

/* Two times in three the worker of the regions' mm, if it is alive and has the fd. */
static int mp_prereg_worker(void)
{
	int owner = mp_rn(3), wi = mp_pick_worker(0);

	return owner && wi >= 0 ? mp_owner_worker(wi) : wi;
}

/*
 * The start of REGISTER and UNREGISTER in zone z: a random range of at most
 * maxlen pages into *s and *n, or (reuse, if the zone has any) its region
 * number pick; the worker that issues it (*wi, idle) and its mm (*mm).
 * 0, or what the op returns: 2 (not now), -1 (failed).
 */
static int mp_prereg_start(int z, int maxlen, int reuse, int pick, int *s, int *n, int *wi,
			   int *mm)
{
	struct mp_zone *Z = &M.z[z];

	mp_pick_range(maxlen, s, n);
	if (!M.cxx)
		return 2;
	*wi = mp_prereg_worker();
	if (*wi < 0)
		return 2;
	if (mp_idle_worker(*wi) || mp_idle_zone(z) || mp_idle_prereg())
		return -1;
	*mm = M.w[*wi].mm;
	if (reuse && Z->nreg) {
		*s = Z->reg[pick % Z->nreg].start;
		*n = Z->reg[pick % Z->nreg].n;
	}
	return 0;
}

static int mp_op_register(void)
{
	int z = mp_rn(4), again = mp_rn(3) == 0, pick = mp_rn(MP_MAXREG), s, n, wi, mm, r, want = 0;
	struct mp_zone *Z = &M.z[z];
	struct mp_msg m;

	r = mp_prereg_start(z, 12, again, pick, &s, &n, &wi, &mm);
	if (r)
		return r;
	if (M.prereg_owner >= 0 && M.prereg_owner != mm) {
		want = -EPERM;	/* B41: one mm per container */
	} else {
		for (int i = 0; i < Z->nreg; i++) {
			if (Z->reg[i].start == s && Z->reg[i].n == n) {
				want = -EBUSY;
				break;
			}
			if (s < Z->reg[i].start + Z->reg[i].n && Z->reg[i].start < s + n)
				want = -EINVAL;
		}
		if (!want && Z->nreg == MP_MAXREG)
			return 2;
	}
	if (!want) {
		Z->reg[Z->nreg++] = (struct region){ .start = s, .n = n };
		M.prereg_owner = mm;
		M.mm[mm].used[0] = 1;
	}
	m = mp_cmd(MPC_REG, 0, 0, z, s, 0, n);
	if (mp_issue(wi, z, 1, &m, want, "REGISTER z%d [%d+%d)", z, s, n))
		return -1;
	return want != 0;
}

static int mp_op_unregister(void)
{
	int z = mp_rn(4), existing = mp_rn(4) != 0, pick = mp_rn(MP_MAXREG), s, n, wi, mm, r;
	int want = -ENOENT, hit = -1;
	struct mp_zone *Z = &M.z[z];
	struct mp_msg m;

	r = mp_prereg_start(z, 8, existing, pick, &s, &n, &wi, &mm);
	if (r)
		return r;
	for (int i = 0; i < Z->nreg; i++)
		if (Z->reg[i].start == s && Z->reg[i].n == n)
			hit = i;
	if (M.prereg_owner >= 0 && M.prereg_owner != mm)
		want = -EPERM;
	else if (hit >= 0)
		want = Z->reg[hit].users ? -EBUSY : 0;
	if (!want) {
		/* Mappings remember their region by index: renumber. */
		for (int p = 0; p < MP_ZPAGES; p++)
			if (Z->m[p].len && Z->m[p].region == Z->nreg)
				Z->m[p].region = hit + 1;
		Z->reg[hit] = Z->reg[--Z->nreg];
		if (!mp_regions_pages())
			M.prereg_owner = -1;	/* item 9: the owner does not stick */
	}
	m = mp_cmd(MPC_UNREG, 0, 0, z, s, 0, n);
	if (mp_issue(wi, z, 1, &m, want, "UNREGISTER z%d [%d+%d)", z, s, n))
		return -1;
	return want != 0;
}

/* The device pins (or unpins) pages of zone 4 or 5, in the mapping owners' mms. */
static int mp_op_pin(void)
{
	int z = 4 + mp_rn(2), s = mp_rn(MP_ZPAGES), n = 1 + mp_rn(6), write = mp_rn(2);
	int inside = mp_rn(4), unpin = mp_rn(3) == 0, off = mp_rn(MP_ZPAGES), ok = 1, pins = 0;
	struct mp_zone *Z = &M.z[z];
	long long r;

	if (M.nc < 2)
		return 2;
	if (mp_idle_zone(z))
		return -1;
	/* Three times in four inside one mapping of a live mm (read-only: a read pin). */
	if (inside)
		for (int k = 1; k < MP_ZPAGES; k++) {
			int p = (s + k) % MP_ZPAGES;

			if (Z->m[p].len && M.mm[Z->m[p].owner].alive) {
				s = p + off % Z->m[p].len;
				if (s + n > p + Z->m[p].len)
					n = p + Z->m[p].len - s;
				write &= !Z->m[p].ro || inside == 1;
				break;
			}
		}
	if (s + n > MP_ZPAGES)
		n = MP_ZPAGES - s;
	for (int p = 0; p < MP_ZPAGES; p++)
		pins += Z->pin[p];
	M.pins++;
	if (unpin || pins + n > MP_MAX_PINS) {
		long long dropped = 0;
		int a = mp_mapping_at(Z, s);

		/*
		 * vfio_iommu_type1_unpin_pages() WARNs when a page of the range
		 * is not mapped (a vendor driver unpins only what it pinned):
		 * for type1 the range stays inside one mapping.
		 */
		if (!M.cxx) {
			if (a < 0)
				return 2;
			if (s + n > a + Z->m[a].len)
				n = a + Z->m[a].len - s;
		}

		for (int p = s; p < s + n; p++)
			if (Z->pin[p]) {
				Z->pin[p]--;
				dropped++;
			}
		mp_note("round %ld step %ld: device UNPIN z%d [%d+%d): want %lld", M.round, M.step, z,
			s, n, dropped);
		r = run_cmd(&M.m, MTEST_CMD_UNPIN, MP_IOVA(z) + (uint64_t)s * PG, n, 0, 0);
		if (r != dropped)
			MPF("round %ld step %ld: device UNPIN z%d [%d+%d): expected %lld, got %lld", M.round,
			    M.step, z, s, n, dropped, r);
		return dropped == 0;
	}
	for (int p = s; p < s + n; p++) {
		int a = mp_mapping_at(Z, p);

		if (a >= 0 && !M.mm[Z->m[a].owner].alive)
			return 2;	/* an orphan's pages: type1 may borrow a pin, or fail */
		if (a < 0 || (write && Z->m[a].ro))
			ok = 0;
	}
	mp_note("round %ld step %ld: device PIN z%d [%d+%d) %s: want %s", M.round, M.step, z, s, n,
		write ? "rw" : "r", ok ? "all" : "an error");
	r = run_cmd(&M.m, MTEST_CMD_PIN, MP_IOVA(z) + (uint64_t)s * PG, n,
		    MTEST_PROT_READ | (write ? MTEST_PROT_WRITE : 0), 0);
	if (ok) {
		if (r != n)
			MPF("round %ld step %ld: device PIN z%d [%d+%d): expected %d, got %lld (%s)", M.round,
			    M.step, z, s, n, n, r, r < 0 ? strerror((int)-r) : "");
		for (int p = s; p < s + n; p++)
			Z->pin[p]++;
		return 0;
	}
	if (r >= 0)
		MPF("round %ld step %ld: device PIN z%d [%d+%d) outside or read-only: got %lld", M.round,
		    M.step, z, s, n, r);
	return 1;
}

static int mp_op_fork(void)
{
	int wi = mp_pick_worker(-1), slot = mp_free_slot(), sv[2], mm;
	struct mp_msg m = { .op = MPC_FORK };
	long long pid;

	if (wi < 0 || slot < 0)
		return 2;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		MPF("socketpair: %s", strerror(errno));
	if (mp_sync(wi, &m, sv[1], &pid)) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	if (pid <= 0) {
		close(sv[0]);
		MPF("round %ld step %ld: worker %d: fork: %s", M.round, M.step, wi, strerror((int)-pid));
	}
	mm = mp_new_mm();
	if (mm < 0 || mp_adopt_worker(slot, sv[0], (pid_t)pid, mm, M.w[wi].holds))
		return -1;
	mp_note("round %ld step %ld: worker %d forked worker %d (pid %lld, mm %d)", M.round, M.step,
		wi, slot, pid, mm);
	M.forks++;
	return 0;
}

static int mp_pass(int wi, int c)
{
	struct mp_msg m = { .op = MPC_RECV, .c = c };
	long long ret;

	if (M.fd[c] < 0)
		return 2;
	if (mp_sync(wi, &m, M.fd[c], &ret))
		return -1;
	if (ret)
		MPF("round %ld step %ld: worker %d: SCM_RIGHTS of container %d: %lld", M.round, M.step,
		    wi, c, ret);
	M.w[wi].holds[c] = 1;
	M.passes++;
	return 0;
}

/*
 * Forks and execs a fresh worker whose only fd is its end of a socketpair
 * (fd 3): its pid and our end in *sock; -1 with M.fail set.
 */
static pid_t mp_exec_worker(int *sock)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		MPF("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		MPF("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		if (sv[1] != 3)
			dup2(sv[1], 3);
		else
			fcntl(3, F_SETFD, 0);
		syscall(SYS_close_range, 4, ~0U, 0);
		execl("/proc/self/exe", "fuzz_test-worker", MP_WORKER_ARG, "3", "-1", "-1", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

/* A fresh process (fork + exec in the coordinator: no fd but its socket), then fds by SCM_RIGHTS. */
static int mp_op_spawn(void)
{
	int slot = mp_free_slot(), mask = 1 + mp_rn(3), sock, mm;
	pid_t pid;

	if (slot < 0)
		return 2;
	if (M.nc < 2)
		mask = 1;
	pid = mp_exec_worker(&sock);
	if (pid < 0)
		return -1;
	mm = mp_new_mm();
	if (mm < 0 || mp_adopt_worker(slot, sock, pid, mm, NULL))
		return -1;
	mp_note("round %ld step %ld: spawned worker %d (pid %d, mm %d)", M.round, M.step, slot, pid, mm);
	M.spawns++;
	for (int c = 0; c < M.nc; c++)
		if ((mask >> c) & 1 && mp_pass(slot, c) < 0)
			return -1;
	return 0;
}

static int mp_op_pass(void)
{
	int wi = mp_pick_worker(-1), c = mp_rn(M.nc);

	if (wi < 0)
		return 2;
	if (M.w[wi].holds[c])
		c = (c + 1) % M.nc;
	if (M.w[wi].holds[c])
		return 2;
	return mp_pass(wi, c);
}

static int mp_op_close(void)
{
	int wi = mp_pick_worker(-1), c = mp_rn(M.nc);
	struct mp_msg m = { .op = MPC_CLOSE };
	long long ret;

	if (wi < 0)
		return 2;
	if (!M.w[wi].holds[c])
		c = (c + 1) % M.nc;
	if (!M.w[wi].holds[c])
		return 2;
	m.c = c;
	if (mp_sync(wi, &m, -1, &ret))
		return -1;
	if (ret)
		MPF("round %ld step %ld: worker %d: close of container %d: %lld", M.round, M.step, wi, c,
		    ret);
	M.w[wi].holds[c] = 0;
	M.closes++;
	return 0;
}

/* exec: the worker's old mm exits (S2 under RELEASE), a new one takes the same fds. */
/*
 * The worker an exec, exit or kill ends the mm of: three times in four not
 * the regions' mm, so that prereg-backed mappings live long enough to be
 * moved around.
 */
static int mp_victim(void)
{
	int spare = mp_rn(4), wi = mp_pick_worker(-1);

	for (int i = 0; spare && wi >= 0 && i < MP_MAXW; i++) {
		int k = (wi + i) % MP_MAXW;

		if (M.w[k].alive && M.w[k].mm != M.prereg_owner)
			return k;
	}
	return wi;
}

static int mp_op_exec(void)
{
	int wi = mp_victim(), mm, r;
	struct mp_msg m = { .op = MPC_EXEC }, a;
	struct mp_worker *w;

	if (wi < 0)
		return 2;
	if (mp_drain())
		return -1;
	w = &M.w[wi];
	snprintf(w->what, sizeof(w->what), "round %ld step %ld: worker %d (pid %d, mm %d) exec",
		 M.round, M.step, wi, w->pid, w->mm);
	mp_note("%s", w->what);
	if ((r = mp_send(w->sock, &m, -1)))
		MPF("%s: send: %s", w->what, strerror(-r));
	r = mp_read(wi, &a, w->what);
	if (r <= 0 || a.op != MPC_HELLO || a.pid != w->pid)
		MPF("%s: %s (op %d, ret %lld)", w->what, r ? "no hello" : "the worker died",
		    r > 0 ? a.op : 0, r > 0 ? (long long)a.ret : 0LL);
	mp_exit_mm(w->mm);
	mm = mp_new_mm();
	if (mm < 0 || mp_wait_releases(w->what))
		return -1;
	w->mm = mm;
	M.execs++;
	M.procs++;
	return 0;
}

/* exit(0) or SIGKILL of an idle worker (one stays). */
static int mp_end_worker(int wi, int kill_it)
{
	struct mp_worker *w = &M.w[wi];
	struct mp_msg m = { .op = MPC_EXIT }, a;
	int r;

	snprintf(w->what, sizeof(w->what), "round %ld step %ld: worker %d (pid %d, mm %d) %s", M.round,
		 M.step, wi, w->pid, w->mm, kill_it ? "SIGKILL" : "exit");
	mp_note("%s", w->what);
	if (kill_it)
		r = kill(w->pid, SIGKILL) ? -errno : 0;
	else
		r = mp_send(w->sock, &m, -1);
	if (r)
		MPF("%s: %s", w->what, strerror(-r));
	/* EOF comes when its files close, after its mm went (exit_mm runs before exit_files). */
	r = mp_read(wi, &a, w->what);
	if (r)
		MPF("%s: %s", w->what, r > 0 ? "it answered" : "no EOF");
	close(w->sock);
	w->alive = 0;
	mp_exit_mm(w->mm);
	mp_reap();
	if (mp_wait_releases(w->what))
		return -1;
	if (kill_it)
		M.kills++;
	else
		M.exits++;
	return 0;
}

static int mp_op_end(int kill_it)
{
	int wi = mp_victim();

	if (wi < 0 || mp_nalive() < 2)
		return 2;
	if (mp_drain())
		return -1;
	return mp_end_worker(wi, kill_it);
}

/* ---- SIGKILL in the middle of an ioctl ---------------------------------------- */

static int mp_check(const char *when);
static int mp_check_netlink(const char *when);

/* What an operation changes in the model, to go back to. */
struct mp_snap {
	struct mp_zone z[MP_NZONES];
	int prereg_owner;
	long watch_exits, released, kept, regions_released, moves, restores, adopt_dead, s1_moves;
	int (*used)[MP_NC];
};
static int mp_used_pre[MP_MAXMM][MP_NC], mp_used_post[MP_MAXMM][MP_NC];
static struct mp_snap mp_pre, mp_post;

static void mp_save(struct mp_snap *s, int (*used)[MP_NC])
{
	memcpy(s->z, M.z, sizeof(M.z));
	s->prereg_owner = M.prereg_owner;
	s->watch_exits = M.watch_exits;
	s->released = M.released;
	s->kept = M.kept;
	s->regions_released = M.regions_released;
	s->moves = M.moves;
	s->restores = M.restores;
	s->adopt_dead = M.adopt_dead;
	s->s1_moves = M.s1_moves;
	for (int i = 0; i < M.nmm; i++)
		memcpy(used[i], M.mm[i].used, sizeof(used[i]));
	s->used = used;
}

static void mp_load(const struct mp_snap *s)
{
	memcpy(M.z, s->z, sizeof(M.z));
	M.prereg_owner = s->prereg_owner;
	M.watch_exits = s->watch_exits;
	M.released = s->released;
	M.kept = s->kept;
	M.regions_released = s->regions_released;
	M.moves = s->moves;
	M.restores = s->restores;
	M.adopt_dead = s->adopt_dead;
	M.s1_moves = s->s1_moves;
	for (int i = 0; i < M.nmm; i++)
		memcpy(M.mm[i].used, s->used[i], sizeof(s->used[i]));
}

/* Whether the module is in the model's state (mm_exits, the device's pins, netlink). */
static int mp_probe(const char *what)
{
	long got = -1, pins = 0;
	int r;

	for (int i = 0; i < 600; i++) {
		got = stat_get("mm_exits") - M.mmexits0;
		if (got >= M.watch_exits)
			break;
		usleep(5000);
	}
	for (int z = 0; z < M.nzones; z++)
		for (int p = 0; p < MP_ZPAGES; p++)
			pins += M.z[z].pin[p];
	if (got != M.watch_exits || (M.m.dev >= 0 && (long long)reg_r(&M.m, MTEST_REG_PINNED) != pins))
		return -1;
	M.probe = 1;
	r = mp_check_netlink(what);
	M.probe = 0;
	return r;
}

static long long mp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * The command just sent to wi gets a SIGKILL (kill_delay us later): the
 * ioctl may not have started, be half way (a killable lock, GUP with a
 * fatal signal pending) or be done.  Whatever the module did, it did all
 * of it or nothing: the state after the exit must be the model's with the
 * operation done (as sent) or not done (as before), and then pass every
 * check.
 */
static int mp_kill_inflight(int wi)
{
	struct mp_worker *w = &M.w[wi];
	int dead = w->mm, answered = 0, r;
	long long t0 = mp_now_us();
	char what[260];
	struct mp_msg a;

	snprintf(what, sizeof(what), "%s, SIGKILLed %d us after the command", w->what, M.kill_delay);
	mp_note("%s", what);
	while (mp_now_us() - t0 < M.kill_delay)
		;
	if (kill(w->pid, SIGKILL))
		MPF("%s: kill: %s", what, strerror(errno));
	while ((r = mp_read(wi, &a, what)) > 0) {
		if (a.op != w->sent.op || a.ret != w->want)
			MPF("%s: answered %lld (%s), expected %lld", what, (long long)a.ret,
			    a.ret < 0 ? strerror((int)-a.ret) : "", w->want);
		answered = 1;	/* it got that far: done */
	}
	if (r < 0)
		return -1;
	mp_idle(w);
	close(w->sock);
	w->alive = 0;
	mp_reap();
	M.kills_mid++;
	mp_save(&mp_post, mp_used_post);
	for (int k = 0; k < 2 && !(k && answered); k++) {
		mp_load(k ? &mp_pre : &mp_post);
		mp_exit_mm(dead);
		if (!mp_probe(what)) {
			if (k)
				M.kill_undone++;
			else
				M.kill_done++;
			return mp_check(what);
		}
	}
	MPF("%s: the state is neither that of the operation done nor that of it not done", what);
}

static int mp_step(void)
{
	int k = mp_rn(100), r;
	enum mp_op op = MPO_MAP;

	while (k >= mp_cut[op])
		op++;
	/*
	 * One step in 40 (ours: netlink shows what happened), the ioctl
	 * command it sends, if any, is killed in flight.  Nothing else runs
	 * then: its exit may release mappings in any zone.
	 */
	if (M.cxx && mp_nalive() >= 2 && mp_rn(40) == 0) {
		if (mp_drain())
			return -1;
		mp_save(&mp_pre, mp_used_pre);
		M.killmid = 1;
		M.kill_delay = mp_rn(3) ? mp_rn(400) : 0;
	}
	switch (op) {
	case MPO_MAP: r = mp_op_map(); break;
	case MPO_UNMAP: r = mp_op_unmap(); break;
	case MPO_INVALIDATE: r = mp_op_invalidate(); break;
	case MPO_SETVADDR: r = mp_op_setvaddr(); break;
	case MPO_S1: r = mp_op_s1(); break;
	case MPO_REG: r = mp_op_register(); break;
	case MPO_UNREG: r = mp_op_unregister(); break;
	case MPO_PIN: r = mp_op_pin(); break;
	case MPO_FORK: r = mp_op_fork(); break;
	case MPO_SPAWN: r = mp_op_spawn(); break;
	case MPO_PASS: r = mp_op_pass(); break;
	case MPO_CLOSE: r = mp_op_close(); break;
	case MPO_EXEC: r = mp_op_exec(); break;
	case MPO_EXIT: r = mp_op_end(0); break;
	default: r = mp_op_end(1); break;
	}
	M.killmid = 0;
	if (r < 0)
		return -1;
	if (r < 2)
		M.done[op][r]++;
	return 0;
}

/* ---- checkpoints ------------------------------------------------------------ */

struct mp_nl_container {
	uint64_t id, mappings, bytes, pinned, ext, prereg, locked, orphaned;
	uint32_t type, groups, domains, tgid;
};

struct mp_nl_range {
	uint64_t start, size, vaddr, mm, pinned, ext, locked, users;
	uint32_t prot, flags;
};

struct mp_nl_list {
	struct mp_nl_range r[MP_NZONES * MP_ZPAGES];
	int n;
	struct mp_nl_container c;
	int containers;
};

static int mp_nl_container_cb(void *p, struct nlattr **tb, char *why, size_t len)
{
	struct mp_nl_list *l = p;
	int bad = 0;

	l->c.id = mp_nla_u64(tb, VFIO_CXX_A_CONTAINER_ID, &bad);
	l->c.mappings = mp_nla_u64(tb, VFIO_CXX_A_MAPPINGS, &bad);
	l->c.bytes = mp_nla_u64(tb, VFIO_CXX_A_MAPPED_BYTES, &bad);
	l->c.pinned = mp_nla_u64(tb, VFIO_CXX_A_PAGES_PINNED, &bad);
	l->c.ext = mp_nla_u64(tb, VFIO_CXX_A_EXTERNAL_PAGES, &bad);
	l->c.prereg = mp_nla_u64(tb, VFIO_CXX_A_PREREG_PAGES, &bad);
	l->c.locked = mp_nla_u64(tb, VFIO_CXX_A_LOCKED_PAGES, &bad);
	l->c.orphaned = mp_nla_u64(tb, VFIO_CXX_A_ORPHANED_MAPPINGS, &bad);
	l->c.type = mp_nla_u32(tb, VFIO_CXX_A_IOMMU_TYPE, &bad);
	l->c.groups = mp_nla_u32(tb, VFIO_CXX_A_GROUPS, &bad);
	l->c.domains = mp_nla_u32(tb, VFIO_CXX_A_DOMAINS, &bad);
	l->c.tgid = mp_nla_u32(tb, VFIO_CXX_A_OWNER_TGID, &bad);
	if (bad) {
		snprintf(why, len, "GET_CONTAINER: attribute %d missing or of the wrong size", bad);
		return -1;
	}
	/*
	 * The round's new containers, in the dump: by type, or (both Type1v2,
	 * the cxx variant) by id: container 0 is set up first, and the dump
	 * comes in increasing id order.
	 */
	if (l->c.tgid == (uint32_t)getpid() && l->c.id > M.last_id) {
		if (l->c.type == VFIO_CXX_IOMMU || (!M.cxx && !M.nlid[0]))
			M.nlid[0] = l->c.id;
		else
			M.nlid[1] = l->c.id;
		l->containers++;
	}
	return 0;
}

static int mp_nl_range_cb(void *p, struct nlattr **tb, char *why, size_t len, int mapping)
{
	struct mp_nl_list *l = p;
	struct mp_nl_range *r;
	int bad = 0;

	if (l->n == (int)(sizeof(l->r) / sizeof(l->r[0]))) {
		snprintf(why, len, "more entries than the model can have");
		return -1;
	}
	r = &l->r[l->n++];
	memset(r, 0, sizeof(*r));
	r->start = mp_nla_u64(tb, mapping ? VFIO_CXX_A_IOVA : VFIO_CXX_A_VADDR, &bad);
	r->size = mp_nla_u64(tb, VFIO_CXX_A_SIZE, &bad);
	r->mm = mp_nla_u64(tb, VFIO_CXX_A_MM_ID, &bad);
	r->pinned = mp_nla_u64(tb, VFIO_CXX_A_PAGES_PINNED, &bad);
	if (mapping) {
		r->vaddr = mp_nla_u64(tb, VFIO_CXX_A_VADDR, &bad);
		r->ext = mp_nla_u64(tb, VFIO_CXX_A_EXTERNAL_PAGES, &bad);
		r->locked = mp_nla_u64(tb, VFIO_CXX_A_LOCKED_PAGES, &bad);
		r->prot = mp_nla_u32(tb, VFIO_CXX_A_PROT, &bad);
		r->flags = mp_nla_u32(tb, VFIO_CXX_A_MAP_FLAGS, &bad);
	} else {
		r->users = mp_nla_u64(tb, VFIO_CXX_A_PREREG_USERS, &bad);
	}
	if (bad) {
		snprintf(why, len, "%s: attribute %d missing or of the wrong size",
			 mapping ? "GET_MAPPINGS" : "GET_PREREGS", bad);
		return -1;
	}
	return 0;
}

static int mp_nl_map_cb(void *p, struct nlattr **tb, char *why, size_t len)
{
	return mp_nl_range_cb(p, tb, why, len, 1);
}

static int mp_nl_prereg_cb(void *p, struct nlattr **tb, char *why, size_t len)
{
	return mp_nl_range_cb(p, tb, why, len, 0);
}

/* The netlink mm id of model mm: one id per mm, no two referenced mms with one id. */
static int mp_bind(int mm, uint64_t id, const char *what)
{
	if (!id)
		MPF("%s: mm id 0", what);
	if (M.mm[mm].nlid) {
		if (M.mm[mm].nlid != id)
			MPF("%s: mm %d (%s) has netlink mm id %#llx, before %#llx", what, mm,
			    M.mm[mm].alive ? "alive" : "dead", (unsigned long long)id,
			    (unsigned long long)M.mm[mm].nlid);
		return 0;
	}
	for (int i = 0; i < M.nmm; i++)
		if (M.mm[i].nlid == id)
			MPF("%s: mm %d has the netlink mm id of mm %d (%s)", what, mm, i,
			    M.mm[i].alive ? "alive" : "dead");
	if (!M.probe)
		M.mm[mm].nlid = id;
	return 0;
}

/* Every container, mapping and region as the model has it, through netlink. */
static int mp_check_netlink(const char *when)
{
	static struct mp_nl_list l;
	char why[200];
	int r;

	/* A dead mm nothing refers to may be freed and its address reused: forget its id. */
	for (int i = 0; i < M.nmm; i++) {
		int ref = i == M.prereg_owner;

		for (int z = 0; z < M.nzones && !ref; z++)
			for (int s = 0; s < MP_ZPAGES; s++)
				ref |= M.z[z].m[s].len && M.z[z].m[s].owner == i;
		if (!M.mm[i].alive && !ref)
			M.mm[i].nlid = 0;
	}
	for (int c = 0; c < M.nc; c++) {
		uint64_t pinned = 0, ext = 0, locked = 0, bytes = 0, orphans = 0;
		int k = 0;

		memset(&l, 0, sizeof(l));
		r = mp_nl_request(&M.nl, VFIO_CXX_CMD_GET_CONTAINER, 0, M.nlid[c], mp_nl_container_cb, &l,
				  why, sizeof(why));
		M.nldumps++;
		if (r != 1)
			MPF("%s: GET_CONTAINER %llu: %d %s", when, (unsigned long long)M.nlid[c], r,
			    r == MP_NL_MALFORMED ? why : strerror(-r));
		r = mp_nl_request(&M.nl, VFIO_CXX_CMD_GET_MAPPINGS, 1, M.nlid[c], mp_nl_map_cb, &l, why,
				  sizeof(why));
		M.nldumps++;
		if (r < 0)
			MPF("%s: GET_MAPPINGS %llu: %d %s", when, (unsigned long long)M.nlid[c], r,
			    r == MP_NL_MALFORMED ? why : strerror(-r));
		for (int z = 0; z < M.nzones; z++) {
			struct mp_zone *Z = &M.z[z];

			if (Z->c != c)
				continue;
			for (int s = 0; s < MP_ZPAGES; s++) {
				struct mp_map *m = &Z->m[s];
				struct mp_nl_range *g = &l.r[k];
				uint64_t want_pinned = c == 0 && !m->region ? (uint64_t)m->len : 0;
				uint32_t want_flags = (c == 0 ? VFIO_CXX_MAP_F_IOMMU_MAPPED : 0) |
						      (m->inv ? VFIO_CXX_MAP_F_VADDR_INVALID : 0);
				char what[96];

				if (!m->len)
					continue;
				if (k++ >= l.n)
					MPF("%s: container %d: GET_MAPPINGS ends before z%d [%d+%d)", when, c,
					    z, s, m->len);
				snprintf(what, sizeof(what), "%s: container %d mapping z%d [%d+%d)", when, c, z,
					 s, m->len);
				/* A prereg-backed mapping's pages are the region's: pinned once, there. */
				if (g->start != MP_IOVA(z) + (uint64_t)s * PG || g->size != (uint64_t)m->len * PG ||
				    g->vaddr != MP_ZVA(z) + (uint64_t)m->va * PG ||
				    g->prot != (m->ro ? 1U : 3U) || g->flags != want_flags ||
				    (m->region ? g->pinned != 0 && g->pinned != (uint64_t)m->len :
						 g->pinned != want_pinned) ||
				    g->ext != (c == 1 ? (uint64_t)mp_pinned_pages(Z, s) : 0) ||
				    g->locked != (uint64_t)mp_locked(Z, s))
					MPF("%s (va %d, %s, owner mm %d %s%s): netlink has iova %#llx size %#llx "
					    "vaddr %#llx prot %u flags %#x pinned %llu external %llu locked %llu",
					    what, m->va, m->ro ? "ro" : "rw", m->owner,
					    M.mm[m->owner].alive ? "alive" : "dead",
					    m->region ? ", prereg-backed" : "", (unsigned long long)g->start,
					    (unsigned long long)g->size, (unsigned long long)g->vaddr, g->prot,
					    g->flags, (unsigned long long)g->pinned, (unsigned long long)g->ext,
					    (unsigned long long)g->locked);
				if (mp_bind(m->owner, g->mm, what))
					return -1;
				pinned += want_pinned;
				ext += g->ext;
				locked += g->locked;
				bytes += g->size;
				orphans += !M.mm[m->owner].alive;
			}
		}
		if (k != l.n)
			MPF("%s: container %d: GET_MAPPINGS has %d mappings, the model %d", when, c, l.n, k);
		/*
		 * The orphan count is taken when the container lock is free,
		 * else the last one is shown (the dumper may hold the lock):
		 * ask again until it is a fresh one.
		 */
		for (int i = 0; i < 200 && l.c.orphaned != orphans; i++) {
			usleep(5000);
			r = mp_nl_request(&M.nl, VFIO_CXX_CMD_GET_CONTAINER, 0, M.nlid[c],
					  mp_nl_container_cb, &l, why, sizeof(why));
			M.nldumps++;
			if (r != 1)
				MPF("%s: GET_CONTAINER %llu: %d %s", when, (unsigned long long)M.nlid[c], r,
				    r == MP_NL_MALFORMED ? why : strerror(-r));
		}
		/* The container's pinned pages are its own pins: a region's are counted there. */
		if (l.c.mappings != (uint64_t)k || l.c.bytes != bytes || l.c.pinned != pinned ||
		    l.c.ext != ext || l.c.locked != locked || l.c.orphaned != orphans ||
		    l.c.prereg != (c == 0 ? (uint64_t)mp_regions_pages() : 0) || l.c.groups != 1 ||
		    l.c.domains != (c == 0 ? 1U : 0U) || l.c.tgid != (uint32_t)getpid() ||
		    l.c.type != (c == 0 && M.cxx ? VFIO_CXX_IOMMU : VFIO_TYPE1v2_IOMMU))
			MPF("%s: GET_CONTAINER %d: mappings %llu/%d bytes %llu/%llu pinned %llu/%llu "
			    "external %llu/%llu locked %llu/%llu orphaned %llu/%llu prereg %llu/%ld groups %u "
			    "domains %u (netlink/model)", when, c, (unsigned long long)l.c.mappings, k,
			    (unsigned long long)l.c.bytes, (unsigned long long)bytes,
			    (unsigned long long)l.c.pinned, (unsigned long long)pinned,
			    (unsigned long long)l.c.ext, (unsigned long long)ext,
			    (unsigned long long)l.c.locked, (unsigned long long)locked,
			    (unsigned long long)l.c.orphaned, (unsigned long long)orphans,
			    (unsigned long long)l.c.prereg, c == 0 ? mp_regions_pages() : 0, l.c.groups,
			    l.c.domains);
		if (c != 0)
			continue;
		/* The regions, in vaddr order: the zones' windows are in order. */
		l.n = 0;
		r = mp_nl_request(&M.nl, VFIO_CXX_CMD_GET_PREREGS, 1, M.nlid[c], mp_nl_prereg_cb, &l, why,
				  sizeof(why));
		M.nldumps++;
		if (r < 0)
			MPF("%s: GET_PREREGS: %d %s", when, r, r == MP_NL_MALFORMED ? why : strerror(-r));
		k = 0;
		for (int z = 0; z < 4; z++)
			for (int p = 0; p < MP_ZPAGES; p++)
				for (int i = 0; i < M.z[z].nreg; i++) {
					struct region *g = &M.z[z].reg[i];
					struct mp_nl_range *e = &l.r[k];
					char what[96];

					if (g->start != p)
						continue;
					snprintf(what, sizeof(what), "%s: region z%d [%d+%d)", when, z, g->start,
						 g->n);
					if (k++ >= l.n)
						MPF("%s: not in GET_PREREGS", what);
					if (e->start != MP_ZVA(z) + (uint64_t)p * PG ||
					    e->size != (uint64_t)g->n * PG || e->pinned != (uint64_t)g->n ||
					    e->users != (uint64_t)g->users)
						MPF("%s (%d users): netlink has vaddr %#llx size %#llx pinned %llu "
						    "users %llu", what, g->users, (unsigned long long)e->start,
						    (unsigned long long)e->size, (unsigned long long)e->pinned,
						    (unsigned long long)e->users);
					if (mp_bind(M.prereg_owner, e->mm, what))
						return -1;
				}
		if (k != l.n)
			MPF("%s: GET_PREREGS has %d regions, the model %d", when, l.n, k);
	}
	return 0;
}

static int mp_check(const char *when)
{
	long dmas = 0, pinned = 0, ext = 0, pins = 0, v = -1, want = 0, prereg, live, got[6];
	int bad = -1;

	if (mp_drain())
		return -1;
	M.checks++;
	/*
	 * VmLck of every live mm.  S6: charges and uncharges are applied by
	 * the time the ioctl returns, so the first look must see them; a
	 * second chance only tells "late" from "wrong".
	 */
	int tries;

	for (tries = 0; tries < 300; tries++) {
		bad = -1;
		for (int i = 0; i < MP_MAXW && bad < 0; i++)
			if (M.w[i].alive) {
				want = KB(mp_charge(M.w[i].mm));
				v = vmlck_kb_pid(M.w[i].pid);
				if (v != want)
					bad = i;
			}
		if (bad < 0)
			break;
		usleep(10000);
	}
	if (bad >= 0)
		MPF("%s (round %ld step %ld): VmLck of worker %d (pid %d, mm %d) %ld kB, model %ld kB",
		    when, M.round, M.step, bad, M.w[bad].pid, M.w[bad].mm, v, want);
	if (tries)
		MPF("%s (round %ld step %ld): VmLck of the workers right only after %d ms (S6)", when,
		    M.round, M.step, tries * 10);
	for (int z = 0; z < M.nzones; z++)
		for (int s = 0; s < MP_ZPAGES; s++) {
			pins += M.z[z].pin[s];
			if (!M.z[z].m[s].len)
				continue;
			dmas++;
			if (M.z[z].c == 0 && !M.z[z].m[s].region)
				pinned += M.z[z].m[s].len;
			if (M.z[z].c == 1)
				ext += mp_pinned_pages(&M.z[z], s);
		}
	if (!M.ours)	/* vfio_iommu_type1 serves both: ours must not move */
		dmas = pinned = ext = 0;
	if (!M.ours)
		prereg = live = 0;
	else
		prereg = mp_regions_pages(), live = M.nc;
	got[0] = stat_get("dmas_live") - M.dmas0;
	got[1] = stat_get("pages_pinned") - M.pinned0;
	got[2] = stat_get("prereg_pages") - M.prereg0;
	got[3] = stat_get("external_pages") - M.ext0;
	got[4] = stat_get("containers_live") - M.live0;
	got[5] = stat_get("mm_exits") - M.mmexits0;
	if (got[0] != dmas || got[1] != pinned || got[2] != prereg || got[3] != ext ||
	    got[4] != live || got[5] != M.watch_exits)
		MPF("%s (round %ld step %ld): since the baseline, dmas_live %+ld/%+ld pages_pinned "
		    "%+ld/%+ld prereg_pages %+ld/%+ld external_pages %+ld/%+ld containers_live %+ld/%+ld "
		    "mm_exits %+ld/%+ld (module/model)", when, M.round, M.step, got[0], dmas, got[1],
		    pinned, got[2], prereg, got[3], ext, got[4], live, got[5], M.watch_exits);
	if (M.m.dev >= 0 && (long long)reg_r(&M.m, MTEST_REG_PINNED) != pins)
		MPF("%s (round %ld step %ld): the device holds %lld pins, model %ld", when, M.round,
		    M.step, (long long)reg_r(&M.m, MTEST_REG_PINNED), pins);
	if (M.ours)
		return mp_check_netlink(when);
	return 0;
}

/* ---- rounds ------------------------------------------------------------------ */

static int mp_set_policy(int c)
{
	struct vfio_cxx_exit_policy e = { .argsz = sizeof(e), .policy = (uint32_t)M.policy };

	return ioctl(c, VFIO_CXX_EXIT_POLICY, &e) ? -errno : 0;
}

static int mp_round_setup(int with_mdev)
{
	unsigned long type0 = M.cxx ? VFIO_CXX_IOMMU : VFIO_TYPE1v2_IOMMU;
	int r;

	memset(M.z, 0, sizeof(M.z));
	for (int z = 0; z < MP_NZONES; z++)
		M.z[z].c = z < 4 ? 0 : 1;
	M.prereg_owner = -1;
	M.nc = with_mdev ? 2 : 1;
	M.nzones = with_mdev ? MP_NZONES : 4;
	M.fd[0] = open("/dev/vfio/vfio", O_RDWR);
	M.group = edu_group_open();
	if (M.fd[0] < 0 || M.group < 0)
		MPF("round %ld: open: %s", M.round, strerror(errno));
	if ((r = set_container(M.group, M.fd[0])) ||
	    (r = ioctl(M.fd[0], VFIO_SET_IOMMU, type0) ? -errno : 0) ||
	    (M.cxx && (r = mp_set_policy(M.fd[0]))))
		MPF("round %ld: container 0: %s", M.round, strerror(-r));
	if (with_mdev) {
		M.fd[1] = open("/dev/vfio/vfio", O_RDWR);
		if (M.fd[1] < 0 || mdev_create(&M.m))
			MPF("round %ld: container 1 / the test mdev: %s", M.round, strerror(errno));
		if ((r = set_container(M.m.group, M.fd[1])) ||
		    (r = ioctl(M.fd[1], VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0) ||
		    (M.cxx && (r = mp_set_policy(M.fd[1]))) || (r = mdev_open_dev(&M.m)))
			MPF("round %ld: container 1: %d (%s)", M.round, r, r < 0 ? strerror(-r) : "");
	}
	if (M.ours) {
		static struct mp_nl_list l;
		char why[200];

		memset(&l, 0, sizeof(l));
		M.nlid[0] = M.nlid[1] = 0;
		r = mp_nl_request(&M.nl, VFIO_CXX_CMD_GET_CONTAINER, 1, 0, mp_nl_container_cb, &l, why,
				  sizeof(why));
		if (r < 0 || l.containers != M.nc || !M.nlid[0] || (with_mdev && !M.nlid[1]))
			MPF("round %ld: the containers in the GET_CONTAINER dump: %d, %d found %s", M.round, r,
			    l.containers, r == MP_NL_MALFORMED ? why : "");
		M.last_id = M.nlid[0] > M.nlid[1] ? M.nlid[0] : M.nlid[1];
	}
	/* Two fresh workers with every fd over SCM_RIGHTS, and a fork of one. */
	for (int i = 0; i < 2; i++) {
		int slot = mp_free_slot(), sock, mm;
		pid_t pid = mp_exec_worker(&sock);

		if (pid < 0)
			return -1;
		mm = mp_new_mm();
		if (mm < 0 || mp_adopt_worker(slot, sock, pid, mm, NULL))
			MPF("round %ld: the first workers (%s)", M.round, M.fail[0] ? M.fail : "fork");
		for (int c = 0; c < M.nc; c++)
			if (mp_pass(slot, c))
				return -1;
		M.spawns++;
	}
	return mp_op_fork() < 0 ? -1 : 0;
}

/* Every worker goes, every fd closes: the module must be back at its baseline. */
static int mp_round_end(void)
{
	int close_first = mp_rn(2), kill_every = mp_rn(3) == 0;

	if (mp_check("round end"))
		return -1;
	/* Half the rounds the workers hold the last container fds. */
	if (close_first)
		for (int c = 0; c < M.nc; c++) {
			close(M.fd[c]);
			M.fd[c] = -1;
		}
	for (int i = 0; i < MP_MAXW; i++)
		if (M.w[i].alive && mp_end_worker(i, kill_every || mp_rn(4) == 0))
			return -1;
	if (mp_check("after every worker of the round went"))
		return -1;
	mdev_close_dev(&M.m);
	for (int c = 0; c < M.nc; c++)
		if (M.fd[c] >= 0)
			close(M.fd[c]);
	M.fd[0] = M.fd[1] = -1;
	close(M.group);
	M.group = -1;
	mdev_destroy(&M.m);
	M.m.dev = M.m.group = -1;
	mp_reap();
	/*
	 * Everything is given back at the last close; the container object
	 * itself goes with its last reference, and the background netlink
	 * dumper may hold one for the dump part in flight: wait (bounded) for
	 * that one, never for anything else.
	 */
	for (int i = 0; i < 300 && stat_get("containers_live") != M.live0; i++)
		usleep(10000);
	if (stat_get("dmas_live") != M.dmas0 || stat_get("pages_pinned") != M.pinned0 ||
	    stat_get("prereg_pages") != M.prereg0 || stat_get("external_pages") != M.ext0 ||
	    stat_get("containers_live") != M.live0 || vmlck_kb() != M.vmlck0)
		MPF("round %ld: after every fd closed: dmas_live %ld/%ld pages_pinned %ld/%ld prereg_pages "
		    "%ld/%ld external_pages %ld/%ld containers_live %ld/%ld VmLck %ld/%ld (now/baseline)",
		    M.round, stat_get("dmas_live"), M.dmas0, stat_get("pages_pinned"), M.pinned0,
		    stat_get("prereg_pages"), M.prereg0, stat_get("external_pages"), M.ext0,
		    stat_get("containers_live"), M.live0, vmlck_kb(), M.vmlck0);
	return 0;
}

/* After a failure: every worker killed, every fd closed, so that the next tests run. */
static void mp_cleanup(void)
{
	for (int i = 0; i < MP_MAXW; i++)
		if (M.w[i].alive) {
			kill(M.w[i].pid, SIGKILL);
			close(M.w[i].sock);
			M.w[i].alive = 0;
		}
	mdev_close_dev(&M.m);
	for (int c = 0; c < MP_NC; c++)
		if (M.fd[c] >= 0)
			close(M.fd[c]);
	M.fd[0] = M.fd[1] = -1;
	if (M.group >= 0)
		close(M.group);
	M.group = -1;
	mdev_destroy(&M.m);
	M.m.dev = M.m.group = -1;
	mp_reap();
}

FIXTURE(mp) {
	int unused;
};

FIXTURE_VARIANT(mp) {
	int v;
};

/* Type1 semantics: a dead mm's mappings stay until unmapped or closed. */
FIXTURE_VARIANT_ADD(mp, keep) {
	.v = MPV_KEEP,
};

/* S2: an mm's exit or exec releases what it owns, but its vaddr-invalid mappings. */
FIXTURE_VARIANT_ADD(mp, release) {
	.v = MPV_RELEASE,
};

/*
 * The differential pair (scripts/differential.py): the same workload and
 * random sequence, Type1v2 containers without prereg or an exit policy,
 * served by vfio_iommu_type1 ("type1") and by us ("cxx", which also checks
 * our counters and the netlink view at every checkpoint).
 */
FIXTURE_VARIANT_ADD(mp, type1) {
	.v = MPV_TYPE1,
};

FIXTURE_VARIANT_ADD(mp, cxx) {
	.v = MPV_CXX,
};

FIXTURE_SETUP(mp)
{
	if (!module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	if (variant->v == MPV_TYPE1)
		ASSERT_EQ(0, write_str(PARAM_CLAIM, "0"));
}

FIXTURE_TEARDOWN(mp)
{
	if (variant->v == MPV_TYPE1)
		write_str(PARAM_CLAIM, "1");
}

/*
 * Issue 11, "the fuzzer becomes multi-process"; S1 (prereg + UPDATE_VADDR),
 * S2 (RELEASE at exit and exec), S3 (the charge moves with UPDATE_VADDR).
 */
TEST_F_TIMEOUT(mp, issue11_multi_process, 360)
{
	static const char *const vname[] = { "keep", "release", "type1", "cxx" };
	const char *e;
	unsigned long seed = (e = getenv("VFIO_CXX_FUZZ_SEED")) ? strtoul(e, NULL, 0) : 1;
	long steps = (e = getenv("VFIO_CXX_FUZZ_MP_STEPS")) ? atol(e) : 1500;
	long rounds = (e = getenv("VFIO_CXX_FUZZ_MP_ROUNDS")) ? atol(e) : 3;
	long seconds = (e = getenv("VFIO_CXX_FUZZ_MP_SECONDS")) ? atol(e) : 120;
	long long t0 = now_ms(), deadline = t0 + seconds * 1000;
	int with_mdev = access(MTEST_CREATE, W_OK) == 0, stop[2] = { -1, -1 }, res[2] = { -1, -1 };
	struct mp_dump dump;
	pid_t dumper = -1;
	long total = 0;

	memset(&M, 0, sizeof(M));
	memset(&dump, 0, sizeof(dump));
	M.variant = variant->v;
	/* cxx: our extensions (VFIO_CXX_IOMMU, prereg, exit policy); ours: we serve the containers */
	M.cxx = variant->v == MPV_KEEP || variant->v == MPV_RELEASE;
	M.ours = variant->v != MPV_TYPE1;
	M.policy = variant->v == MPV_RELEASE ? VFIO_CXX_EXIT_RELEASE : VFIO_CXX_EXIT_KEEP;
	/* The differential pair draws the same random sequence. */
	M.rng = (seed + 1) * 0x9e3779b97f4a7c15ULL +
		(uint64_t)((variant->v == MPV_CXX ? MPV_TYPE1 : variant->v) + 11) * 0xbf58476d1ce4e5b9ULL;
	M.fd[0] = M.fd[1] = M.group = -1;
	M.m.dev = M.m.group = -1;
	M.mm = calloc(MP_MAXMM, sizeof(*M.mm));
	ASSERT_NE(NULL, M.mm);
	ASSERT_LE(0, edu_group_number()) TH_LOG("VFIO_CXX_GROUP is not set");
	if (rounds < 1)
		rounds = 1;
	/* Orphaned workers (a worker's children after it went) come back to us to be reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	M.vmlck0 = vmlck_kb();
	M.dmas0 = stat_get("dmas_live");
	M.pinned0 = stat_get("pages_pinned");
	M.prereg0 = stat_get("prereg_pages");
	M.ext0 = stat_get("external_pages");
	M.live0 = stat_get("containers_live");
	M.mmexits0 = stat_get("mm_exits");
	ASSERT_LE(0, M.dmas0);
	if (M.ours) {
		ASSERT_EQ(0, mp_nl_open(&M.nl)) TH_LOG("the vfio_cxx netlink family");
		mp_iova_lo = MP_IOVA(0);
		mp_iova_hi = MP_IOVA_END;
		ASSERT_EQ(0, pipe2(stop, O_CLOEXEC));
		ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
		dumper = fork();
		ASSERT_LE(0, dumper);
		if (dumper == 0) {
			/* Nothing of the coordinator's but the two pipes: it holds no container. */
			dup2(stop[0], 3);
			dup2(res[1], 4);
			syscall(SYS_close_range, 5, ~0U, 0);
			mp_dumper(3, 4, getppid());
		}
		close(stop[0]);
		close(res[1]);
	}
	for (M.round = 1; M.round <= rounds && !M.fail[0]; M.round++) {
		long n = (steps - total) / (rounds - M.round + 1);

		if (mp_round_setup(with_mdev))
			break;
		for (long i = 0; i < n && !M.fail[0]; i++) {
			M.step = ++total;
			if (mp_step())
				break;
			if (i % MP_CHECK_EVERY == MP_CHECK_EVERY - 1 && mp_check("checkpoint"))
				break;
			if (now_ms() > deadline)
				break;
		}
		if (M.fail[0] || mp_round_end())
			break;
		if (now_ms() > deadline) {
			TH_LOG("time limit (%ld s) reached after %ld of %ld steps, round %ld", seconds, total,
			       steps, M.round);
			break;
		}
	}
	if (M.fail[0]) {
		printf("# fuzz_mp(%s): seed %lu: FAILED: %s\n", vname[M.variant], seed, M.fail);
		for (int i = 0; i < 8; i++)
			if (M.last[(M.nlast + i) % 8][0])
				printf("#   before it: %s\n", M.last[(M.nlast + i) % 8]);
		fflush(stdout);
		mp_cleanup();
	}
	if (dumper > 0) {
		close(stop[1]);
		if (!mp_wait_readable(res[0], MP_WAIT_MS) || read(res[0], &dump, sizeof(dump)) != sizeof(dump))
			snprintf(dump.fail, sizeof(dump.fail), "the dumper did not report");
		close(res[0]);
		kill(dumper, SIGKILL);
		waitpid(dumper, NULL, 0);
	}
	mp_reap();
	printf("# metric fuzz_mp_processes %s %ld\n", vname[M.variant], M.procs);
	printf("# metric fuzz_mp_forks %s %ld\n", vname[M.variant], M.forks);
	printf("# metric fuzz_mp_scm_rights %s %ld\n", vname[M.variant], M.passes);
	printf("# metric fuzz_mp_execs %s %ld\n", vname[M.variant], M.execs);
	printf("# metric fuzz_mp_exits %s %ld\n", vname[M.variant], M.exits + M.kills);
	printf("# metric fuzz_mp_vaddr_moves %s %ld\n", vname[M.variant], M.moves);
	printf("# metric fuzz_mp_ioctls %s %ld\n", vname[M.variant], M.ioctls);
	printf("# metric fuzz_mp_netlink_dumps %s %ld\n", vname[M.variant],
	       dump.containers + dump.mappings + dump.preregs + M.nldumps);
	for (int op = 0; op < MPO_N; op++)
		printf("# fuzz_mp: %-12s %6ld done, %6ld refused as the model predicted\n", mp_op_name[op],
		       M.done[op][0], M.done[op][1]);
	printf("# fuzz_mp(%s): seed %lu, %ld rounds, %ld steps: %ld processes (%ld spawned, %ld forks, "
	       "%ld execs), %ld SCM_RIGHTS passes, %ld fd closes, %ld exits + %ld SIGKILLs, %ld "
	       "cross-process UPDATE_VADDR moves (+%ld restores), %ld ioctls, %ld device pin/unpin, "
	       "%ld checkpoints, netlink: %ld checkpoint requests, dumper %ld stats + %ld container "
	       "dumps + %ld mapping dumps + %ld prereg dumps (%ld messages, %ld ENOENT), in %lld ms\n"
	       "# fuzz_mp(%s): S1: %ld prereg-backed vaddr moves, %ld EPERM (other mm), %ld EINVAL "
	       "(outside the regions); S2: %ld mappings and %ld regions released at exits, %ld "
	       "vaddr-invalid mappings kept; S3: %ld adoptions from a dead mm; %ld SIGKILLs in "
	       "flight (%ld found done, %ld not done)\n",
	       vname[M.variant], seed, M.round - 1, total,
	       M.procs, M.spawns, M.forks, M.execs, M.passes, M.closes, M.exits, M.kills, M.moves,
	       M.restores, M.ioctls, M.pins, M.checks, M.nldumps, dump.stats, dump.containers,
	       dump.mappings, dump.preregs, dump.msgs, dump.enoent, now_ms() - t0, vname[M.variant],
	       M.s1_moves, M.s1_eperm, M.s1_einval, M.released, M.regions_released, M.kept,
	       M.adopt_dead, M.kills_mid, M.kill_done, M.kill_undone);
	fflush(stdout);
	EXPECT_STREQ("", M.fail);
	EXPECT_STREQ("", dump.fail);
	if (!M.fail[0]) {
		/* The paths the test is for were taken. */
		EXPECT_LT(0, M.forks);
		EXPECT_LT(0, M.passes);
		EXPECT_LT(0, M.execs);
		EXPECT_LT(0, M.exits + M.kills);
		EXPECT_LT(0, M.moves);
		if (M.ours)
			EXPECT_LT(0, dump.mappings);
		/* With the default budget or more, the semantics the test is for came up. */
		if (M.cxx && total >= 1000) {
			EXPECT_LT(0, M.s1_moves + M.s1_eperm + M.s1_einval);
			EXPECT_LT(0, M.kills_mid);
		}
		if (M.variant == MPV_RELEASE && total >= 1000) {
			EXPECT_LT(0, M.released);
			EXPECT_LT(0, M.kept);
			EXPECT_LT(0, M.s1_moves);
		}
	}
	EXPECT_EQ(M.vmlck0, vmlck_kb());
	free(M.mm);
}

/* ------------------------------------------------------------------ */
/* the sPAPR TCE v2 API (issue 14), model-checked                        */

/*
 * One VFIO_SPAPR_TCE_v2_IOMMU container with the edu group, driven by one
 * thread with random REGISTER/UNREGISTER, CREATE/REMOVE (the pending
 * default window included), MAP (replacing valid TCEs) and UNMAP of random
 * ranges, GET_INFO, EEH and malformed requests, each checked against a
 * model for its exact errno; forked children (another mm) whose every
 * ioctl must be EPERM once the container is bound; edu DMA through two
 * TCEs of the model, bytes checked; and every SP_CHECK calls VmLck = the
 * regions' pages + the window's table charge, prereg_pages = the regions'.
 * VFIO_CXX_FUZZ_SEED seeds it; it makes VFIO_CXX_FUZZ_CALLS / 10 calls
 * (at most 30 s).
 */
#define SP_PAGES	128		/* user memory, in pages */
#define SP_TCES		512		/* TCEs the model tracks: bus [0, 2 MiB) */
#define SP_CHECK	500
#define SP_NREG		16

static struct {
	int c, g;
	struct edu_dev edu;
	unsigned char *mem;
	struct zone z;			/* rng, calls, fail */
	int bound, enabled, pending;
	uint64_t win;			/* window size (0: none) */
	long win_pages;			/* its table charge */
	uint64_t dma32;
	struct region reg[SP_NREG];
	int nreg;
	int tce[SP_TCES];		/* mem page + 1, 0 clear */
	int tce_w[SP_TCES];		/* writable */
	long vmlck0, prereg0;
	long n_ok, n_err, forks, dmas, replaced;
} S;

/* pnv_pci_ioda2_get_table_size() >> PAGE_SHIFT, as the module charges a window. */
static long sp_table_pages(unsigned int shift, uint64_t size, unsigned int levels)
{
	unsigned long bytes = 0, tce, direct;
	unsigned int es, ts;

	if (!levels || levels > 5 || !size || (size & (size - 1)) || size < (1ULL << shift))
		return 0;
	es = __builtin_ctzll(size) - shift;
	tce = 1UL << (es + 3);
	if (tce < 0x1000)
		tce = 0x1000;
	es = (es + levels - 1) / levels;
	ts = es + 3 < 12 ? 12 : es + 3;
	direct = 1UL << ts;
	for (; levels; levels--) {
		bytes += (tce + direct - 1) & ~(direct - 1);
		tce = tce / direct * 8;
		if (tce < direct)
			tce = direct;
	}
	return (long)(2 * bytes / PG);
}

static int sp_region_exact(int st, int n)
{
	for (int i = 0; i < S.nreg; i++)
		if (S.reg[i].start == st && S.reg[i].n == n)
			return i;
	return -1;
}

static int sp_region_of(int page)
{
	for (int i = 0; i < S.nreg; i++)
		if (page >= S.reg[i].start && page < S.reg[i].start + S.reg[i].n)
			return i;
	return -1;
}

static void sp_clear(int first, int n)
{
	for (int i = first; i < first + n && i < SP_TCES; i++)
		if (S.tce[i]) {
			S.reg[sp_region_of(S.tce[i] - 1)].users--;
			S.tce[i] = 0;
		}
}

/* The pending default window is made now (MAP, UNMAP, CREATE). */
static void sp_default(void)
{
	if (!S.pending)
		return;
	S.pending = 0;
	S.win = S.dma32;
	S.win_pages = sp_table_pages(12, S.dma32, 1);
}

static long sp_io(unsigned long cmd, void *arg)
{
	return ioctl(S.c, cmd, arg) ? -errno : 0;
}

static int sp_op_register(int unreg)
{
	struct zone *z = &S.z;
	int st = rn(z, SP_PAGES), n = 1 + rn(z, 16), k;
	struct vfio_iommu_spapr_register_memory r = { .argsz = sizeof(r) };
	long want;

	if (unreg && S.nreg && rn(z, 3)) {
		k = rn(z, S.nreg);
		st = S.reg[k].start;
		n = S.reg[k].n;
	}
	if (st + n > SP_PAGES)
		n = SP_PAGES - st;
	r.vaddr = (uintptr_t)(S.mem + (size_t)st * PG);
	r.size = (uint64_t)n * PG;
	if (rn(z, 20) == 0)
		r.flags = 1;
	if (rn(z, 20) == 0)
		r.vaddr += 8;
	if (unreg) {
		k = sp_region_exact(st, n);
		want = !S.bound ? -EPERM : (r.flags || (r.vaddr & (PG - 1))) ? -EINVAL :
		       k < 0 ? -ENOENT : S.reg[k].users ? -EBUSY : 0;
		EXPECT_RET(z, "UNREGISTER", want, sp_io(VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r));
		if (!want) {
			S.reg[k] = S.reg[--S.nreg];
		}
		return want ? 1 : 0;
	}
	S.bound = 1; /* bound before the arguments are read */
	want = (r.flags || (r.vaddr & (PG - 1))) ? -EINVAL : 0;
	if (!want) {
		if (sp_region_exact(st, n) >= 0)
			want = -EBUSY;
		else
			for (int i = 0; i < S.nreg; i++)
				if (st < S.reg[i].start + S.reg[i].n && st + n > S.reg[i].start)
					want = -EINVAL;
		if (!want && S.nreg == SP_NREG)
			return 2; /* the model is full */
	}
	EXPECT_RET(z, "REGISTER", want, sp_io(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &r));
	if (!want) {
		S.reg[S.nreg++] = (struct region){ .start = st, .n = n };
		S.enabled = 1;
	}
	return want ? 1 : 0;
}

static int sp_op_window(int remove)
{
	struct zone *z = &S.z;
	static const uint64_t sizes[] = { 1UL << 20, 2UL << 20, 1UL << 30, 3UL << 20, 1UL << 33 };
	long want;

	S.bound = 1;
	if (remove) {
		struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm) };

		rm.start_addr = rn(z, 8) ? 0 : PG;
		if (rn(z, 30) == 0)
			rm.flags = 1;
		if (rm.flags)
			want = -EINVAL;
		else if (S.pending && !rm.start_addr)
			want = 0;
		else
			want = S.win && !rm.start_addr ? 0 : -EINVAL;
		EXPECT_RET(z, "REMOVE", want, sp_io(VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm));
		if (!want && S.pending && !rm.start_addr) {
			S.pending = 0;
		} else if (!want) {
			sp_clear(0, SP_TCES);
			S.win = 0;
			S.win_pages = 0;
		}
		return want ? 1 : 0;
	}
	struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof(cr) };

	cr.page_shift = rn(z, 6) ? 12 : 16;
	cr.window_size = sizes[rn(z, 5)];
	cr.levels = rn(z, 7);
	if (rn(z, 30) == 0)
		cr.flags = 1;
	if (cr.flags) {
		want = -EINVAL;
	} else {
		sp_default();
		long pages = sp_table_pages(cr.page_shift, cr.window_size, cr.levels);

		want = S.win ? -ENOSPC : cr.page_shift != 12 || !pages ? -EINVAL :
		       cr.window_size > S.dma32 ? -EINVAL : 0;
		if (!want) {
			S.win = cr.window_size;
			S.win_pages = pages;
		}
	}
	EXPECT_RET(z, "CREATE", want, sp_io(VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
	if (!want && cr.start_addr)
		FAIL(z, "call %ld: CREATE: start_addr 0x%llx", z->calls, (unsigned long long)cr.start_addr);
	return want ? 1 : 0;
}

static int sp_op_map(int unmap)
{
	struct zone *z = &S.z;
	int first = rn(z, SP_TCES - 8), n = 1 + rn(z, 8), va = rn(z, SP_PAGES), fl = rn(z, 8);
	uint32_t flags = fl < 3 ? VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE :
			 fl < 5 ? VFIO_DMA_MAP_FLAG_READ : fl < 6 ? VFIO_DMA_MAP_FLAG_WRITE :
			 fl < 7 ? 0 : VFIO_DMA_MAP_FLAG_VADDR;
	uint64_t iova = (uint64_t)first * PG;
	long want = 0;

	/* Mostly inside a region. */
	if (!unmap && S.nreg && rn(z, 4)) {
		struct region *g = &S.reg[rn(z, S.nreg)];

		va = g->start + rn(z, g->n);
		if (rn(z, 2) && n > g->start + g->n - va)
			n = g->start + g->n - va;
	}
	if (va + n > SP_PAGES)
		n = SP_PAGES - va;
	if (!S.enabled) {
		want = -EPERM;
	} else if (!unmap && (flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))) {
		want = -EINVAL;
	} else {
		sp_default();
		if (!S.win || iova >= S.win)
			want = -ENXIO;
		else if (!unmap && !flags)
			want = -EINVAL;
		else if (iova + (uint64_t)n * PG > S.win)
			want = -EINVAL;
		for (int i = 0; !want && !unmap && i < n; i++)
			if (sp_region_of(va + i) < 0)
				want = -EINVAL;
	}
	if (unmap) {
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova,
						       .size = (uint64_t)n * PG };

		EXPECT_RET(z, "UNMAP", want, sp_io(VFIO_IOMMU_UNMAP_DMA, &u));
		if (!want)
			sp_clear(first, n);
		return want ? 1 : 0;
	}
	EXPECT_RET(z, "MAP", want, dma_map(S.c, S.mem + (size_t)va * PG, iova, (uint64_t)n * PG, flags));
	if (!want)
		for (int i = 0; i < n && first + i < SP_TCES; i++) {
			if (S.tce[first + i])
				S.replaced++;
			sp_clear(first + i, 1);
			S.tce[first + i] = va + i + 1;
			S.tce_w[first + i] = !!(flags & VFIO_DMA_MAP_FLAG_WRITE);
			S.reg[sp_region_of(va + i)].users++;
		}
	return want ? 1 : 0;
}

static int sp_op_misc(void)
{
	struct zone *z = &S.z;
	struct vfio_iommu_spapr_tce_info i = { .argsz = sizeof(i) };
	struct vfio_eeh_pe_op op = { .argsz = sizeof(op), .op = VFIO_EEH_PE_ENABLE };

	switch (rn(z, 4)) {
	case 0:
		EXPECT_RET(z, "GET_INFO", 0, sp_io(VFIO_IOMMU_SPAPR_TCE_GET_INFO, &i));
		if (i.dma32_window_size != S.dma32 || i.ddw.pgsizes != PG || i.ddw.levels < 1)
			FAIL(z, "call %ld: GET_INFO: size 0x%x pgsizes 0x%llx levels %u", z->calls,
			     i.dma32_window_size, (unsigned long long)i.ddw.pgsizes, i.ddw.levels);
		return 0;
	case 1:
		EXPECT_RET(z, "EEH_PE_OP", -ENODEV, sp_io(VFIO_EEH_PE_OP, &op));
		return 1;
	case 2:
		EXPECT_RET(z, "ENABLE", -ENOTTY, sp_io(VFIO_IOMMU_ENABLE, NULL));
		return 1;
	default:
		i.argsz = 8;
		EXPECT_RET(z, "GET_INFO short", -EINVAL, sp_io(VFIO_IOMMU_SPAPR_TCE_GET_INFO, &i));
		return 1;
	}
}

static long sp_unmap_all_child(int c)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = 0, .size = PG };

	return ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

/* A forked child (another mm): every ioctl but CHECK_EXTENSION is EPERM once bound. */
static int sp_op_fork(void)
{
	struct zone *z = &S.z;
	pid_t pid;
	int st;

	if (!S.bound)
		return 2;
	pid = fork();
	if (pid < 0)
		FAIL(z, "fork: %s", strerror(errno));
	if (!pid) {
		struct vfio_iommu_spapr_tce_info i = { .argsz = sizeof(i) };
		struct vfio_iommu_spapr_register_memory r = { .argsz = sizeof(r),
			.vaddr = (uintptr_t)S.mem, .size = PG };
		int bad = sp_io(VFIO_IOMMU_SPAPR_TCE_GET_INFO, &i) != -EPERM;

		bad |= (sp_io(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &r) != -EPERM) << 1;
		bad |= (dma_map(S.c, S.mem, 0, PG, VFIO_DMA_MAP_FLAG_READ) != -EPERM) << 2;
		bad |= (sp_unmap_all_child(S.c) != -EPERM) << 3;
		bad |= (ioctl(S.c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU) != 1) << 4;
		_exit(bad);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		FAIL(z, "call %ld: another mm's ioctls: status 0x%x", z->calls, st);
	S.forks++;
	return 0;
}

/* edu DMA through two TCEs of the model: a readable one and a writable one. */
static int sp_op_dma(void)
{
	struct zone *z = &S.z;
	int src = -1, dst = -1, o = rn(z, SP_TCES);

	if (S.edu.dev < 0 || !S.win)
		return 2;
	for (int k = 0; k < SP_TCES && (src < 0 || dst < 0); k++) {
		int i = (o + k) % SP_TCES;

		if ((uint64_t)i * PG >= S.win || !S.tce[i])
			continue;
		if (src < 0)
			src = i;
		else if (dst < 0 && S.tce_w[i] && S.tce[i] != S.tce[src])
			dst = i;
	}
	if (src < 0 || dst < 0)
		return 2;
	unsigned char *a = S.mem + (size_t)(S.tce[src] - 1) * PG, *b = S.mem + (size_t)(S.tce[dst] - 1) * PG;

	fill(a, EDU_XFER, (unsigned int)z->calls);
	memset(b, 0, PG);
	if (edu_dev_copy(&S.edu, (uint64_t)src * PG, (uint64_t)dst * PG))
		FAIL(z, "call %ld: edu DMA timed out", z->calls);
	if (!check(b, EDU_XFER, (unsigned int)z->calls))
		FAIL(z, "call %ld: DMA from TCE %d (page %d) to TCE %d (page %d): bytes differ", z->calls,
		     src, S.tce[src] - 1, dst, S.tce[dst] - 1);
	S.dmas++;
	return 0;
}

static int sp_check(const char *when)
{
	struct zone *z = &S.z;
	long pages = 0;

	for (int i = 0; i < S.nreg; i++)
		pages += S.reg[i].n;
	if (vmlck_kb() != S.vmlck0 + KB(pages + S.win_pages))
		FAIL(z, "%s (call %ld): VmLck %ld kB, the model says %ld kB (regions %ld, table %ld pages)",
		     when, z->calls, vmlck_kb(), S.vmlck0 + KB(pages + S.win_pages), pages, S.win_pages);
	if (stat_get("prereg_pages") != S.prereg0 + pages)
		FAIL(z, "%s (call %ld): prereg_pages %ld, the model says %ld", when, z->calls,
		     stat_get("prereg_pages"), S.prereg0 + pages);
	return 0;
}

TEST_F_TIMEOUT(fz, spapr_model_checked, 300)
{
	const char *e;
	unsigned long seed = (e = getenv("VFIO_CXX_FUZZ_SEED")) ? strtoul(e, NULL, 0) : 1;
	long total = ((e = getenv("VFIO_CXX_FUZZ_CALLS")) ? atol(e) : 200000) / 10;
	long long deadline = now_ms() + 30000;
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	int r;

	if (!module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	if (access(MODDIR "/parameters/spapr", F_OK))
		SKIP(return, "this vfio_iommu_cxx has no spapr parameter");
	memset(&S, 0, sizeof(S));
	S.z.rng = (seed + 7) * 0x9e3779b97f4a7c15ULL;
	S.edu.dev = -1;
	ASSERT_EQ(0, write_str(MODDIR "/parameters/spapr", "1"));
	S.mem = anon(SP_PAGES * PG);
	ASSERT_NE(MAP_FAILED, S.mem);
	S.vmlck0 = vmlck_kb();
	S.prereg0 = stat_get("prereg_pages");
	r = edu_container_open(VFIO_SPAPR_TCE_v2_IOMMU, &S.c, &S.g);
	ASSERT_EQ(0, r) TH_LOG("sPAPR container: %s", strerror(-r));
	ASSERT_EQ(0, sp_io(VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	S.dma32 = info.dma32_window_size;
	S.pending = 1;
	r = edu_dev_open(&S.edu, S.g);
	ASSERT_EQ(0, r) TH_LOG("edu device: step %d", r);
	while (S.z.calls < total && now_ms() < deadline && !S.z.fail[0]) {
		int k = rn(&S.z, 100), res;

		S.z.calls++;
		res = k < 12 ? sp_op_register(0) : k < 20 ? sp_op_register(1) : k < 26 ? sp_op_window(0) :
		      k < 30 ? sp_op_window(1) : k < 62 ? sp_op_map(0) : k < 80 ? sp_op_map(1) :
		      k < 91 ? sp_op_misc() : k < 92 ? sp_op_fork() : k < 95 ? sp_op_dma() : sp_op_misc();
		if (res == 0)
			S.n_ok++;
		else if (res == 1)
			S.n_err++;
		if (res >= 0 && S.z.calls % SP_CHECK == 0)
			sp_check("periodic check");
	}
	if (!S.z.fail[0])
		sp_check("at the end");
	printf("# spapr fuzz: seed %lu, %ld calls: %ld succeeded, %ld refused as predicted, "
	       "%ld TCEs replaced, %ld edu DMAs checked, %ld forked children\n",
	       seed, S.z.calls, S.n_ok, S.n_err, S.replaced, S.dmas, S.forks);
	edu_dev_close(&S.edu);
	close(S.g);
	close(S.c);
	write_str(MODDIR "/parameters/spapr", "0");
	EXPECT_STREQ("", S.z.fail);
	EXPECT_EQ(S.vmlck0, vmlck_kb()) TH_LOG("VmLck after close");
	EXPECT_EQ(S.prereg0, stat_get("prereg_pages"));
	if (total >= 1000 && !S.z.fail[0]) {
		EXPECT_LT(0, S.replaced);
		EXPECT_LT(0, S.dmas);
		EXPECT_LT(0, S.forks);
	}
	munmap(S.mem, SP_PAGES * PG);
}

TEST_HARNESS_MAIN
