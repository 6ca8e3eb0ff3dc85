// SPDX-License-Identifier: GPL-2.0
/*
 * VM selftests of preregistered memory (seeds 000/002) and of the mm
 * lifetime and owner-exit policy (seed 004, 001 R12) of vfio_iommu_cxx.
 *
 * Preregistration and VFIO_CXX_EXIT_POLICY are ours (VFIO_CXX_IOMMU
 * containers; see uapi/linux/vfio_cxx.h), so these tests have no type1
 * variant; Documentation/differences.rst lists them as extensions.  The
 * keep-policy exit test is the exception: it runs against both backends,
 * since Type1 semantics is what it checks.
 *
 * Runs in a virtme-ng guest with QEMU's edu device behind an emulated
 * Intel IOMMU, bound to vfio-pci; VFIO_CXX_GROUP=<iommu group>.  Behaviour
 * numbers ("B31") refer to Documentation/requirements.rst.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "../../uapi/linux/vfio_cxx.h"

#pragma GCC diagnostic ignored "-Wclobbered"

static int reg(int c, void *vaddr, uint64_t size)
{
	return prereg_ioctl(c, VFIO_CXX_REGISTER_MEMORY, vaddr, size, 0);
}

static int unreg(int c, void *vaddr, uint64_t size)
{
	return prereg_ioctl(c, VFIO_CXX_UNREGISTER_MEMORY, vaddr, size, 0);
}

static int map(int c, void *vaddr, uint64_t iova, uint64_t size)
{
	return map_rw(c, vaddr, iova, size);
}

static int unmap(int c, uint64_t iova, uint64_t size)
{
	long long r = dma_unmap(c, iova, size);

	return r < 0 ? (int)r : 0;
}

static int set_policy(int c, uint32_t policy)
{
	struct vfio_cxx_exit_policy e = { .argsz = sizeof(e), .policy = policy };

	return ioctl(c, VFIO_CXX_EXIT_POLICY, &e) ? -errno : 0;
}

#define NFDS 4

/* Sends NFDS fds over a socket (SCM_RIGHTS); -1 entries are sent as /dev/null. */
static int send_fds(int sock, const int *fds)
{
	int out[NFDS], null = open("/dev/null", O_RDONLY);
	char byte = 'x';

	for (int i = 0; i < NFDS; i++)
		out[i] = fds[i] >= 0 ? fds[i] : null;
	return fds_send(sock, &byte, 1, out, NFDS) == 1 ? 0 : -1;
}

/* Receives exactly NFDS fds; 0 or -1. */
static int recv_fds(int sock, int *fds)
{
	int got;
	char byte;

	if (fds_recv(sock, &byte, 1, fds, NFDS, &got) != 1 || got != NFDS)
		return -1;
	return 0;
}

static void close_fds(int *fds)
{
	for (int i = NFDS - 1; i >= 0; i--)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ------------------------------------------------------------------ */

FIXTURE(pr) {
	int container;
	int group;
};

FIXTURE_SETUP(pr)
{
	int r;

	self->container = self->group = -1;
	ASSERT_LE(0, edu_group_number()) TH_LOG("VFIO_CXX_GROUP is not set");
	if (access(MODDIR, F_OK))
		SKIP(return, "vfio_iommu_cxx is not loaded");
	r = edu_container_open(VFIO_CXX_IOMMU, &self->container, &self->group);
	ASSERT_EQ(0, r) TH_LOG("container set-up: %s", strerror(-r));
}

FIXTURE_TEARDOWN(pr)
{
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
}

/* B31, B32, B33, B35: round trip and every errno of the input checks. */
TEST_F(pr, b31_b32_b33_b35_register_round_trip_and_errnos)
{
	size_t sz = 16 * PG;
	char *buf = anon(sz + PG);
	long base = vmlck_kb(), pre = stat_get("prereg_pages");

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_CXX_IOMMU));
	ASSERT_EQ(0, reg(self->container, buf, sz));
	EXPECT_EQ(base + (long)(sz / 1024), vmlck_kb());
	EXPECT_EQ(pre + 16, stat_get("prereg_pages"));
	/* B32 */
	EXPECT_EQ(-EINVAL, reg(self->container, buf + 1, PG));
	EXPECT_EQ(-EINVAL, reg(self->container, buf, PG + 1));
	EXPECT_EQ(-EINVAL, reg(self->container, buf, 0));
	EXPECT_EQ(-EINVAL, reg(self->container, (void *)(~0UL & ~(PG - 1)), 2 * PG));
	EXPECT_EQ(-EINVAL, unreg(self->container, buf + 1, PG));
	/* B33: the same region again, nothing raised; an overlap is EINVAL. */
	EXPECT_EQ(-EBUSY, reg(self->container, buf, sz));
	EXPECT_EQ(-EINVAL, reg(self->container, buf + PG, sz));
	EXPECT_EQ(base + (long)(sz / 1024), vmlck_kb());
	/* B35 */
	EXPECT_EQ(-ENOENT, unreg(self->container, buf + sz, PG));
	EXPECT_EQ(0, unreg(self->container, buf, sz));
	EXPECT_EQ(-ENOENT, unreg(self->container, buf, sz));
	EXPECT_EQ(base, vmlck_kb());
	EXPECT_EQ(pre, stat_get("prereg_pages"));
	munmap(buf, sz + PG);
}

