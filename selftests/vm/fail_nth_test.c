// SPDX-License-Identifier: GPL-2.0
/*
 * fail_nth sweep of vfio_iommu_cxx, in the style of the kernel's
 * iommufd_fail_nth: each ioctl sequence below (set iommu, map, pin through
 * the test mdev, prereg register, unmap, close, ...) is run again and again
 * with the Nth fault-injection point of the task failing
 * (/proc/self/task/<tid>/fail-nth, failslab and fail_page_alloc armed for
 * every GFP), for N = 1, 2, ... until a run reaches its end without the
 * injection being consumed.  Every run must either stop at a step that
 * returned an errno or succeed; after its clean-up (with injection off)
 * VmLck, the module's counters and the test device's pin count must be back
 * at their baseline.  The kernel log is checked by the guest script
 * (debug-guest-run.sh: KASAN, lockdep, WARN, kmemleak); the stack dumps of
 * allocation failures between our "fail_nth: begin" and "end" markers are
 * expected and are not counted as reports.
 *
 * Needs the debug kernel (CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB,
 * FAIL_PAGE_ALLOC); elsewhere every test skips.  Prints, per sequence,
 * "# metric fail_nth_points <seq> <N>" (the injection points covered),
 * which summarize.py adds up.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <time.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "../../uapi/linux/vfio_cxx.h"

#pragma GCC diagnostic ignored "-Wclobbered"

#define NPAGES		16
#define IOVA		0x100000ULL
#define MAX_RUNS	20000U	/* a sequence that never completes is a failure */
#define PREREG_OFF	(NPAGES * PG)	/* second half of the buffer */

enum step {
	S_OPEN, S_SET_EDU, S_SET_MDEV, S_SET_IOMMU, S_INFO, S_MAP, S_REGISTER,
	S_MAP_PREREG, S_DIRTY_START, S_UNMAP_DIRTY, S_DIRTY_STOP, S_DEVFD, S_PIN,
	S_RW, S_UNPIN, S_UNMAP, S_UNMAP_PREREG, S_UNREGISTER, S_CLOSE_DEV,
	S_UNSET, S_CLOSE, S_END
};

static const char *const step_name[] = {
	"open", "set_container(edu)", "set_container(mdev)", "set_iommu", "get_info",
	"map", "register", "map_prereg", "dirty_start", "unmap_get_dirty",
	"dirty_stop", "get_device_fd", "pin", "dma_rw", "unpin", "unmap",
	"unmap_prereg", "unregister", "close_device", "unset_container", "close",
};

/* The counters of the stats file that must return to their baseline. */
static const char *const counters[] = {
	"containers_live", "groups_attached", "domains_live", "dmas_live",
	"pages_pinned", "external_pages", "devices_registered", "prereg_pages",
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

struct env {
	int nth;		/* /proc/self/task/<tid>/fail-nth */
	int edu;		/* edu group fd */
	struct mdev m;		/* m.group: the mdev group fd */
	unsigned char *buf;	/* 2 * NPAGES pages, faulted in */
	long vmlck0;
	long count0[NCOUNTERS];
	/* per run */
	int container;
	int edu_set, mdev_set;
};

static int arm(struct env *e, unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	return pwrite(e->nth, s, len, 0) == len ? 0 : -1;
}

/* Disarms; returns the count that was left (0: the injection happened). */
static long disarm(struct env *e)
{
	char s[16] = { 0 };
	ssize_t n = pread(e->nth, s, sizeof(s) - 1, 0);

	arm(e, 0);
	return n > 0 ? atol(s) : 0;
}

static int fault_attr(const char *attr, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", attr, file);
	return write_str(path, val);
}

/*
 * failslab and fail_page_alloc: every GFP (also GFP_KERNEL), order 0.  Every
 * fault attribute (fail_usercopy too: fail-nth counts the points of all of
 * them) quiet.
 */
static int setup_fault_injection(void)
{
	static const char *const attrs[] = {
		"failslab", "fail_page_alloc", "fail_usercopy", "fail_futex", "fail_function",
	};

	for (unsigned int i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (fault_attr(attrs[i], "verbose", "0") && i < 2)
			return -1;
	for (unsigned int i = 0; i < 2; i++)
		if (fault_attr(attrs[i], "ignore-gfp-wait", "N"))
			return -1;
	if (fault_attr("fail_page_alloc", "ignore-gfp-highmem", "N") ||
	    fault_attr("fail_page_alloc", "min-order", "0"))
		return -1;
	return 0;
}

static void kmsg(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, msg, strlen(msg)) < 0)
			perror("kmsg");
		close(fd);
	}
}

