// SPDX-License-Identifier: GPL-2.0
/*
 * VM selftests of the hostile-userspace paths of issue 11: mappings that
 * cross processes (fork, SCM_RIGHTS, exec), preregistered memory with
 * UPDATE_VADDR under the RELEASE exit policy (the BUG() of item 1), MMIO
 * under RLIMIT_MEMLOCK (item 5), group attach while a vaddr is invalid and
 * the nesting extension (item 6), the uncharge while the mmap lock is busy
 * (item 7) and type1's module parameters (item 8).  S1-S7 name the
 * semantics the project decided for issue 11 (Documentation/uapi.rst).
 *
 * Fixture "hostile" is differential, as in type1_api_test.c: every test runs
 * once per backend (FIXTURE_VARIANT)
 *   type1 - claim_type1=0: the in-tree vfio_iommu_type1 serves the
 *           VFIO_TYPE1v2_IOMMU container (the reference);
 *   cxx   - claim_type1=1: vfio_iommu_cxx serves it;
 * and the containers_opened counter proves which one did.  Fixture
 * "release" has no type1 variant: preregistration and the exit policy are
 * ours (VFIO_CXX_IOMMU containers, as in prereg_test.c); its item 1 tests
 * come last in the file because before the fix they end in the kernel's
 * BUG() with the container locks held.
 *
 * Processes: the test process (T) holds the container, the edu group and
 * device, and a memfd it maps twice.  Workers are processes forked from T
 * (they inherit the container fd and T's mappings), from another worker
 * (W_FORK), or forked with the container fd closed and given it back over a
 * unix socket (SCM_RIGHTS: a process that shares nothing but the file with
 * the owner, and maps the memfd at other addresses).  A worker runs
 * requests from T over a SOCK_SEQPACKET socket; W_EXEC re-executes this
 * binary with WORKER_ARG, and the new image goes on serving the same socket
 * with the inherited container fd and memfd.  T is a child subreaper, so
 * orphaned workers come back to it.
 *
 * Runs in a virtme-ng guest with QEMU's edu device behind an emulated Intel
 * IOMMU, bound to vfio-pci; VFIO_CXX_GROUP=<iommu group>.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "../../uapi/linux/vfio_cxx.h"

#pragma GCC diagnostic ignored "-Wclobbered"

#define WORKER_ARG "--hostile-worker"
#define MEM_PAGES 64			/* the shared memfd */
#define MEM_SZ (MEM_PAGES * PG)
#define ALT (1ULL << 40)		/* worker offsets >= ALT: its second mapping */
#define IOVA 0x100000ULL
#define IOVA2 0x400000ULL
#define NPG 16				/* pages of the mapping that moves */
#define TYPE1_PARAMS "/sys/module/vfio_iommu_type1/parameters"
#define CXX_PARAMS MODDIR "/parameters"
/*
 * Per-test timeout (s).  Measured under TCG: at most 1.3 s per test on
 * Debian's 6.12 (the same beside a CPU hog), 8 s on the debug kernel
 * (item 7's 200 rounds under KASAN and lockdep).
 */
#define TMO 120

/* ------------------------------------------------------------------ */
/* messages with an optional fd                                        */

static int msg_send(int sock, const void *buf, size_t len, int fd)
{
	return fds_send(sock, buf, len, &fd, fd >= 0) == (ssize_t)len ? 0 : -1;
}

/* Returns the length received (0 at EOF, -1 on error); *fd: a passed fd or -1. */
static ssize_t msg_recv(int sock, void *buf, size_t len, int *fd)
{
	ssize_t n = fds_recv(sock, buf, len, fd, fd != NULL, NULL);

	return n < 0 ? -1 : n;
}

/* ------------------------------------------------------------------ */
/* workers                                                             */

enum wop {
	W_MAP,		/* MAP_DMA R|W of worker memory at off: 0 or -errno */
	W_MAP_VADDR,	/* MAP_DMA|VFIO_DMA_MAP_FLAG_VADDR */
	W_UNMAP,	/* UNMAP_DMA: the unmapped size or -errno */
	W_UNMAP_VADDR,	/* UNMAP_DMA|VFIO_DMA_UNMAP_FLAG_VADDR */
	W_REG,		/* VFIO_CXX_REGISTER_MEMORY */
	W_UNREG,	/* VFIO_CXX_UNREGISTER_MEMORY */
	W_VMLCK,	/* nothing: every reply carries the worker's VmLck */
	W_FORK,		/* fork a worker: its pid, its socket passed back */
	W_TAKE_FD,	/* the fd passed with the request becomes the container */
	W_EXEC,		/* exec this binary as a worker: the new image replies */
	W_EXIT,		/* _exit(0), no reply */
};

struct wreq {
	uint32_t op;
	uint32_t pad;
	uint64_t off, iova, size;
};

struct wrep {
	int64_t ret;
	int64_t vmlck;	/* KiB */
	int32_t pid;
	int32_t pad;
};

struct wstate {
	int sock, container, memfd;
	char *mem, *mem2;	/* two shared mappings of the memfd */
};

static char *wvaddr(struct wstate *s, uint64_t off)
{
	return off >= ALT ? s->mem2 + (off - ALT) : s->mem + off;
}

