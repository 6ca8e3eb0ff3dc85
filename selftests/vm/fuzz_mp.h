/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The process side of fuzz_test.c's multi-process fuzzer (issue 11, "the
 * fuzzer becomes multi-process"): the worker processes, their command
 * protocol, a raw generic-netlink client of the vfio_cxx family and the
 * dumper process that runs netlink dumps while the workers work.
 *
 * A worker is a process that holds copies of container fds (inherited by
 * fork, received over SCM_RIGHTS, or kept across exec) and has the fuzzer's
 * zone memory at the same fixed address as every other worker, so that one
 * vaddr means "the same page" in every mm.  It runs one command at a time
 * from its SOCK_SEQPACKET socket (struct mp_msg, an fd attached for
 * MPC_FORK and MPC_RECV) and answers each with the result; it forks (the
 * child becomes a worker on the socket that came with the command), execs
 * this binary again ("--fuzz-mp-worker <sock> <fd0> <fd1>": the constructor
 * below turns the new image back into a worker before the harness runs), or
 * exits.  A new worker (forked, exec'd or spawned) first sends MPC_HELLO
 * with its pid.  EOF on the socket ends it: a worker never outlives the
 * coordinator.
 *
 * Include after vm_util.h.
 */
#ifndef VFIO_CXX_FUZZ_MP_H
#define VFIO_CXX_FUZZ_MP_H

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "../../uapi/linux/vfio_cxx.h"
#include "../../uapi/linux/vfio_cxx_netlink.h"

#define MP_NC		2		/* containers: 0 with edu, 1 with the test mdev */
#define MP_NZONES	6		/* zones 0-3 in container 0, 4-5 in container 1 */
#define MP_ZPAGES	32		/* pages per zone */
#define MP_VA_BASE	0x5e0000000000ULL	/* zone memory, the same in every worker */
#define MP_ZVA(z)	(MP_VA_BASE + (uint64_t)(z) * MP_ZPAGES * PG)
#define MP_MEM_SIZE	((size_t)MP_NZONES * MP_ZPAGES * PG)
#define MP_WORKER_ARG	"--fuzz-mp-worker"

enum mp_cmd {
	MPC_HELLO = 1,	/* worker -> coordinator, first message: .pid */
	MPC_MAP,	/* VFIO_IOMMU_MAP_DMA: c, flags, vaddr, iova, size */
	MPC_UNMAP,	/* VFIO_IOMMU_UNMAP_DMA: c, flags, iova, size; ret: bytes */
	MPC_REG,	/* VFIO_CXX_REGISTER_MEMORY: c, vaddr, size */
	MPC_UNREG,	/* VFIO_CXX_UNREGISTER_MEMORY */
	MPC_FORK,	/* fork; the child serves the attached socket; ret: its pid */
	MPC_RECV,	/* the attached fd is the worker's copy of container c */
	MPC_CLOSE,	/* close the copy of container c */
	MPC_EXEC,	/* exec this binary as a worker (answers only if exec failed) */
	MPC_EXIT,	/* _exit(0), no answer */
};

struct mp_msg {
	int32_t op;
	int32_t c;
	uint32_t flags;
	uint32_t pad;
	uint64_t vaddr, iova, size;
	int64_t ret;	/* 0 or -errno; MPC_UNMAP: bytes; MPC_FORK: the child's pid */
	int64_t pid;	/* the sender's pid */
};

/* Sends m, with fd attached (SCM_RIGHTS) if fd >= 0; 0 or -errno. */
static int mp_send(int sock, const struct mp_msg *m, int fd)
{
	ssize_t n = fds_send(sock, m, sizeof(*m), &fd, fd >= 0);

	return n == (ssize_t)sizeof(*m) ? 0 : n < 0 ? (int)n : -EPROTO;
}

/* 1: a message (and *fd, or -1); 0: EOF; -errno otherwise. */
static int mp_recv(int sock, struct mp_msg *m, int *fd)
{
	ssize_t n = fds_recv(sock, m, sizeof(*m), fd, fd != NULL, NULL);

	if (n <= 0)
		return (int)n;
	return n == (ssize_t)sizeof(*m) ? 1 : -EPROTO;
}

/* Waits up to ms for sock to be readable: 1 yes, 0 timeout. */
static int mp_wait_readable(int sock, int ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/* ---- the worker ------------------------------------------------------------ */

static int mp_map_zone_memory(void)
{
	void *p = mmap((void *)MP_VA_BASE, MP_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != (void *)MP_VA_BASE)
		return -1;
	memset(p, 0x5a, MP_MEM_SIZE);	/* real pages, never the zero page */
	return 0;
}

static void mp_hello(int sock)
{
	struct mp_msg m = { .op = MPC_HELLO, .pid = getpid() };

	if (mp_send(sock, &m, -1))
		_exit(3);
}

static long long mp_do_unmap(int c, uint32_t flags, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = size,
	};

	return ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : (long long)u.size;
}

static void __attribute__((noreturn)) mp_worker(int sock, int *fds)
{
	struct mp_msg m;
	int fd;

	signal(SIGCHLD, SIG_IGN);	/* our children reap themselves */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int r = mp_recv(sock, &m, &fd);

		if (r <= 0)
			_exit(0);	/* the coordinator is gone */
		m.pid = getpid();
		switch (m.op) {
		case MPC_MAP:
			m.ret = dma_map(fds[m.c], (void *)(uintptr_t)m.vaddr, m.iova, m.size, m.flags);
			break;
		case MPC_UNMAP:
			m.ret = mp_do_unmap(fds[m.c], m.flags, m.iova, m.size);
			break;
		case MPC_REG:
		case MPC_UNREG:
			m.ret = prereg_ioctl(fds[m.c], m.op == MPC_REG ? VFIO_CXX_REGISTER_MEMORY :
					     VFIO_CXX_UNREGISTER_MEMORY, (void *)(uintptr_t)m.vaddr, m.size, 0);
			break;
		case MPC_FORK: {
			pid_t pid;

			if (fd < 0) {
				m.ret = -EBADF;
				break;
			}
			pid = fork();
			if (pid == 0) {
				close(sock);
				sock = fd;
				mp_hello(sock);
				continue;
			}
			close(fd);
			m.ret = pid < 0 ? -errno : pid;
			break;
		}
		case MPC_RECV:
			if (fd < 0) {
				m.ret = -EBADF;
				break;
			}
			if (fds[m.c] >= 0)
				close(fds[m.c]);
			fds[m.c] = fd;
			m.ret = 0;
			break;
		case MPC_CLOSE:
			m.ret = close(fds[m.c]) ? -errno : 0;
			fds[m.c] = -1;
			break;
		case MPC_EXEC: {
			char a[3][16];
			char *argv[] = { "fuzz_test-worker", MP_WORKER_ARG, a[0], a[1], a[2], NULL };

			snprintf(a[0], sizeof(a[0]), "%d", sock);
			snprintf(a[1], sizeof(a[1]), "%d", fds[0]);
			snprintf(a[2], sizeof(a[2]), "%d", fds[1]);
			execv("/proc/self/exe", argv);
			m.ret = -errno;
			break;
		}
		case MPC_EXIT:
			_exit(0);
		default:
			m.ret = -ENOSYS;
		}
		if (fd >= 0 && m.op != MPC_RECV && m.op != MPC_FORK)
			close(fd);
		if (mp_send(sock, &m, -1))
			_exit(0);
	}
}