static int counters_now(long *v)
{
	for (unsigned int i = 0; i < NCOUNTERS; i++) {
		v[i] = stat_get(counters[i]);
		if (v[i] < 0)
			return -1;
	}
	return 0;
}

/* Returns the name of the first quantity not at its baseline, or NULL. */
static const char *off_baseline(struct env *e, char *why, size_t len)
{
	long v[NCOUNTERS];

	/* Deferred locked_vm updates run from a workqueue: give them time. */
	for (int tries = 0; tries < 200; tries++) {
		if (!counters_now(v) && !memcmp(v, e->count0, sizeof(v)) &&
		    vmlck_kb() == e->vmlck0)
			return NULL;
		usleep(10000);
	}
	if (vmlck_kb() != e->vmlck0) {
		snprintf(why, len, "VmLck %ld kB, baseline %ld kB", vmlck_kb(), e->vmlck0);
		return why;
	}
	counters_now(v);
	for (unsigned int i = 0; i < NCOUNTERS; i++)
		if (v[i] != e->count0[i]) {
			snprintf(why, len, "%s %ld, baseline %ld", counters[i], v[i], e->count0[i]);
			return why;
		}
	return why;
}

static int unmap_get_dirty(int c, uint64_t iova, uint64_t size)
{
	static uint64_t bitmap[NPAGES / 64 + 1];
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} a = {
		.u = { .argsz = sizeof(a), .flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
		       .iova = iova, .size = size },
		.b = { .pgsize = PG, .size = sizeof(bitmap), .data = (__u64 *)bitmap },
	};

	return ioctl(c, VFIO_IOMMU_UNMAP_DMA, &a) ? -errno : 0;
}

static int get_info(int c)
{
	static unsigned char info[4096];
	struct vfio_iommu_type1_info *i = (void *)info;

	i->argsz = sizeof(info);
	return ioctl(c, VFIO_IOMMU_GET_INFO, i) ? -errno : 0;
}