static int map_memfd(int memfd, char **mem, char **mem2)
{
	*mem = mmap(NULL, MEM_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	*mem2 = mmap(NULL, MEM_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	return *mem == MAP_FAILED || *mem2 == MAP_FAILED ? -1 : 0;
}

static long long unmap_vaddr(int c, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = VFIO_DMA_UNMAP_FLAG_VADDR, .iova = iova, .size = size,
	};

	if (ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	return (long long)u.size;
}

static __attribute__((noreturn)) void worker_loop(struct wstate *s)
{
	for (;;) {
		struct wrep p = { 0 };
		int fd, sendfd = -1, sv[2];
		struct wreq q;
		char a[3][16];
		pid_t pid;

		if (msg_recv(s->sock, &q, sizeof(q), &fd) != sizeof(q))
			_exit(0);	/* the test is gone */
		switch (q.op) {
		case W_MAP:
			p.ret = map_rw(s->container, wvaddr(s, q.off), q.iova, q.size);
			break;
		case W_MAP_VADDR:
			p.ret = dma_map(s->container, wvaddr(s, q.off), q.iova, q.size,
					VFIO_DMA_MAP_FLAG_VADDR);
			break;
		case W_UNMAP:
			p.ret = dma_unmap(s->container, q.iova, q.size);
			break;
		case W_UNMAP_VADDR:
			p.ret = unmap_vaddr(s->container, q.iova, q.size);
			break;
		case W_REG:
		case W_UNREG:
			p.ret = prereg_ioctl(s->container, q.op == W_REG ? VFIO_CXX_REGISTER_MEMORY :
					     VFIO_CXX_UNREGISTER_MEMORY, wvaddr(s, q.off), q.size, 0);
			break;
		case W_VMLCK:
			break;
		case W_FORK:
			if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
				p.ret = -errno;
				break;
			}
			pid = fork();
			if (!pid) {
				close(sv[0]);
				close(s->sock);
				s->sock = sv[1];
				continue;	/* the child serves the new socket */
			}
			close(sv[1]);
			p.ret = pid < 0 ? -errno : pid;
			sendfd = sv[0];
			break;
		case W_TAKE_FD:
			if (s->container >= 0)
				close(s->container);
			s->container = fd;
			fd = -1;
			p.ret = s->container >= 0 ? 0 : -EBADF;
			break;
		case W_EXEC:
			snprintf(a[0], sizeof(a[0]), "%d", s->sock);
			snprintf(a[1], sizeof(a[1]), "%d", s->container);
			snprintf(a[2], sizeof(a[2]), "%d", s->memfd);
			execl("/proc/self/exe", "hostile_test", WORKER_ARG, a[0], a[1], a[2],
			      (char *)NULL);
			p.ret = -errno;
			break;
		case W_EXIT:
			_exit(0);
		default:
			p.ret = -ENOSYS;
		}
		if (fd >= 0)
			close(fd);
		p.vmlck = vmlck_kb();
		p.pid = getpid();
		if (msg_send(s->sock, &p, sizeof(p), sendfd))
			_exit(1);
		if (sendfd >= 0)
			close(sendfd);
	}
}

/* main() of the exec'd image: hostile_test WORKER_ARG <sock> <container> <memfd> */
static int worker_main(int argc, char **argv)
{
	struct wstate s = { .sock = -1, .container = -1, .memfd = -1 };
	struct wrep p = { 0 };

	if (argc != 5)
		return 2;
	s.sock = atoi(argv[2]);
	s.container = atoi(argv[3]);
	s.memfd = atoi(argv[4]);
	p.ret = map_memfd(s.memfd, &s.mem, &s.mem2) ? -ENOMEM : 0;
	p.vmlck = vmlck_kb();
	p.pid = getpid();
	if (msg_send(s.sock, &p, sizeof(p), -1))
		return 1;
	worker_loop(&s);
}

/* The test process's side. */
struct worker {
	pid_t pid;	/* 0: gone */
	int sock;
};

#define MAX_WORKERS 8
static struct worker workers[MAX_WORKERS];
static int nworkers;

static struct worker *w_add(pid_t pid, int sock)
{
	if (nworkers == MAX_WORKERS) {
		kill(pid, SIGKILL);
		close(sock);
		return NULL;
	}
	workers[nworkers] = (struct worker){ .pid = pid, .sock = sock };
	return &workers[nworkers++];
}

/* Sends a request (with fd if >= 0); returns the reply's ret, or LLONG_MIN. */
static long long w_req(struct worker *w, uint32_t op, uint64_t off, uint64_t iova, uint64_t size,
		       int fd, struct wrep *out, int *rfd)
{
	struct wreq q = { .op = op, .off = off, .iova = iova, .size = size };
	struct wrep p;

	if (!w || !w->pid || msg_send(w->sock, &q, sizeof(q), fd))
		return LLONG_MIN;
	if (msg_recv(w->sock, &p, sizeof(p), rfd) != sizeof(p))
		return LLONG_MIN;
	if (out)
		*out = p;
	return p.ret;
}

static long long w_call(struct worker *w, uint32_t op, uint64_t off, uint64_t iova, uint64_t size)
{
	return w_req(w, op, off, iova, size, -1, NULL, NULL);
}

/* The worker's VmLck as it sees it (KiB), or -2 if it does not answer. */
static long w_vmlck(struct worker *w)
{
	struct wrep p;

	return w_req(w, W_VMLCK, 0, 0, 0, -1, &p, NULL) == LLONG_MIN ? -2 : (long)p.vmlck;
}

/* Until pid has exited (its mm is gone: reaped, or a zombie); 0 or -1. */
static int wait_gone(pid_t pid)
{
	for (int i = 0; i < 3000; i++) {
		char path[64], st[512], *c;

		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 0;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (read_str(path, st, sizeof(st)))
			return 0;
		c = strrchr(st, ')');
		if (c && (c[2] == 'Z' || c[2] == 'X'))
			return 0;
		usleep(10000);
	}
	return -1;
}

static int w_exit(struct worker *w)
{
	struct wreq q = { .op = W_EXIT };
	int r;

	if (!w || !w->pid || msg_send(w->sock, &q, sizeof(q), -1))
		return -1;
	r = wait_gone(w->pid);
	close(w->sock);
	w->pid = 0;
	return r;
}

/* The new image's ready message; its VmLck in *vmlck.  0 or -1. */
static int w_exec(struct worker *w, long *vmlck)
{
	struct wrep p;

	if (w_req(w, W_EXEC, 0, 0, 0, -1, &p, NULL) != 0 || p.pid != w->pid)
		return -1;
	*vmlck = p.vmlck;
	return 0;
}

static struct worker *w_fork(struct worker *w)
{
	struct wrep p;
	int fd = -1;
	long long pid = w_req(w, W_FORK, 0, 0, 0, -1, &p, &fd);

	if (pid <= 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return w_add(pid, fd);
}

static void workers_kill(void)
{
	for (int i = 0; i < nworkers; i++)
		if (workers[i].pid)
			kill(workers[i].pid, SIGKILL);
	for (int i = 0; i < nworkers; i++)
		if (workers[i].pid) {
			wait_gone(workers[i].pid);
			close(workers[i].sock);
			workers[i].pid = 0;
		}
	nworkers = 0;
}

/* ------------------------------------------------------------------ */
/* what both fixtures hold                                             */

struct env {
	int container, group;
	struct edu_dev edu;
	int memfd;
	char *mem, *mem2;	/* two shared mappings of the memfd */
};

static void env_init(struct env *e)
{
	e->container = e->group = e->memfd = -1;
	e->edu.dev = -1;
	e->mem = e->mem2 = MAP_FAILED;
}

static int env_mem(struct env *e)
{
	e->memfd = memfd_create("hostile", 0);
	if (e->memfd < 0 || ftruncate(e->memfd, MEM_SZ) || map_memfd(e->memfd, &e->mem, &e->mem2))
		return -1;
	memset(e->mem, 0x5a, MEM_SZ);
	return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void env_close(struct env *e)
{
	workers_kill();
	edu_dev_close(&e->edu);
	if (e->group >= 0)
		close(e->group);
	if (e->container >= 0)
		close(e->container);
	if (e->memfd >= 0)
		close(e->memfd);
	e->group = e->container = e->memfd = -1;
}

/*
 * A worker forked from the test.  keep: it shares the test's container fd
 * and mappings; else it has no container fd (W_TAKE_FD gives it one) and
 * maps the memfd itself, at other addresses.
 */
static struct worker *w_spawn(struct env *e, int keep)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (!pid) {
		struct wstate s = {
			.sock = sv[1], .container = e->container, .memfd = e->memfd,
			.mem = e->mem, .mem2 = e->mem2,
		};

		close(sv[0]);
		for (int i = 0; i < nworkers; i++)
			if (workers[i].pid)
				close(workers[i].sock);
		if (!keep) {
			close(s.container);
			s.container = -1;
			if (map_memfd(s.memfd, &s.mem, &s.mem2))
				_exit(1);
		}
		worker_loop(&s);
	}
	close(sv[1]);
	return w_add(pid, sv[0]);
}

/* An unrelated process that got the container by SCM_RIGHTS. */
static struct worker *w_spawn_scm(struct env *e)
{
	struct worker *w = w_spawn(e, 0);

	if (w && w_req(w, W_TAKE_FD, 0, 0, 0, e->container, NULL, NULL) != 0)
		return NULL;
	return w;
}

/*
 * The device copies a page from iova to iova + PG; the test sees both
 * through its own mapping of the memfd at offset off.  True when the bytes
 * arrived: iova..iova+2*PG translate to those memfd pages.
 */
static int dma_through(struct env *e, uint64_t off, uint64_t iova, unsigned int seed)
{
	fill(e->mem + off, PG, seed);
	memset(e->mem + off + PG, 0, PG);
	if (edu_dev_copy(&e->edu, iova, iova + PG))
		return 0;
	return check(e->mem + off + PG, EDU_XFER, seed);
}

/* ------------------------------------------------------------------ */
/* fixture "hostile": differential                                     */

struct saved_param {
	char path[160];
	char val[32];
};

FIXTURE(hostile) {
	struct env e;
	struct mdev m;
	struct saved_param params[4];
	int nparams;
};

FIXTURE_VARIANT(hostile) {
	int cxx;	/* 1: vfio_iommu_cxx serves the container */
};

FIXTURE_VARIANT_ADD(hostile, type1) {
	.cxx = 0,
};

FIXTURE_VARIANT_ADD(hostile, cxx) {
	.cxx = 1,
};

/*
 * A VFIO_TYPE1v2_IOMMU container with the edu group, claim_type1 chosen by
 * cxx; 0 or a negative step.  *served_by_cxx: what the stats counter saw.
 */
static int open_type1(int cxx, struct env *e, int *served_by_cxx)
{
	long opened0, opened1;
	int r = type1_container_open(cxx, &e->container, &e->group, &opened0, &opened1);

	if (r)
		return r;
	*served_by_cxx = cxx_served(opened0, opened1);
	if (edu_dev_open(&e->edu, e->group))
		return -7;
	return 0;
}

/* Closes the container and opens a new one (parameters read at open apply). */
static int reopen_type1(int cxx, struct env *e)
{
	int served = -1, r;

	edu_dev_close(&e->edu);
	close(e->group);
	close(e->container);
	e->group = e->container = -1;
	r = open_type1(cxx, e, &served);
	return r ? r : served == cxx ? 0 : -8;
}

static const char *param_dir(int cxx)
{
	return cxx ? CXX_PARAMS : TYPE1_PARAMS;
}

/* Sets a parameter of the serving module; teardown restores the old value. */
static int param_set(FIXTURE_DATA(hostile) *self, int cxx, const char *name, const char *val)
{
	char path[160];
	int i;

	snprintf(path, sizeof(path), "%s/%s", param_dir(cxx), name);
	for (i = 0; i < self->nparams; i++)
		if (!strcmp(self->params[i].path, path))
			break;
	if (i == self->nparams) {
		if (i == 4)
			return -ENOSPC;
		snprintf(self->params[i].path, sizeof(self->params[i].path), "%s", path);
		if (read_str(path, self->params[i].val, sizeof(self->params[i].val)))
			return -ENOENT;
		self->nparams++;
	}
	return write_str(path, val);
}

FIXTURE_SETUP(hostile)
{
	int cxx = -1, r;

	env_init(&self->e);
	self->m.uuid[0] = 0;
	self->m.group = self->m.dev = -1;
	self->nparams = 0;
	ASSERT_LE(0, edu_group_number()) TH_LOG("VFIO_CXX_GROUP is not set");
	if (variant->cxx && !module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	r = open_type1(variant->cxx, &self->e, &cxx);
	ASSERT_EQ(0, r) TH_LOG("container set-up step %d: %s", -r, strerror(errno));
	ASSERT_EQ(variant->cxx, cxx) TH_LOG("the wrong backend served the container");
	ASSERT_EQ(0, env_mem(&self->e));
}

FIXTURE_TEARDOWN(hostile)
{
	workers_kill();
	mdev_destroy(&self->m);
	env_close(&self->e);
	for (int i = 0; i < self->nparams; i++)
		write_str(self->params[i].path, self->params[i].val);
	if (module_loaded())
		write_str(PARAM_CLAIM, "1");
}

/*
 * S3 (issue 11 item 1, the cross-process paths; type1's
 * vfio_change_dma_owner): A maps and invalidates the vaddr; B, forked from
 * A or an unrelated process that got the container by SCM_RIGHTS, sets a
 * new vaddr: that succeeds and moves the locked_vm charge from A's mm to
 * B's.  A's exit then leaves the mapping (DMA still lands) and B's charge;
 * B's unmap gives the charge back in B.
 */
static void xproc_update_vaddr(struct __test_metadata *_metadata, struct env *e, int by_scm)
{
	const uint64_t sz = NPG * PG;
	long t0 = vmlck_kb(), a0, b0;
	struct worker *a, *b;

	a = w_spawn(e, 1);
	ASSERT_NE(NULL, a);
	a0 = w_vmlck(a);
	ASSERT_LE(0, a0);
	ASSERT_EQ(0, w_call(a, W_MAP, 0, IOVA, sz));
	EXPECT_EQ(a0 + KB(NPG), w_vmlck(a));
	EXPECT_EQ(a0 + KB(NPG), vmlck_kb_pid(a->pid));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 1));
	ASSERT_EQ((long long)sz, w_call(a, W_UNMAP_VADDR, 0, IOVA, sz));
	b = by_scm ? w_spawn_scm(e) : w_fork(a);
	ASSERT_NE(NULL, b);
	b0 = w_vmlck(b);
	ASSERT_LE(0, b0);
	ASSERT_EQ(0, w_call(b, W_MAP_VADDR, 0, IOVA, sz));
	EXPECT_EQ(b0 + KB(NPG), w_vmlck(b)) TH_LOG("S3: the new owner's mm is charged");
	EXPECT_EQ(b0 + KB(NPG), vmlck_kb_pid(b->pid));
	EXPECT_EQ(a0, vmlck_kb_pid(a->pid)) TH_LOG("S3: the old owner's mm is uncharged");
	EXPECT_EQ(a0, w_vmlck(a));
	EXPECT_EQ(t0, vmlck_kb());
	EXPECT_TRUE(dma_through(e, 0, IOVA, 2));
	/* The old owner's exit changes nothing. */
	ASSERT_EQ(0, w_exit(a));
	EXPECT_EQ(-EEXIST, map_rw(e->container, e->mem + 32 * PG, IOVA, PG))
		TH_LOG("the mapping must survive its old owner");
	EXPECT_TRUE(dma_through(e, 0, IOVA, 3));
	EXPECT_EQ(b0 + KB(NPG), vmlck_kb_pid(b->pid));
	/* An unmap in the new owner gives the charge back there. */
	EXPECT_EQ((long long)sz, w_call(b, W_UNMAP, 0, IOVA, sz));
	EXPECT_EQ(b0, w_vmlck(b));
	ASSERT_EQ(0, w_exit(b));
	EXPECT_EQ(t0, vmlck_kb());
}

TEST_F_TIMEOUT(hostile, s3_update_vaddr_from_forked_child_moves_charge, TMO)
{
	xproc_update_vaddr(_metadata, &self->e, 0);
}

TEST_F_TIMEOUT(hostile, s3_update_vaddr_after_scm_rights_moves_charge, TMO)
{
	xproc_update_vaddr(_metadata, &self->e, 1);
}

/*
 * S2 (issue 11 item 1), exec-based live update: UNMAP|VADDR, exec, and the
 * new image sets the vaddr on the inherited container fd.  The mapping
 * survives the exec (DMA lands all along), the new mm is charged when it
 * adopts the mapping, and its unmap gives the charge back.
 */
TEST_F_TIMEOUT(hostile, s2_exec_live_update, TMO)
{
	const uint64_t sz = NPG * PG;
	struct env *e = &self->e;
	struct worker *a;
	long a0, x0;

	a = w_spawn(e, 1);
	ASSERT_NE(NULL, a);
	a0 = w_vmlck(a);
	ASSERT_LE(0, a0);
	ASSERT_EQ(0, w_call(a, W_MAP, 0, IOVA, sz));
	EXPECT_EQ(a0 + KB(NPG), w_vmlck(a));
	ASSERT_EQ((long long)sz, w_call(a, W_UNMAP_VADDR, 0, IOVA, sz));
	ASSERT_EQ(0, w_exec(a, &x0));
	EXPECT_LE(0, x0);
	EXPECT_TRUE(dma_through(e, 0, IOVA, 1)) TH_LOG("the exec took the mapping away");
	EXPECT_EQ(-EEXIST, map_rw(e->container, e->mem + 32 * PG, IOVA, PG));
	ASSERT_EQ(0, w_call(a, W_MAP_VADDR, 0, IOVA, sz)) TH_LOG("S2: the new image adopts it");
	EXPECT_EQ(x0 + KB(NPG), w_vmlck(a));
	EXPECT_EQ(x0 + KB(NPG), vmlck_kb_pid(a->pid));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 2));
	EXPECT_EQ((long long)sz, w_call(a, W_UNMAP, 0, IOVA, sz));
	EXPECT_EQ(x0, w_vmlck(a));
	ASSERT_EQ(0, w_exit(a));
}