/*
 * An exec'd or spawned worker: "fuzz_test --fuzz-mp-worker <sock> <fd0>
 * <fd1>" (-1: no copy).  glibc passes argc/argv to constructors; this one
 * runs before the harness's main and never returns.
 */
__attribute__((constructor)) static void mp_worker_entry(int argc, char **argv)
{
	int sock, fds[MP_NC];

	if (argc != 5 || strcmp(argv[1], MP_WORKER_ARG))
		return;
	sock = atoi(argv[2]);
	fds[0] = atoi(argv[3]);
	fds[1] = atoi(argv[4]);
	if (mp_map_zone_memory())
		_exit(2);
	mp_hello(sock);
	mp_worker(sock, fds);
}

/* ---- a raw generic-netlink client of the vfio_cxx family --------------------- */

struct mp_nl {
	int fd;
	uint16_t family;
	uint32_t seq;
	union {
		struct nlmsghdr align;
		char buf[1 << 16];
	};
};

struct mp_req {
	struct nlmsghdr h;
	struct genlmsghdr g;
	char attrs[64];
};

static void mp_put_attr(struct mp_req *r, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static int mp_nl_send(struct mp_nl *n, uint16_t type, uint8_t cmd, uint16_t flags,
		      uint16_t attr, const void *data, uint16_t len)
{
	struct mp_req r;

	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r.h.nlmsg_type = type;
	r.h.nlmsg_flags = NLM_F_REQUEST | flags;
	r.h.nlmsg_seq = ++n->seq;
	r.g.cmd = cmd;
	r.g.version = type == GENL_ID_CTRL ? 1 : VFIO_CXX_GENL_VERSION;
	if (attr)
		mp_put_attr(&r, attr, data, len);
	return send(n->fd, &r, r.h.nlmsg_len, 0) == (ssize_t)r.h.nlmsg_len ? 0 : -errno;
}

/*
 * Called with each reply message's attributes (tb[type], NULL if absent);
 * returns 0, or -1 to stop with the reason in why.
 */
typedef int (*mp_nl_cb)(void *ctx, struct nlattr **tb, char *why, size_t whylen);

#define MP_NL_MALFORMED	(-10000)	/* a reply that does not parse (why says how) */

static int mp_nl_collect(struct mp_nl *n, mp_nl_cb cb, void *ctx, char *why, size_t whylen)
{
	int count = 0;

	for (;;) {
		ssize_t len = recv(n->fd, n->buf, sizeof(n->buf), 0);
		struct nlmsghdr *h;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			snprintf(why, whylen, "netlink recv: %s", len ? strerror(errno) : "EOF");
			return MP_NL_MALFORMED;
		}
		for (h = (struct nlmsghdr *)n->buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct nlattr *tb[VFIO_CXX_A_MAX + 1] = { 0 };
			struct nlattr *a;
			int rest;

			if (h->nlmsg_seq != n->seq)
				continue;	/* a late answer to an earlier request */
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					snprintf(why, whylen, "short NLMSG_ERROR (%u bytes)", h->nlmsg_len);
					return MP_NL_MALFORMED;
				}
				return e->error ? e->error : count;	/* 0: the ACK of a do request */
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(int));
				return e < 0 ? e : count;
			}
			if (h->nlmsg_type != n->family || h->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
				snprintf(why, whylen, "unexpected message type %u, %u bytes",
					 h->nlmsg_type, h->nlmsg_len);
				return MP_NL_MALFORMED;
			}
			a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
			rest = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
			while (rest >= NLA_HDRLEN) {
				int t = a->nla_type & NLA_TYPE_MASK;

				if (a->nla_len < NLA_HDRLEN || a->nla_len > rest) {
					snprintf(why, whylen, "attribute %d: length %u of %d", t,
						 a->nla_len, rest);
					return MP_NL_MALFORMED;
				}
				if (t <= VFIO_CXX_A_MAX)
					tb[t] = a;	/* readers ignore unknown ones */
				rest -= NLA_ALIGN(a->nla_len);
				a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
			}
			count++;
			if (cb && cb(ctx, tb, why, whylen))
				return MP_NL_MALFORMED;
		}
	}
}