/* 0, or -errno; for the device commands the device's RESULT. */
static long do_step(struct env *e, enum step s)
{
	long long r;

	switch (s) {
	case S_OPEN:
		e->container = open("/dev/vfio/vfio", O_RDWR);
		return e->container < 0 ? -errno : 0;
	case S_SET_EDU:
		r = set_container(e->edu, e->container);
		e->edu_set = !r;
		return r;
	case S_SET_MDEV:
		r = set_container(e->m.group, e->container);
		e->mdev_set = !r;
		return r;
	case S_SET_IOMMU:
		return ioctl(e->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU) ? -errno : 0;
	case S_INFO:
		return get_info(e->container);
	case S_MAP:
		return map_rw(e->container, e->buf, IOVA, NPAGES * PG);
	case S_REGISTER:
		return prereg_ioctl(e->container, VFIO_CXX_REGISTER_MEMORY, e->buf + PREREG_OFF,
				    NPAGES * PG, 0);
	case S_MAP_PREREG:
		return map_rw(e->container, e->buf + PREREG_OFF, IOVA + PREREG_OFF, NPAGES * PG);
	case S_DIRTY_START:
		return dirty_flags(e->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
	case S_UNMAP_DIRTY:
		return unmap_get_dirty(e->container, IOVA, NPAGES * PG);
	case S_DIRTY_STOP:
		return dirty_flags(e->container, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
	case S_DEVFD:
		return mdev_open_dev(&e->m) ? (errno ? -errno : -EIO) : 0;
	case S_PIN:
		r = run_cmd(&e->m, MTEST_CMD_PIN, IOVA, 8, MTEST_PROT_READ | MTEST_PROT_WRITE, 0);
		if (r == LLONG_MIN)
			return errno ? -errno : -EIO;
		return r == 8 ? 0 : (r < 0 ? r : -ERANGE);
	case S_RW:
		r = run_cmd(&e->m, MTEST_CMD_RW_WRITE, IOVA + 2 * PG, 0, 0, 2 * PG);
		if (r == LLONG_MIN)
			return errno ? -errno : -EIO;
		return r;
	case S_UNPIN:
		r = run_cmd(&e->m, MTEST_CMD_UNPIN, IOVA, 4, 0, 0);
		if (r == LLONG_MIN)
			return errno ? -errno : -EIO;
		return r == 4 ? 0 : (r < 0 ? r : -ERANGE);
	case S_UNMAP:
		r = dma_unmap(e->container, IOVA, NPAGES * PG);
		return r < 0 ? r : (r == NPAGES * PG ? 0 : -ERANGE);
	case S_UNMAP_PREREG:
		r = dma_unmap(e->container, IOVA + PREREG_OFF, NPAGES * PG);
		return r < 0 ? r : (r == NPAGES * PG ? 0 : -ERANGE);
	case S_UNREGISTER:
		return prereg_ioctl(e->container, VFIO_CXX_UNREGISTER_MEMORY, e->buf + PREREG_OFF,
				    NPAGES * PG, 0);
	case S_CLOSE_DEV:
		mdev_close_dev(&e->m);
		return 0;
	case S_UNSET:
		if (e->edu_set && (r = unset_container(e->edu)))
			return r;
		e->edu_set = 0;
		if (e->mdev_set && (r = unset_container(e->m.group)))
			return r;
		e->mdev_set = 0;
		return 0;
	case S_CLOSE:
		r = close(e->container) ? -errno : 0;
		e->container = -1;
		return r;
	case S_END:
		break;
	}
	return -EINVAL;
}

/* Undoes whatever a run left, with injection off. */
static void cleanup(struct env *e)
{
	mdev_close_dev(&e->m);
	if (e->edu_set)
		unset_container(e->edu);
	if (e->mdev_set)
		unset_container(e->m.group);
	e->edu_set = e->mdev_set = 0;
	if (e->container >= 0)
		close(e->container);
	e->container = -1;
}

/*
 * Runs seq (S_END terminated) with the nth injection point failing (n = 0:
 * none).  Returns the index of the step that failed, or -1 if all passed;
 * *left gets what fail-nth had left (0: the injection was consumed).
 */
static int run(struct env *e, const enum step *seq, unsigned int n, long *err, long *left)
{
	int i, failed = -1;

	e->container = -1;
	*err = 0;
	if (n && arm(e, n))
		return -2;
	for (i = 0; seq[i] != S_END; i++) {
		/*
		 * Taking an IOMMU-backed group out of its container puts it
		 * back into its default domain through the IOMMU core's "must
		 * succeed" path (__iommu_group_set_domain_nofail), which WARNs
		 * when an allocation in the IOMMU driver fails: that is the
		 * kernel's contract, not ours to test.  The edu group's detach
		 * (our detach_group included) runs uninjected, and the sweep
		 * goes on after it with the count it had left; the mdev
		 * group's detach, which has no IOMMU domain, stays injected.
		 */
		if (seq[i] == S_UNSET && n) {
			long rest;

			if (e->mdev_set) {
				*err = unset_container(e->m.group);
				if (*err) {
					failed = i;
					break;
				}
				e->mdev_set = 0;
			}
			rest = disarm(e);
			*err = do_step(e, S_UNSET);
			if (rest && arm(e, (unsigned int)rest))
				return -2;
			if (*err) {
				failed = i;
				break;
			}
			continue;
		}
		*err = do_step(e, seq[i]);
		if (*err) {
			failed = i;
			break;
		}
	}
	*left = n ? disarm(e) : 1;
	cleanup(e);
	return failed;
}

FIXTURE(fn) {
	struct env e;
};

FIXTURE_SETUP(fn)
{
	char path[64];

	memset(&self->e, 0, sizeof(self->e));
	self->e.nth = self->e.edu = self->e.container = -1;
	self->e.m.group = self->e.m.dev = -1;
	if (!module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	if (access("/sys/kernel/debug/failslab", F_OK) || access("/sys/kernel/debug/fail_page_alloc", F_OK))
		SKIP(return, "no failslab/fail_page_alloc (not the debug kernel)");
	if (access(MTEST_CREATE, W_OK))
		SKIP(return, "vfio_cxx_mtest is not loaded");
	ASSERT_EQ(0, setup_fault_injection());
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	self->e.nth = open(path, O_RDWR);
	ASSERT_LE(0, self->e.nth);
	self->e.edu = edu_group_open();
	ASSERT_LE(0, self->e.edu);
	ASSERT_EQ(0, mdev_create(&self->e.m));
	self->e.buf = anon(2 * NPAGES * PG);
	ASSERT_NE(MAP_FAILED, self->e.buf);
}

FIXTURE_TEARDOWN(fn)
{
	if (self->e.nth >= 0) {
		arm(&self->e, 0);
		close(self->e.nth);
	}
	cleanup(&self->e);
	mdev_destroy(&self->e.m);
	if (self->e.edu >= 0)
		close(self->e.edu);
}

static void sweep(struct __test_metadata *_metadata, struct env *e, const char *name,
		  const enum step *seq)
{
	unsigned int n, injected = 0, stopped[S_END] = { 0 };
	char why[128], msg[96];
	const char *off;
	long err, left;
	int failed;

	/*
	 * A clean run first: it must pass, and it faults in every page of
	 * code and data the sweep touches, so that the injected failures
	 * hit the ioctls and never a page fault of ours.
	 */
	failed = run(e, seq, 0, &err, &left);
	ASSERT_EQ(-1, failed) TH_LOG("%s: clean run failed at %s: %s", name,
				     step_name[seq[failed < 0 ? 0 : failed]], strerror((int)-err));
	ASSERT_EQ(0, mlockall(MCL_CURRENT));
	e->vmlck0 = vmlck_kb();
	ASSERT_EQ(0, counters_now(e->count0));
	snprintf(msg, sizeof(msg), "vfio_cxx fail_nth: begin %s\n", name);
	kmsg(msg);
	for (n = 1; n <= MAX_RUNS; n++) {
		failed = run(e, seq, n, &err, &left);
		ASSERT_NE(-2, failed) TH_LOG("cannot arm fail-nth");
		off = off_baseline(e, why, sizeof(why));
		if (off)
			kmsg("vfio_cxx fail_nth: end (off baseline)\n");
		ASSERT_EQ(NULL, off) TH_LOG("%s, N=%u: after %s%s%s: %s", name, n,
					    failed < 0 ? "success" : "failure of ",
					    failed < 0 ? "" : step_name[seq[failed]],
					    failed < 0 ? "" : "", off);
		if (failed >= 0) {
			/* A step may only fail because of the injection. */
			if (left != 0)
				kmsg("vfio_cxx fail_nth: end (spurious failure)\n");
			ASSERT_EQ(0, left) TH_LOG("%s, N=%u: %s failed (%s) with no injection",
						  name, n, step_name[seq[failed]], strerror((int)-err));
			ASSERT_TRUE(err < 0 && err > -4096) TH_LOG("%s: %s returned %ld", name,
								    step_name[seq[failed]], err);
			stopped[seq[failed]]++;
			injected++;
		}
		if (left > 0)
			break;	/* the whole sequence ran before the Nth point */
	}
	snprintf(msg, sizeof(msg), "vfio_cxx fail_nth: end %s\n", name);
	kmsg(msg);
	munlockall();
	ASSERT_LE(n, MAX_RUNS) TH_LOG("%s never completed", name);
	printf("# metric fail_nth_points %s %u\n", name, n - 1);
	printf("# %s: %u runs, %u stopped by an injected failure at:", name, n, injected);
	for (unsigned int s = 0; s < S_END; s++)
		if (stopped[s])
			printf(" %s %u", step_name[s], stopped[s]);
	printf("\n");
	fflush(stdout);
}

/* Passthrough: IOMMU domain, map, info, dirty tracking, unmap, close. */
TEST_F_TIMEOUT(fn, iommu_map_dirty_unmap, 600)
{
	static const enum step seq[] = {
		S_OPEN, S_SET_EDU, S_SET_IOMMU, S_INFO, S_MAP, S_DIRTY_START,
		S_UNMAP_DIRTY, S_DIRTY_STOP, S_MAP, S_UNSET, S_CLOSE, S_END
	};

	sweep(_metadata, &self->e, "iommu_map_dirty_unmap", seq);
}

/* mdev only: map (recorded, not pinned), pin, dma_rw, unpin, unmap with pins. */
TEST_F_TIMEOUT(fn, mdev_pin_rw_unmap, 600)
{
	static const enum step seq[] = {
		S_OPEN, S_SET_MDEV, S_SET_IOMMU, S_MAP, S_DEVFD, S_PIN, S_RW,
		S_UNPIN, S_UNMAP, S_CLOSE_DEV, S_UNSET, S_CLOSE, S_END
	};

	sweep(_metadata, &self->e, "mdev_pin_rw_unmap", seq);
}

/* Mixed, mdev first: pins move to the IOMMU mapping when edu attaches. */
TEST_F_TIMEOUT(fn, mixed_mdev_then_edu, 600)
{
	static const enum step seq[] = {
		S_OPEN, S_SET_MDEV, S_SET_IOMMU, S_MAP, S_DEVFD, S_PIN, S_SET_EDU,
		S_RW, S_UNMAP, S_CLOSE_DEV, S_UNSET, S_CLOSE, S_END
	};

	sweep(_metadata, &self->e, "mixed_mdev_then_edu", seq);
}

/* Preregistered memory: register, map over it, unregister; and close with it. */
TEST_F_TIMEOUT(fn, prereg_map_unregister, 600)
{
	static const enum step seq[] = {
		S_OPEN, S_SET_EDU, S_SET_IOMMU, S_REGISTER, S_MAP_PREREG, S_MAP,
		S_UNMAP_PREREG, S_UNREGISTER, S_REGISTER, S_MAP_PREREG, S_UNSET,
		S_CLOSE, S_END
	};

	sweep(_metadata, &self->e, "prereg_map_unregister", seq);
}

TEST_HARNESS_MAIN