/*
 * S5 (issue 11 item 5): a BAR (PFNMAP, reserved pages) is never charged,
 * not even transiently: mapping the edu's 1 MiB BAR0 with RLIMIT_MEMLOCK
 * 64 KiB above VmLck and without CAP_IPC_LOCK succeeds and VmLck does not
 * move; ordinary memory beside it is charged as usual, up to the limit.
 */
TEST_F_TIMEOUT(hostile, item5_s5_mmio_bar_over_rlimit_not_charged, TMO)
{
	struct env *e = &self->e;
	const uint64_t bar_iova = 0x800000;
	uint64_t bsz = e->edu.bar0_size;
	long base = vmlck_kb();
	void *bar;

	ASSERT_LT(16 * PG, bsz);
	bar = mmap(NULL, bsz, PROT_READ | PROT_WRITE, MAP_SHARED, e->edu.dev, e->edu.bar0);
	ASSERT_NE(MAP_FAILED, bar);
	/* Touch it so its PFNs exist (the edu's identification register). */
	EXPECT_EQ(0xedu, *(volatile uint32_t *)bar & 0xff);
	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, set_memlock(base * 1024 + 16 * PG));

	EXPECT_EQ(0, map_rw(e->container, bar, bar_iova, bsz))
		TH_LOG("S5: a BAR larger than RLIMIT_MEMLOCK must map");
	EXPECT_EQ(base, vmlck_kb());
	EXPECT_EQ(0, map_rw(e->container, e->mem, IOVA, 16 * PG));
	EXPECT_EQ(base + KB(16), vmlck_kb());
	EXPECT_EQ(-ENOMEM, map_rw(e->container, e->mem + 16 * PG, IOVA + 16 * PG, PG));
	EXPECT_EQ((long long)bsz, dma_unmap(e->container, bar_iova, bsz));
	EXPECT_EQ(base + KB(16), vmlck_kb());
	EXPECT_EQ((long long)(16 * PG), dma_unmap(e->container, IOVA, 16 * PG));
	EXPECT_EQ(base, vmlck_kb());
	munmap(bar, bsz);
}