static int mp_nl_open(struct mp_nl *n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char name[] = VFIO_CXX_GENL_NAME, why[128];
	struct timeval tv = { .tv_sec = 60 };

	n->seq = 1;
	n->family = 0;
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (n->fd < 0)
		return -errno;
	/* A reply that never comes fails the caller instead of hanging it. */
	setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(n->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    mp_nl_send(n, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, CTRL_ATTR_FAMILY_NAME, name, sizeof(name)))
		return -errno;
	for (;;) {
		ssize_t len = recv(n->fd, n->buf, sizeof(n->buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)n->buf;
		struct nlattr *a;
		int rest;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0 || !NLMSG_OK(h, (size_t)len))
			return -EIO;
		if (h->nlmsg_type == NLMSG_ERROR)
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
		a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
		rest = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
		while (rest >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rest) {
			if (a->nla_type == CTRL_ATTR_FAMILY_ID)
				memcpy(&n->family, (char *)a + NLA_HDRLEN, sizeof(n->family));
			rest -= NLA_ALIGN(a->nla_len);
			a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
		}
		(void)why;
		return n->family ? 0 : -ENOENT;
	}
}

/*
 * One request: cmd as a dump (dump != 0) or a do (with an ACK), with the
 * container id attribute when id != 0.  Returns the number of messages,
 * the request's -errno, or MP_NL_MALFORMED.
 */