/*
 * B34, B35, B37: one region in two containers of one mm (the second one
 * holds a test mdev's group); closing one keeps the other's pinned.
 */
TEST_F(pr, b34_b35_b37_two_containers_close_one)
{
	size_t sz = 8 * PG;
	char *buf = anon(sz);
	long base = vmlck_kb(), pre = stat_get("prereg_pages");
	struct mdev m;
	int c2;

	ASSERT_NE(MAP_FAILED, buf);
	if (access(MTEST_CREATE, W_OK))
		SKIP(return, "the test mdev driver is not loaded");
	ASSERT_EQ(0, mdev_create(&m));
	c2 = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, set_container(m.group, c2));
	ASSERT_EQ(0, ioctl(c2, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));

	ASSERT_EQ(0, reg(self->container, buf, sz));
	ASSERT_EQ(0, reg(c2, buf, sz));
	EXPECT_EQ(base + 2 * (long)(sz / 1024), vmlck_kb()); /* pinned once per container */
	EXPECT_EQ(pre + 16, stat_get("prereg_pages"));
	/* B35: a region registered through the other container only. */
	char *only2 = anon(PG);

	ASSERT_NE(MAP_FAILED, only2);
	ASSERT_EQ(0, reg(c2, only2, PG));
	EXPECT_EQ(-ENOENT, unreg(self->container, only2, PG));
	EXPECT_EQ(0, unreg(c2, only2, PG));
	munmap(only2, PG);
	/* B37: closing one container frees its regions at once, the other's stay. */
	close(c2);
	mdev_destroy(&m);
	EXPECT_EQ(base + (long)(sz / 1024), vmlck_kb());
	EXPECT_EQ(pre + 8, stat_get("prereg_pages"));
	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	EXPECT_EQ(base, vmlck_kb());
	EXPECT_EQ(pre, stat_get("prereg_pages"));
	munmap(buf, sz);
}

/* B36, B39: a mapping inside a region is charged once and keeps the region. */
TEST_F(pr, b36_b39_map_inside_region_charged_once)
{
	size_t sz = 32 * PG;
	char *buf = anon(sz);
	long base = vmlck_kb(), pinned = stat_get("pages_pinned");

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, reg(self->container, buf, sz));
	ASSERT_EQ(0, map(self->container, buf + 8 * PG, 0x100000, 16 * PG));
	EXPECT_EQ(base + (long)(sz / 1024), vmlck_kb());
	EXPECT_EQ(pinned, stat_get("pages_pinned")); /* no IOMMU-mapping pins */
	EXPECT_EQ(-EBUSY, unreg(self->container, buf, sz));
	EXPECT_EQ(0, unmap(self->container, 0x100000, 16 * PG));
	EXPECT_EQ(base + (long)(sz / 1024), vmlck_kb());
	EXPECT_EQ(0, unreg(self->container, buf, sz));
	EXPECT_EQ(base, vmlck_kb());
	munmap(buf, sz);
}

/* B41: another process (another mm) may not register in the container. */
TEST_F(pr, b41_other_mm_eperm)
{
	char *buf = anon(4 * PG);
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, reg(self->container, buf, 2 * PG));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* A forked child has its own mm, and the container's fd. */
		int r1 = reg(self->container, buf + 2 * PG, PG);
		int r2 = unreg(self->container, buf, 2 * PG);

		_exit(r1 == -EPERM && r2 == -EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, unreg(self->container, buf, 2 * PG));
	munmap(buf, 4 * PG);
}

/*
 * A child that opens its own container with the edu group (and, given m,
 * the test mdev's group), sets the exit policy, registers a region, maps
 * memory inside it and outside it, has the mdev pin 4 pages, passes its
 * container, group and device fds to us (fds[]: container, edu group, mdev
 * group, mdev device) and waits to be killed.  Returns its pid, or -1.
 */