/*
 * S4 (issue 11 item 6): attaching a group while a vaddr is invalid is
 * EBUSY, as type1 (an attach may have to pin); here the test mdev's
 * (emulated) group.  The refused group stays out, the mapping stays
 * vaddr-invalid; once the vaddr is set the attach works, and with an
 * emulated group in, UPDATE_VADDR is off: extension 0, UNMAP|VADDR EBUSY.
 */
TEST_F_TIMEOUT(hostile, item6_s4_attach_group_while_vaddr_invalid_ebusy, TMO)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct env *e = &self->e;
	const int c = e->container;

	if (access(MTEST_CREATE, W_OK))
		SKIP(return, "the test mdev driver (vfio_cxx_mtest) is not loaded");
	ASSERT_EQ(0, map_rw(c, e->mem, IOVA, 4 * PG));
	ASSERT_EQ((long long)(4 * PG), unmap_vaddr(c, IOVA, 4 * PG));
	ASSERT_EQ(0, mdev_create(&self->m));
	EXPECT_EQ(-EBUSY, set_container(self->m.group, c));
	ASSERT_EQ(0, ioctl(self->m.group, VFIO_GROUP_GET_STATUS, &st));
	EXPECT_EQ(0u, st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
	/* Nothing changed: the mapping is there and still vaddr-invalid. */
	EXPECT_EQ(-EEXIST, map_rw(c, e->mem + 8 * PG, IOVA, PG));
	ASSERT_EQ(0, dma_map(c, e->mem, IOVA, 4 * PG, VFIO_DMA_MAP_FLAG_VADDR));
	EXPECT_EQ(0, set_container(self->m.group, c));
	EXPECT_EQ(0, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	EXPECT_EQ(-EBUSY, unmap_vaddr(c, IOVA, 4 * PG));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 4));
	EXPECT_EQ(0, unset_container(self->m.group));
	EXPECT_EQ(1, ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	EXPECT_EQ((long long)(4 * PG), dma_unmap(c, IOVA, 4 * PG));
}