static int mp_nl_request(struct mp_nl *n, uint8_t cmd, int dump, uint64_t id, mp_nl_cb cb,
			 void *ctx, char *why, size_t whylen)
{
	int r = mp_nl_send(n, n->family, cmd, dump ? NLM_F_DUMP : NLM_F_ACK,
			   id ? VFIO_CXX_A_CONTAINER_ID : 0, &id, sizeof(id));

	if (r) {
		snprintf(why, whylen, "netlink send: %s", strerror(-r));
		return MP_NL_MALFORMED;
	}
	return mp_nl_collect(n, cb, ctx, why, whylen);
}

/* Attribute t's len-byte value into v, checking its length; 0, or -1 (and *bad set) if it is wrong or absent. */
static int mp_nla_get(struct nlattr **tb, int t, int *bad, void *v, unsigned int len)
{
	if (!tb[t] || tb[t]->nla_len != NLA_HDRLEN + len) {
		*bad = t;
		return -1;
	}
	memcpy(v, (char *)tb[t] + NLA_HDRLEN, len);
	return 0;
}

/* An attribute's value, checking its length; -1 (and *bad set) if it is wrong or absent. */
static uint64_t mp_nla_u64(struct nlattr **tb, int t, int *bad)
{
	uint64_t v;

	return mp_nla_get(tb, t, bad, &v, 8) ? ~0ULL : v;
}

static uint32_t mp_nla_u32(struct nlattr **tb, int t, int *bad)
{
	uint32_t v;

	return mp_nla_get(tb, t, bad, &v, 4) ? ~0U : v;
}

/* ---- the dumper -------------------------------------------------------------- */

/*
 * It loops GET_STATS, the GET_CONTAINER dump, and GET_MAPPINGS and
 * GET_PREREGS of every container the coordinator (owner) created, until
 * its stop pipe closes; then writes struct mp_dump to its result pipe.
 * Every message must parse, with attributes of the right sizes; mappings
 * and regions come in increasing, non-overlapping order, page aligned,
 * inside the fuzzer's IOVA and zone windows; the only error allowed is
 * ENOENT, for a container that went away (and must then stay away).
 */
struct mp_dump {
	long stats, containers, mappings, preregs;	/* requests answered */
	long msgs, enoent;
	char fail[256];
};

struct mp_dump_ctx {
	struct mp_dump *d;
	uint64_t id, next;	/* the container asked for; the lowest allowed next start */
	uint64_t lo, hi;	/* the window the addresses must lie in */
	uint64_t ids[64];	/* GET_CONTAINER: the coordinator's containers */
	int nids;
	pid_t owner;
};