static pid_t owner_child(uint32_t policy, unsigned long type, struct mdev *m, int *fds)
{
	int sv[2];
	pid_t pid;

	for (int i = 0; i < NFDS; i++)
		fds[i] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int f[NFDS] = { -1, -1, -1, -1 };
		char *buf = anon(64 * PG);
		int ok;

		close(sv[0]);
		ok = buf != MAP_FAILED && !edu_container_open(type, &f[0], &f[1]);
		if (ok && m) {
			f[2] = group_open(m->groupnr);
			ok = f[2] >= 0 && !set_container(f[2], f[0]);
		}
		if (ok && type == VFIO_CXX_IOMMU)
			ok = !set_policy(f[0], policy) && !reg(f[0], buf, 32 * PG) &&
			     !map(f[0], buf, 0x100000, 16 * PG);
		ok = ok && !map(f[0], buf + 32 * PG, 0x200000, 32 * PG);
		if (ok && m) {
			struct mdev d = *m;

			d.group = f[2];
			ok = !mdev_open_dev(&d) &&
			     run_cmd(&d, MTEST_CMD_PIN, 0x200000, 4, MTEST_PROT_READ, 0) == 4;
			f[3] = d.dev;
		}
		if (!ok || send_fds(sv[1], f))
			_exit(1);
		pause();
		_exit(0);
	}
	close(sv[1]);
	if (recv_fds(sv[0], fds)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(sv[0]);
		return -1;
	}
	close(sv[0]);
	return pid;
}

/* The test mdev, if its driver is loaded (else m is left unused). */
static struct mdev *maybe_mdev(struct mdev *m)
{
	if (access(MTEST_CREATE, W_OK) || mdev_create(m))
		return NULL;
	/* The child opens the group itself. */
	close(m->group);
	m->group = -1;
	return m;
}

/*
 * B42, B44: SIGKILL of the owner while another process keeps the container
 * open.  With the release policy every page (IOMMU mappings, the region,
 * the mdev's pins) goes when the owner's mm exits; with the keep policy
 * (Type1 semantics) they stay until the last fd goes.
 */
TEST_F(pr, b42_sigkill_owner_release_policy_frees_at_exit)
{
	long pinned = stat_get("pages_pinned"), pre = stat_get("prereg_pages");
	long ext = stat_get("external_pages"), exits = stat_get("mm_exits");
	struct mdev mbuf, *m;
	int fds[NFDS];
	char *buf;
	pid_t pid;

	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	m = maybe_mdev(&mbuf);
	pid = owner_child(VFIO_CXX_EXIT_RELEASE, VFIO_CXX_IOMMU, m, fds);
	ASSERT_LT(0, pid);
	EXPECT_EQ(pinned + 32, stat_get("pages_pinned"));
	EXPECT_EQ(pre + 32, stat_get("prereg_pages"));
	if (m)
		EXPECT_EQ(ext + 4, stat_get("external_pages"));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	/* The container, its groups and the mdev's fd are still open here. */
	EXPECT_EQ(pinned, stat_get("pages_pinned"));
	EXPECT_EQ(pre, stat_get("prereg_pages"));
	EXPECT_EQ(ext, stat_get("external_pages"));
	EXPECT_EQ(exits + 1, stat_get("mm_exits"));
	/* The container still works for its new owner. */
	buf = anon(4 * PG);
	EXPECT_EQ(0, map(fds[0], buf, 0x400000, 4 * PG));
	EXPECT_EQ(0, unmap(fds[0], 0x400000, 4 * PG));
	close_fds(fds);
	if (m)
		mdev_destroy(m);
	EXPECT_EQ(exits + 1, stat_get("mm_exits"));
	munmap(buf, 4 * PG);
}

TEST_F(pr, b42_sigkill_owner_keep_policy_frees_at_close)
{
	long pinned = stat_get("pages_pinned"), pre = stat_get("prereg_pages");
	long ext = stat_get("external_pages"), exits = stat_get("mm_exits");
	struct mdev mbuf, *m;
	int fds[NFDS];
	pid_t pid;

	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	m = maybe_mdev(&mbuf);
	pid = owner_child(VFIO_CXX_EXIT_KEEP, VFIO_CXX_IOMMU, m, fds);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	EXPECT_EQ(pinned + 32, stat_get("pages_pinned"));
	EXPECT_EQ(pre + 32, stat_get("prereg_pages"));
	if (m)
		EXPECT_EQ(ext + 4, stat_get("external_pages"));
	close_fds(fds);
	if (m)
		mdev_destroy(m);
	EXPECT_EQ(pinned, stat_get("pages_pinned"));
	EXPECT_EQ(pre, stat_get("prereg_pages"));
	EXPECT_EQ(ext, stat_get("external_pages"));
	EXPECT_EQ(exits, stat_get("mm_exits"));
}