/*
 * Issue 11 item 6, issue 12 item 1: VFIO_CHECK_EXTENSION(type 6, once
 * VFIO_TYPE1_NESTING_IOMMU) on a container: type1 answers 1 on 6.1 and 6.12
 * (vfio_iommu_type1_check_extension), set or not; from 6.13 on, where
 * upstream removed nesting with iommu_enable_nesting(), 0 (our backend
 * decides by probing for iommu_enable_nesting at build time).
 */
#define TYPE1_NESTING 6 /* VFIO_TYPE1_NESTING_IOMMU, later __VFIO_RESERVED_... */
TEST_F_TIMEOUT(hostile, item6_check_extension_type1_nesting, TMO)
{
	int fresh = open("/dev/vfio/vfio", O_RDWR);
	long want = kernel_at_least(6, 13) ? 0 : 1;

	EXPECT_EQ(want, ioctl(self->e.container, VFIO_CHECK_EXTENSION, TYPE1_NESTING));
	EXPECT_EQ(1, ioctl(self->e.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, ioctl(self->e.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	ASSERT_LE(0, fresh);
	EXPECT_EQ(want, ioctl(fresh, VFIO_CHECK_EXTENSION, TYPE1_NESTING));
	close(fresh);
}

/*
 * Item 7's other threads keep the process's mmap lock busy, as a QEMU's
 * vCPU threads do: MAP_POPULATE faults 1 MiB in under the read lock,
 * mprotect and munmap take it for writing.
 */
#define HAMMERS 2
#define HAMMER_SZ (256 * PG)

struct hammer {
	atomic_int stop;
	atomic_int started;
	atomic_long rounds;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;

	atomic_fetch_add(&h->started, 1);
	while (!atomic_load(&h->stop)) {
		char *p = mmap(NULL, HAMMER_SZ, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (p != MAP_FAILED) {
			mprotect(p, HAMMER_SZ, PROT_READ);
			mprotect(p, HAMMER_SZ, PROT_READ | PROT_WRITE);
			munmap(p, HAMMER_SZ);
		}
		atomic_fetch_add(&h->rounds, 1);
	}
	return NULL;
}

/*
 * S6 (issue 11 item 7): with RLIMIT_MEMLOCK exactly N pages above VmLck,
 * no CAP_IPC_LOCK, and other threads keeping the mmap lock contended,
 * UNMAP of the N pages and at once MAP of them again succeeds every time
 * (the uncharge is synchronous), and VmLck ends at N pages.
 */
TEST_F_TIMEOUT(hostile, item7_s6_map_right_after_unmap_at_rlimit_mmap_lock_busy, TMO)
{
	const int n = 32, rounds = 200;
	const uint64_t sz = n * PG;
	const int c = self->e.container;
	struct hammer h = { 0 };
	int fails = 0, first = -1, first_err = 0, retries = 0;
	long base = vmlck_kb();
	char *buf = anon(sz);
	pthread_t t[HAMMERS];

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(0, base);
	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, set_memlock(base * 1024 + sz));
	ASSERT_EQ(0, map_rw(c, buf, IOVA, sz));
	for (int i = 0; i < HAMMERS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer_fn, &h));
	/*
	 * On a loaded host the hammers may not have been scheduled yet (seen
	 * beside a CPU hog: 200 rounds and not one hammer round): the rounds
	 * start once both run, and go on past `rounds` until a hammer round
	 * has ended among them (at most 20 times as many).
	 */
	for (int w = 0; atomic_load(&h.started) < HAMMERS && w < 3000; w++)
		usleep(10000);
	ASSERT_EQ(HAMMERS, atomic_load(&h.started));
	const long r0 = atomic_load(&h.rounds);
	int done = 0;

	for (int i = 0; i < rounds || (atomic_load(&h.rounds) == r0 && i < 20 * rounds); i++) {
		long long u = dma_unmap(c, IOVA, sz);
		int r = map_rw(c, buf, IOVA, sz);

		done++;
		if (u == (long long)sz && !r)
			continue;
		if (first < 0) {
			first = i;
			first_err = r ? r : (int)u;
		}
		fails++;
		/* Let a deferred uncharge land, so that the next round starts mapped. */
		while (r && retries < 500) {
			usleep(10000);
			retries++;
			r = map_rw(c, buf, IOVA, sz);
		}
		if (r)
			break;
	}
	const long during = atomic_load(&h.rounds) - r0;

	atomic_store(&h.stop, 1);
	for (int i = 0; i < HAMMERS; i++)
		pthread_join(t[i], NULL);
	TH_LOG("%d of %d MAPs right after UNMAP failed (first in round %d: %s); %ld hammer rounds among them",
	       fails, done, first, first_err ? strerror(-first_err) : "-", during);
	EXPECT_EQ(0, fails);
	EXPECT_LT(0, during);
	EXPECT_EQ(base + KB(n), vmlck_kb());
	EXPECT_EQ((long long)sz, dma_unmap(c, IOVA, sz));
	EXPECT_EQ(base, vmlck_kb());
	munmap(buf, sz);
}

/*
 * S7 (issue 11 item 8): type1's parameters, same names, modes and defaults,
 * on the module that serves the variant.
 */
TEST_F_TIMEOUT(hostile, item8_s7_type1_module_parameters, TMO)
{
	static const char *const names[] = { "dma_entry_limit", "disable_hugepages",
					     "allow_unsafe_interrupts" };
	static const char *const defaults[] = { "65535", "N", "N" };

	for (int i = 0; i < 3; i++) {
		char path[160], val[32] = "";
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", param_dir(variant->cxx), names[i]);
		if (stat(path, &st)) {
			EXPECT_EQ(0, -errno) TH_LOG("%s", path);
			continue;
		}
		EXPECT_EQ(0644u, st.st_mode & 0777) TH_LOG("%s", path);
		EXPECT_EQ(0, read_str(path, val, sizeof(val)));
		EXPECT_STREQ(defaults[i], val) TH_LOG("%s", path);
	}
}

static long dma_avail(int c)
{
	char buf[4096] = { 0 };
	struct vfio_iommu_type1_info *info = (void *)buf;
	struct vfio_info_cap_header *h;

	info->argsz = sizeof(buf);
	if (ioctl(c, VFIO_IOMMU_GET_INFO, info) || !(info->flags & VFIO_IOMMU_INFO_CAPS))
		return -1;
	for (uint32_t off = info->cap_offset; off && off + sizeof(*h) <= sizeof(buf); off = h->next) {
		h = (void *)(buf + off);
		if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
			return ((struct vfio_iommu_type1_info_dma_avail *)h)->avail;
	}
	return -1;
}

/*
 * S7 (issue 11 item 8): dma_entry_limit = K on the serving module: a
 * container opened then takes K mappings, the (K+1)th MAP is ENOSPC, and
 * GET_INFO's DMA_AVAIL counts down to 0 and back.  The limit is read at
 * open: raising it later does not change that container.
 */
TEST_F_TIMEOUT(hostile, item8_s7_dma_entry_limit, TMO)
{
	const int k = 4;
	struct env *e = &self->e;
	int c;

	ASSERT_EQ(0, param_set(self, variant->cxx, "dma_entry_limit", "4"));
	ASSERT_EQ(0, reopen_type1(variant->cxx, e));
	c = e->container;
	EXPECT_EQ(k, dma_avail(c));
	for (int i = 0; i < k; i++) {
		ASSERT_EQ(0, map_rw(c, e->mem + i * PG, IOVA + i * 0x10000, PG));
		EXPECT_EQ(k - 1 - i, dma_avail(c));
	}
	EXPECT_EQ(-ENOSPC, map_rw(c, e->mem + k * PG, IOVA + k * 0x10000, PG));
	EXPECT_EQ(0, dma_avail(c));
	EXPECT_EQ((long long)PG, dma_unmap(c, IOVA, PG));
	EXPECT_EQ(1, dma_avail(c));
	EXPECT_EQ(0, map_rw(c, e->mem + k * PG, IOVA + k * 0x10000, PG));
	EXPECT_EQ(0, dma_avail(c));
	ASSERT_EQ(0, param_set(self, variant->cxx, "dma_entry_limit", "65535"));
	EXPECT_EQ(-ENOSPC, map_rw(c, e->mem, IOVA, PG));
	EXPECT_EQ(0, dma_avail(c));
	for (int i = 1; i <= k; i++)
		EXPECT_EQ((long long)PG, dma_unmap(c, IOVA + i * 0x10000, PG));
	EXPECT_EQ(k, dma_avail(c));
}

/*
 * S7 (issue 11 item 8): disable_hugepages=1 on the serving module: a THP
 * backed 2 MiB mapping still maps, is charged 2 MiB, and the device's DMA
 * through it lands where it should (first page to last, middle to middle).
 */
TEST_F_TIMEOUT(hostile, item8_s7_disable_hugepages_dma, TMO)
{
	const uint64_t sz = 2UL << 20, io = 0x200000;
	struct env *e = &self->e;
	char path[160], val[8] = "", *raw, *buf;
	long base;
	int c;

	snprintf(path, sizeof(path), "%s/disable_hugepages", param_dir(variant->cxx));
	ASSERT_EQ(0, param_set(self, variant->cxx, "disable_hugepages", "1"));
	ASSERT_EQ(0, read_str(path, val, sizeof(val)));
	EXPECT_STREQ("Y", val);
	ASSERT_EQ(0, reopen_type1(variant->cxx, e));
	c = e->container;
	raw = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	buf = (char *)(((uintptr_t)raw + sz - 1) & ~(uintptr_t)(sz - 1));
	madvise(buf, sz, MADV_HUGEPAGE);
	memset(buf, 0x5a, sz);
	base = vmlck_kb();
	ASSERT_EQ(0, map_rw(c, buf, io, sz));
	EXPECT_EQ(base + (long)(sz >> 10), vmlck_kb());
	fill(buf, PG, 7);
	memset(buf + sz - PG, 0, PG);
	ASSERT_EQ(0, edu_dev_copy(&e->edu, io, io + sz - PG));
	EXPECT_TRUE(check(buf + sz - PG, EDU_XFER, 7));
	fill(buf + 300 * PG, PG, 8);
	memset(buf + 17 * PG, 0, PG);
	ASSERT_EQ(0, edu_dev_copy(&e->edu, io + 300 * PG, io + 17 * PG));
	EXPECT_TRUE(check(buf + 17 * PG, EDU_XFER, 8));
	EXPECT_EQ((long long)sz, dma_unmap(c, io, sz));
	EXPECT_EQ(base, vmlck_kb());
	munmap(raw, 2 * sz);
}

/* ------------------------------------------------------------------ */
/* fixture "release": VFIO_CXX_IOMMU, exit policy RELEASE (ours only)  */

FIXTURE(release) {
	struct env e;
	long dmas0, pre0, pinned0;
};

FIXTURE_SETUP(release)
{
	struct vfio_cxx_exit_policy p = { .argsz = sizeof(p), .policy = VFIO_CXX_EXIT_RELEASE };
	struct env *e = &self->e;

	env_init(e);
	ASSERT_LE(0, edu_group_number()) TH_LOG("VFIO_CXX_GROUP is not set");
	if (!module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	self->dmas0 = stat_get("dmas_live");
	self->pre0 = stat_get("prereg_pages");
	self->pinned0 = stat_get("pages_pinned");
	ASSERT_LE(0, self->dmas0);
	e->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, e->container);
	e->group = edu_group_open();
	ASSERT_LE(0, e->group);
	ASSERT_EQ(0, set_container(e->group, e->container));
	ASSERT_EQ(0, ioctl(e->container, VFIO_SET_IOMMU, VFIO_CXX_IOMMU));
	ASSERT_EQ(0, ioctl(e->container, VFIO_CXX_EXIT_POLICY, &p));
	ASSERT_EQ(0, edu_dev_open(&e->edu, e->group));
	ASSERT_EQ(0, env_mem(e));
}

FIXTURE_TEARDOWN(release)
{
	env_close(&self->e);
}

/*
 * Waits up to 5 s for the counters to reach dmas/pre: an exit's release
 * runs from a work item when the container's locks are busy at the exit.
 */
static void counters_settle(long dmas, long pre)
{
	for (int i = 0; i < 250; i++) {
		if (stat_get("dmas_live") == dmas && stat_get("prereg_pages") == pre)
			return;
		usleep(20000);
	}
}

#define COUNTERS(dmas, pre) do {						\
	counters_settle(self->dmas0 + (dmas), self->pre0 + (pre));		\
	EXPECT_EQ(self->dmas0 + (dmas), stat_get("dmas_live"));			\
	EXPECT_EQ(self->pre0 + (pre), stat_get("prereg_pages"));		\
} while (0)

/*
 * S3: under RELEASE the exit of a mapping's new owner (it set the vaddr
 * from another process) is watched: the old owner's exit leaves the
 * mapping, the new owner's exit releases it.
 */
TEST_F_TIMEOUT(release, s3_new_owner_exit_releases, TMO)
{
	const uint64_t sz = NPG * PG;
	struct env *e = &self->e;
	struct worker *a, *b;
	long a0, b0;

	a = w_spawn(e, 1);
	ASSERT_NE(NULL, a);
	a0 = w_vmlck(a);
	ASSERT_EQ(0, w_call(a, W_MAP, 0, IOVA, sz));
	ASSERT_EQ((long long)sz, w_call(a, W_UNMAP_VADDR, 0, IOVA, sz));
	b = w_fork(a);
	ASSERT_NE(NULL, b);
	b0 = w_vmlck(b);
	ASSERT_EQ(0, w_call(b, W_MAP_VADDR, 0, IOVA, sz));
	EXPECT_EQ(a0, w_vmlck(a));
	EXPECT_EQ(b0 + KB(NPG), w_vmlck(b));
	ASSERT_EQ(0, w_exit(a));
	COUNTERS(1, 0);
	EXPECT_EQ(self->pinned0 + NPG, stat_get("pages_pinned"));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 1)) TH_LOG("the old owner's exit took the mapping");
	EXPECT_EQ(b0 + KB(NPG), vmlck_kb_pid(b->pid));
	ASSERT_EQ(0, w_exit(b));
	COUNTERS(0, 0);
	EXPECT_EQ(self->pinned0, stat_get("pages_pinned")) TH_LOG("S3: the new owner's exit releases");
	EXPECT_EQ(0, map_rw(e->container, e->mem, IOVA, sz)) TH_LOG("the IOVA is free again");
	EXPECT_EQ((long long)sz, dma_unmap(e->container, IOVA, sz));
}