static int mp_dump_container_cb(void *p, struct nlattr **tb, char *why, size_t len)
{
	struct mp_dump_ctx *x = p;
	int bad = 0;
	uint64_t id = mp_nla_u64(tb, VFIO_CXX_A_CONTAINER_ID, &bad);
	uint32_t tgid = mp_nla_u32(tb, VFIO_CXX_A_OWNER_TGID, &bad);
	uint64_t maps = mp_nla_u64(tb, VFIO_CXX_A_MAPPINGS, &bad);
	uint64_t bytes = mp_nla_u64(tb, VFIO_CXX_A_MAPPED_BYTES, &bad);
	uint64_t pinned = mp_nla_u64(tb, VFIO_CXX_A_PAGES_PINNED, &bad);
	uint64_t orphans = mp_nla_u64(tb, VFIO_CXX_A_ORPHANED_MAPPINGS, &bad);

	mp_nla_u32(tb, VFIO_CXX_A_IOMMU_TYPE, &bad);
	mp_nla_u64(tb, VFIO_CXX_A_LOCKED_PAGES, &bad);
	mp_nla_u64(tb, VFIO_CXX_A_PREREG_PAGES, &bad);
	if (bad) {
		snprintf(why, len, "GET_CONTAINER: attribute %d missing or of the wrong size", bad);
		return -1;
	}
	/*
	 * The counters are read without the container lock (issue 11 item
	 * 3), each on its own, and the orphan count is the last one taken
	 * when the lock was free: no relation between them holds while the
	 * container changes.  Only what each value is on its own.
	 */
	if (id <= x->next || (bytes & (PG - 1))) {
		snprintf(why, len, "GET_CONTAINER: container %llu after %llu: %llu mappings, %llu bytes, "
			 "%llu pinned, %llu orphaned", (unsigned long long)id,
			 (unsigned long long)x->next, (unsigned long long)maps,
			 (unsigned long long)bytes, (unsigned long long)pinned,
			 (unsigned long long)orphans);
		return -1;
	}
	x->next = id;
	if (tgid == (uint32_t)x->owner && x->nids < 64)
		x->ids[x->nids++] = id;
	return 0;
}

static int mp_dump_range_cb(void *p, struct nlattr **tb, char *why, size_t len, int mapping)
{
	struct mp_dump_ctx *x = p;
	int bad = 0;
	uint64_t id = mp_nla_u64(tb, VFIO_CXX_A_CONTAINER_ID, &bad);
	uint64_t start = mapping ? mp_nla_u64(tb, VFIO_CXX_A_IOVA, &bad) :
				   mp_nla_u64(tb, VFIO_CXX_A_VADDR, &bad);
	uint64_t size = mp_nla_u64(tb, VFIO_CXX_A_SIZE, &bad);
	uint64_t pinned = mp_nla_u64(tb, VFIO_CXX_A_PAGES_PINNED, &bad);
	uint32_t flags = 0;

	mp_nla_u64(tb, VFIO_CXX_A_MM_ID, &bad);
	if (mapping) {
		mp_nla_u64(tb, VFIO_CXX_A_VADDR, &bad);
		mp_nla_u32(tb, VFIO_CXX_A_PROT, &bad);
		flags = mp_nla_u32(tb, VFIO_CXX_A_MAP_FLAGS, &bad);
		mp_nla_u64(tb, VFIO_CXX_A_LOCKED_PAGES, &bad);
		mp_nla_u64(tb, VFIO_CXX_A_EXTERNAL_PAGES, &bad);
	} else {
		mp_nla_u64(tb, VFIO_CXX_A_PREREG_USERS, &bad);
	}
	if (bad) {
		snprintf(why, len, "%s: attribute %d missing or of the wrong size",
			 mapping ? "GET_MAPPINGS" : "GET_PREREGS", bad);
		return -1;
	}
	if (id != x->id || start < x->next || !size || ((start | size) & (PG - 1)) ||
	    start < x->lo || start + size > x->hi || pinned > size / PG ||
	    (!mapping && pinned != size / PG) ||
	    (flags & ~(VFIO_CXX_MAP_F_IOMMU_MAPPED | VFIO_CXX_MAP_F_VADDR_INVALID))) {
		snprintf(why, len, "%s of container %llu: container %llu, [%#llx, +%#llx) after %#llx, "
			 "%llu pinned, flags %#x", mapping ? "GET_MAPPINGS" : "GET_PREREGS",
			 (unsigned long long)x->id, (unsigned long long)id,
			 (unsigned long long)start, (unsigned long long)size,
			 (unsigned long long)x->next, (unsigned long long)pinned, flags);
		return -1;
	}
	x->next = start + size;
	return 0;
}

static int mp_dump_mapping_cb(void *p, struct nlattr **tb, char *why, size_t len)
{
	return mp_dump_range_cb(p, tb, why, len, 1);
}

static int mp_dump_prereg_cb(void *p, struct nlattr **tb, char *why, size_t len)
{
	return mp_dump_range_cb(p, tb, why, len, 0);
}