/* exec() replaces the owner's mm: with the release policy its pages go then. */
TEST_F(pr, release_policy_exec_in_owner)
{
	long pinned = stat_get("pages_pinned");
	char *buf = anon(16 * PG);
	int sv[2], fds[NFDS];
	char byte;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, buf);
	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int f[NFDS] = { -1, -1, -1, -1 };

		close(sv[0]);
		if (edu_container_open(VFIO_CXX_IOMMU, &f[0], &f[1]) ||
		    set_policy(f[0], VFIO_CXX_EXIT_RELEASE) || map(f[0], buf, 0x100000, 16 * PG) ||
		    send_fds(sv[1], f))
			_exit(1);
		/* Wait for the parent to look, then exec something that lingers. */
		if (read(sv[1], &byte, 1) != 1)
			_exit(1);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(1);
	}
	close(sv[1]);
	ASSERT_EQ(0, recv_fds(sv[0], fds));
	EXPECT_EQ(pinned + 16, stat_get("pages_pinned"));
	ASSERT_EQ(1, write(sv[0], "x", 1));
	/* The exec'd sleep lives on; its old mm is gone, and so are the pins. */
	for (int i = 0; i < 100 && stat_get("pages_pinned") != pinned; i++)
		usleep(20000);
	EXPECT_EQ(pinned, stat_get("pages_pinned"));
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close_fds(fds);
	munmap(buf, 16 * PG);
}

/*
 * B44: container close racing with the owner's exit, again and again: the
 * handler runs at most once, close waits for it, nothing is freed twice or
 * leaked (the lane also checks the kernel log).  Up to 40 rounds or 60 s:
 * 0.7 s on Debian's 6.12 under TCG (also beside a CPU hog), 6.4 s on the
 * debug kernel; the timeout covers the loop's own 60 s bound four times.
 */
TEST_F_TIMEOUT(pr, b44_close_races_owner_exit, 240)
{
	long pinned = stat_get("pages_pinned"), pre = stat_get("prereg_pages");
	long dmas = stat_get("dmas_live");
	struct timespec t0, t;
	int rounds = 0;

	close(self->group);
	close(self->container);
	self->group = self->container = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; rounds < 40; rounds++) {
		int fds[NFDS];
		pid_t pid = owner_child(VFIO_CXX_EXIT_RELEASE, VFIO_CXX_IOMMU, NULL, fds);

		ASSERT_LT(0, pid);
		/* Alternate which side goes first; the other follows at once. */
		if (rounds & 1) {
			kill(pid, SIGKILL);
			close_fds(fds);
		} else {
			close_fds(fds);
			kill(pid, SIGKILL);
		}
		ASSERT_EQ(pid, waitpid(pid, NULL, 0));
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			break;
	}
	TH_LOG("%d rounds", rounds);
	EXPECT_LT(5, rounds);
	EXPECT_EQ(pinned, stat_get("pages_pinned"));
	EXPECT_EQ(pre, stat_get("prereg_pages"));
	EXPECT_EQ(dmas, stat_get("dmas_live"));
}

/*
 * Type1 semantics, differential: a killed owner's mappings stay until the
 * container's last fd goes, with either backend serving VFIO_TYPE1v2_IOMMU.
 */
FIXTURE(keep) {
	int cxx;
};

FIXTURE_VARIANT(keep) {
	int cxx;
};

FIXTURE_VARIANT_ADD(keep, type1) {
	.cxx = 0,
};

FIXTURE_VARIANT_ADD(keep, cxx) {
	.cxx = 1,
};

FIXTURE_SETUP(keep)
{
	if (access(MODDIR, F_OK))
		SKIP(return, "vfio_iommu_cxx is not loaded");
	ASSERT_EQ(0, write_str(PARAM_CLAIM, variant->cxx ? "1" : "0"));
}

FIXTURE_TEARDOWN(keep)
{
	write_str(PARAM_CLAIM, "1");
}

TEST_F(keep, b42_killed_owner_mappings_stay_until_close)
{
	long opened = stat_get("containers_opened");
	long long unmapped;
	int fds[NFDS];
	char *buf = anon(PG);
	pid_t pid;

	pid = owner_child(VFIO_CXX_EXIT_KEEP, VFIO_TYPE1v2_IOMMU, NULL, fds);
	ASSERT_LT(0, pid);
	EXPECT_EQ(opened + variant->cxx, stat_get("containers_opened"));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	/* The mapping is still there: a second MAP of its IOVA collides ... */
	EXPECT_EQ(-EEXIST, map(fds[0], buf, 0x200000, PG));
	/* ... and an UNMAP by the fd's new holder removes all of it. */
	unmapped = dma_unmap(fds[0], 0x200000, 32 * PG);
	EXPECT_EQ((long long)(32 * PG), unmapped);
	close_fds(fds);
	munmap(buf, PG);
}

TEST_HARNESS_MAIN