/*
 * S2: an owner's exit keeps its vaddr-invalid mappings (without a region)
 * and releases the valid ones; an unrelated process (SCM_RIGHTS) adopts the
 * kept one later, is charged, and its exit releases it.
 */
TEST_F_TIMEOUT(release, s2_exit_keeps_vaddr_invalid_then_adopted, TMO)
{
	const uint64_t sz = NPG * PG;
	struct env *e = &self->e;
	struct worker *a, *c;
	long c0;

	a = w_spawn(e, 1);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, w_call(a, W_MAP, 0, IOVA, sz));
	ASSERT_EQ(0, w_call(a, W_MAP, 32 * PG, IOVA2, 4 * PG));
	ASSERT_EQ((long long)sz, w_call(a, W_UNMAP_VADDR, 0, IOVA, sz));
	COUNTERS(2, 0);
	ASSERT_EQ(0, w_exit(a));
	COUNTERS(1, 0);
	EXPECT_EQ(self->pinned0 + NPG, stat_get("pages_pinned"));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 1)) TH_LOG("S2: the vaddr-invalid mapping is kept");
	c = w_spawn_scm(e);
	ASSERT_NE(NULL, c);
	c0 = w_vmlck(c);
	ASSERT_EQ(0, w_call(c, W_MAP_VADDR, 0, IOVA, sz));
	EXPECT_EQ(c0 + KB(NPG), w_vmlck(c));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 2));
	ASSERT_EQ(0, w_exit(c));
	COUNTERS(0, 0);
	EXPECT_EQ(self->pinned0, stat_get("pages_pinned"));
}