static int mp_dump_stats_cb(void *p, struct nlattr **tb, char *why, size_t len)
{
	int bad = 0;
	uint64_t live = mp_nla_u64(tb, VFIO_CXX_A_STAT_CONTAINERS_LIVE, &bad);
	uint64_t opened = mp_nla_u64(tb, VFIO_CXX_A_STAT_CONTAINERS_OPENED, &bad);

	mp_nla_u64(tb, VFIO_CXX_A_STAT_DMAS_LIVE, &bad);
	mp_nla_u64(tb, VFIO_CXX_A_STAT_PREREG_PAGES, &bad);
	mp_nla_u64(tb, VFIO_CXX_A_STAT_MM_EXITS, &bad);
	if (bad || live > opened) {
		snprintf(why, len, "GET_STATS: attribute %d, %llu live of %llu opened", bad,
			 (unsigned long long)live, (unsigned long long)opened);
		return -1;
	}
	return 0;
}

/* The dumper's IOVA window (uint64_t lo, hi) for the mappings, set by the coordinator. */
static uint64_t mp_iova_lo, mp_iova_hi;

static void __attribute__((noreturn)) mp_dumper(int stop_fd, int res_fd, pid_t owner)
{
	static struct mp_nl n;
	struct mp_dump d;
	uint64_t gone[64];
	int ngone = 0;
	char why[200];

	memset(&d, 0, sizeof(d));
	if (mp_nl_open(&n)) {
		snprintf(d.fail, sizeof(d.fail), "dumper: the vfio_cxx netlink family is not there");
		goto out;
	}
	while (!d.fail[0]) {
		struct mp_dump_ctx x = { .d = &d, .owner = owner };
		int r;

		if (mp_wait_readable(stop_fd, 0))
			break;
		r = mp_nl_request(&n, VFIO_CXX_CMD_GET_STATS, 0, 0, mp_dump_stats_cb, &x, why, sizeof(why));
		if (r != 1) {
			snprintf(d.fail, sizeof(d.fail), "dumper: GET_STATS: %d %s", r, r == MP_NL_MALFORMED ? why : "");
			break;
		}
		d.stats++;
		r = mp_nl_request(&n, VFIO_CXX_CMD_GET_CONTAINER, 1, 0, mp_dump_container_cb, &x, why,
				  sizeof(why));
		if (r < 0) {
			snprintf(d.fail, sizeof(d.fail), "dumper: GET_CONTAINER dump: %d %s", r,
				 r == MP_NL_MALFORMED ? why : strerror(-r));
			break;
		}
		d.containers++;
		d.msgs += r;
		for (int i = 0; i < x.nids && !d.fail[0]; i++) {
			for (int g = 0; g < ngone; g++)
				if (gone[g] == x.ids[i])
					snprintf(d.fail, sizeof(d.fail),
						 "dumper: container %llu came back after ENOENT",
						 (unsigned long long)x.ids[i]);
			for (int k = 0; k < 2 && !d.fail[0]; k++) {
				x.id = x.ids[i];
				x.next = 0;
				x.lo = k ? MP_VA_BASE : mp_iova_lo;
				x.hi = k ? MP_VA_BASE + MP_MEM_SIZE : mp_iova_hi;
				r = mp_nl_request(&n, k ? VFIO_CXX_CMD_GET_PREREGS : VFIO_CXX_CMD_GET_MAPPINGS, 1,
						  x.id, k ? mp_dump_prereg_cb : mp_dump_mapping_cb, &x, why,
						  sizeof(why));
				if (r == -ENOENT) {
					d.enoent++;
					if (ngone < 64)
						gone[ngone++] = x.id;
					break;
				}
				if (r < 0) {
					snprintf(d.fail, sizeof(d.fail), "dumper: %s of container %llu: %d %s",
						 k ? "GET_PREREGS" : "GET_MAPPINGS", (unsigned long long)x.id,
						 r, r == MP_NL_MALFORMED ? why : strerror(-r));
					break;
				}
				d.msgs += r;
				if (k)
					d.preregs++;
				else
					d.mappings++;
			}
		}
		usleep(2000);	/* leave the CPUs to the workers most of the time */
	}
out:
	if (write(res_fd, &d, sizeof(d)) != sizeof(d))
		_exit(1);
	_exit(0);
}

#endif /* VFIO_CXX_FUZZ_MP_H */