/*
 * S2, exec-based live update under RELEASE: the exec releases the owner's
 * valid mapping and keeps the vaddr-invalid one; the new image adopts it
 * (charged to the new mm), and its exit is watched (releases it).
 */
TEST_F_TIMEOUT(release, s2_exec_live_update, TMO)
{
	const uint64_t sz = NPG * PG;
	struct env *e = &self->e;
	struct worker *a;
	long x0;

	a = w_spawn(e, 1);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, w_call(a, W_MAP, 0, IOVA, sz));
	ASSERT_EQ(0, w_call(a, W_MAP, 32 * PG, IOVA2, 4 * PG));
	ASSERT_EQ((long long)sz, w_call(a, W_UNMAP_VADDR, 0, IOVA, sz));
	ASSERT_EQ(0, w_exec(a, &x0));
	COUNTERS(1, 0);
	EXPECT_EQ(self->pinned0 + NPG, stat_get("pages_pinned"));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 1)) TH_LOG("S2: the exec must keep it");
	ASSERT_EQ(0, w_call(a, W_MAP_VADDR, 0, IOVA, sz));
	EXPECT_EQ(x0 + KB(NPG), w_vmlck(a));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 2));
	ASSERT_EQ(0, w_exit(a));
	COUNTERS(0, 0);
	EXPECT_EQ(self->pinned0, stat_get("pages_pinned")) TH_LOG("S2: the adopter's exit releases");
}

/*
 * S1 (issue 11 item 1): from the region's own mm, MAP|VADDR of a mapping
 * backed by a region takes only a new range inside one registered region:
 * outside every region, or straddling a region's end, EINVAL and nothing
 * changes.  Into another region (a second mapping of the same memfd pages,
 * as a live update has it) it works and the mapping moves there: the old
 * region can go, the new one is busy.  The owner's exit then releases it.
 */
TEST_F_TIMEOUT(release, item1_s1_update_vaddr_own_mm_outside_regions_einval, TMO)
{
	const uint64_t rsz = 16 * PG, msz = 8 * PG;
	struct env *e = &self->e;
	struct worker *a;
	long a0;

	a = w_spawn(e, 1);
	ASSERT_NE(NULL, a);
	a0 = w_vmlck(a);
	ASSERT_EQ(0, w_call(a, W_REG, 0, 0, rsz));		/* R1: mem[0, 16) */
	ASSERT_EQ(0, w_call(a, W_REG, ALT, 0, rsz));		/* R2: mem2[0, 16) */
	COUNTERS(0, 32);
	EXPECT_EQ(a0 + KB(32), w_vmlck(a));
	ASSERT_EQ(0, w_call(a, W_MAP, 0, IOVA, msz));
	ASSERT_EQ((long long)msz, w_call(a, W_UNMAP_VADDR, 0, IOVA, msz));
	EXPECT_EQ(-EINVAL, w_call(a, W_MAP_VADDR, 20 * PG, IOVA, msz)) TH_LOG("outside every region");
	EXPECT_EQ(-EINVAL, w_call(a, W_MAP_VADDR, 12 * PG, IOVA, msz)) TH_LOG("straddles R1's end");
	EXPECT_EQ(-EINVAL, w_call(a, W_MAP_VADDR, ALT + 12 * PG, IOVA, msz))
		TH_LOG("straddles R2's end");
	COUNTERS(1, 32);
	EXPECT_EQ(a0 + KB(32), w_vmlck(a));
	EXPECT_EQ(-EBUSY, w_call(a, W_UNREG, 0, 0, rsz)) TH_LOG("R1 still backs the mapping");
	EXPECT_TRUE(dma_through(e, 0, IOVA, 1));
	ASSERT_EQ(0, w_call(a, W_MAP_VADDR, ALT, IOVA, msz)) TH_LOG("into R2");
	EXPECT_EQ(0, w_call(a, W_UNREG, 0, 0, rsz)) TH_LOG("the mapping moved to R2");
	EXPECT_EQ(-EBUSY, w_call(a, W_UNREG, ALT, 0, rsz));
	COUNTERS(1, 16);
	EXPECT_EQ(a0 + KB(16), w_vmlck(a));
	EXPECT_TRUE(dma_through(e, 0, IOVA, 2));
	ASSERT_EQ(0, w_exit(a));
	COUNTERS(0, 0);
}

/*
 * Issue 11 item 1, the BUG() path: VFIO_CXX_IOMMU, RELEASE, a region, a
 * mapping inside it, UNMAP|VADDR.  S1: a forked child and an unrelated
 * process that got the fd by SCM_RIGHTS both get EPERM from MAP|VADDR, and
 * nothing changes (VmLck of every process, the counters; the mapping stays
 * vaddr-invalid and DMA still lands).  S2: the owner's exit (end 0) or exec
 * (end 1) releases the mapping and the region with no BUG or WARN (the
 * lane checks the kernel log), the survivors' VmLck is unchanged, and the
 * container stays usable by them.
 */
static void item1_bug_path(struct __test_metadata *_metadata, FIXTURE_DATA(release) *self,
			   int exec)
{
	const uint64_t rsz = 32 * PG, msz = NPG * PG, moff = 8 * PG;
	struct env *e = &self->e;
	long t0 = vmlck_kb(), a0, b0, c0, x0 = -1;
	struct worker *a, *b, *c;

	a = w_spawn(e, 1);
	ASSERT_NE(NULL, a);
	a0 = w_vmlck(a);
	ASSERT_LE(0, a0);
	ASSERT_EQ(0, w_call(a, W_REG, 0, 0, rsz));
	ASSERT_EQ(0, w_call(a, W_MAP, moff, IOVA, msz));
	COUNTERS(1, 32);
	EXPECT_EQ(a0 + KB(32), w_vmlck(a)) TH_LOG("B36: charged once, by the region");
	ASSERT_EQ((long long)msz, w_call(a, W_UNMAP_VADDR, 0, IOVA, msz));
	b = w_fork(a);
	ASSERT_NE(NULL, b);
	c = w_spawn_scm(e);
	ASSERT_NE(NULL, c);
	b0 = w_vmlck(b);
	c0 = w_vmlck(c);
	ASSERT_LE(0, b0);
	ASSERT_LE(0, c0);

	EXPECT_EQ(-EPERM, w_call(b, W_MAP_VADDR, moff, IOVA, msz)) TH_LOG("S1: forked child");
	EXPECT_EQ(-EPERM, w_call(c, W_MAP_VADDR, moff, IOVA, msz)) TH_LOG("S1: SCM_RIGHTS receiver");
	EXPECT_EQ(-EPERM, dma_map(e->container, e->mem + moff, IOVA, msz, VFIO_DMA_MAP_FLAG_VADDR))
		TH_LOG("S1: the test process");
	EXPECT_EQ(-EPERM, w_call(b, W_MAP_VADDR, moff, IOVA, msz)) TH_LOG("still vaddr-invalid");
	COUNTERS(1, 32);
	EXPECT_EQ(a0 + KB(32), vmlck_kb_pid(a->pid));
	EXPECT_EQ(b0, w_vmlck(b));
	EXPECT_EQ(c0, w_vmlck(c));
	EXPECT_EQ(t0, vmlck_kb());
	EXPECT_TRUE(dma_through(e, moff, IOVA, 1));

	if (exec) {
		ASSERT_EQ(0, w_exec(a, &x0));
	} else {
		ASSERT_EQ(0, w_exit(a));
	}
	COUNTERS(0, 0);
	EXPECT_EQ(b0, w_vmlck(b));
	EXPECT_EQ(c0, w_vmlck(c));
	EXPECT_EQ(t0, vmlck_kb());
	EXPECT_EQ(-ENOENT, w_call(b, W_MAP_VADDR, moff, IOVA, msz)) TH_LOG("the mapping is gone");

	/* The container still works: a new MAP by each survivor. */
	EXPECT_EQ(0, w_call(b, W_MAP, 40 * PG, IOVA2, 4 * PG));
	EXPECT_EQ(b0 + KB(4), w_vmlck(b));
	EXPECT_TRUE(dma_through(e, 40 * PG, IOVA2, 2));
	EXPECT_EQ((long long)(4 * PG), w_call(b, W_UNMAP, 0, IOVA2, 4 * PG));
	EXPECT_EQ(b0, w_vmlck(b));
	EXPECT_EQ(0, w_call(c, W_MAP, 40 * PG, IOVA2, 4 * PG));
	EXPECT_EQ(c0 + KB(4), w_vmlck(c));
	EXPECT_EQ((long long)(4 * PG), w_call(c, W_UNMAP, 0, IOVA2, 4 * PG));
	if (exec) {
		EXPECT_EQ(0, w_call(a, W_MAP, 40 * PG, IOVA2, 4 * PG)) TH_LOG("the exec'd image");
		EXPECT_EQ(x0 + KB(4), w_vmlck(a));
		EXPECT_EQ(0, w_exit(a));
		COUNTERS(0, 0);
	}
	EXPECT_EQ(0, w_exit(b));
	EXPECT_EQ(0, w_exit(c));
	COUNTERS(0, 0);
	EXPECT_EQ(self->pinned0, stat_get("pages_pinned"));
}

TEST_F_TIMEOUT(release, item1_prereg_update_vaddr_other_mm_eperm_owner_exits, TMO)
{
	item1_bug_path(_metadata, self, 0);
}

TEST_F_TIMEOUT(release, item1_prereg_update_vaddr_other_mm_eperm_owner_execs, TMO)
{
	item1_bug_path(_metadata, self, 1);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], WORKER_ARG))
		return worker_main(argc, argv);
	return test_harness_run(argc, argv);
}
