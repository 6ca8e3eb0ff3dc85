// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_bench: vfio_iommu_cxx against the in-tree vfio_iommu_type1, side by
 * side in one boot (issue 8).  Runs inside the guest of scripts/bench.sh
 * (bench/guest-bench.sh), as root, with QEMU's edu device bound to vfio-pci
 * ($VFIO_CXX_GROUP), vfio_iommu_cxx and the test mdev driver
 * (selftests/mdev/) loaded.
 *
 * Backends, chosen per container:
 *   type1   claim_type1=0, VFIO_TYPE1v2_IOMMU: the in-tree vfio_iommu_type1
 *   cxx     claim_type1=1, VFIO_TYPE1v2_IOMMU: vfio_iommu_cxx
 *   cxxpre  VFIO_CXX_IOMMU (vfio_iommu_cxx with preregistered memory)
 *   iommufd (issue 15) no container: /dev/iommu's native API, an IOAS with
 *           the devices' vfio cdevs bound (VFIO_DEVICE_BIND_IOMMUFD) and
 *           attached to it; mdev pins go through the mdev's iommufd access.
 *           Only where the kernel has iommufd and the cdevs (the bench
 *           kernel, scripts/debug-kernel.sh bench).
 *   floor   (issue 15) no VFIO at all: bench/floor/'s module pins the
 *           buffer with pin_user_pages_fast and maps it with one
 *           iommu_map_sgtable into a domain of its own on the edu device,
 *           with no bookkeeping (bench/floor/vfio_cxx_floor.c).
 * The containers_opened counter of our debugfs stats proves which served.
 * Within each round the backends rotate (the first one changes from round
 * to round), so that drifts of the (shared, TCG) machine hit all.
 *
 * Output, on stdout, one sample per line (the report, bench/report.py, takes
 * medians):
 *   S <workload> <backend> <metric> <value>
 *   I <key> <value...>          (information)
 *   E <message>                 (a workload that could not run)
 *   M <seq> <label...>          (BENCH_MARK=1 only: a marker, below)
 *
 * With BENCH_MARK=1 (make bench-insns), each timed loop of the scaling and
 * pin workloads is framed by markers: a call into a lone `ret` at MARK_VA,
 * which bench/tcg-insns/insns.c (a QEMU TCG plugin) sees as the block at
 * that address and answers with a snapshot of the instructions executed
 * since the previous marker.  The label of marker k names the work between
 * it and marker k + 1: "<workload> <backend> <phase> <ops>", or "idle".
 *
 *   vfio_bench [-r rounds] [-R scaling rounds] [-s MiB] [-H hugetlb MiB]
 *              [-n max mappings] [-t tracking devices] [-w workloads]
 * workloads: comma list of map4k,thp,hugetlb,prereg,pin,rw,track,scale
 *            (scale_edu, scale_nodomain: one half of scale)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/vfio_cxx.h>

#include "../selftests/vm/vm_util.h"

#define IOVA_BIG	0x100000000ULL	/* 4 GiB: 1 GiB aligned, far from the MSI window */
#define IOVA_MDEV	0x100000ULL
#define MB		(1024UL * 1024UL)
#define HPAGE		(2 * MB)
#define RW		(MTEST_PROT_READ | MTEST_PROT_WRITE)

enum backend { TYPE1, CXX, CXXPRE, IOMMUFD, FLOOR };
static const char *const bname[] = { "type1", "cxx", "cxxpre", "iommufd", "floor" };

static int rounds = 5, srounds = 3;
static unsigned long map_mib = 256, huge_mib = 256;
static unsigned long max_maps = 65536;
static int track_devs = 4;
static const char *workloads = "map4k,thp,hugetlb,prereg,pin,rw,track,scale";
static int edu = -1;	/* the edu group fd (closed while iommufd has the device) */
static int edu_groupnr = -1;
static char edu_sys[160];	/* /sys/bus/pci/devices/<bdf> */
static int have_iommufd;	/* /dev/iommu, and the edu has a vfio cdev */
static int have_floor;		/* /dev/vfio_cxx_floor (bench/floor/) */

#define MARK_VA 0x7e0000000000UL
static void (*marker)(void);	/* BENCH_MARK=1: the `ret` at MARK_VA */
static unsigned long mark_seq;

static void mark_init(void)
{
	const char *e = getenv("BENCH_MARK");
	unsigned char *p;

	if (!e || strcmp(e, "1"))
		return;
	p = mmap((void *)MARK_VA, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)MARK_VA) {
		printf("E BENCH_MARK: cannot map the marker page: %s\n", strerror(errno));
		return;
	}
	p[0] = 0xc3; /* ret */
	marker = (void (*)(void))p;
}

/*
 * A marker whose label names the work up to the next one (no-op without
 * BENCH_MARK).  The label is kept in memory and printed at the end, so
 * that no write(2) lands inside a marked segment.
 */
static char **mark_labels;
static void __attribute__((format(printf, 1, 2))) mark(const char *fmt, ...)
{
	va_list ap;
	char **l;

	if (!marker)
		return;
	marker();
	l = realloc(mark_labels, (mark_seq + 1) * sizeof(*l));
	if (!l)
		return;
	mark_labels = l;
	va_start(ap, fmt);
	if (vasprintf(&mark_labels[mark_seq], fmt, ap) < 0)
		mark_labels[mark_seq] = NULL;
	va_end(ap);
	mark_seq++;
}

static void mark_print(void)
{
	for (unsigned long i = 0; i < mark_seq; i++)
		printf("M %lu %s\n", i + 1, mark_labels[i] ? mark_labels[i] : "idle");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sample(const char *w, int b, const char *metric, double v)
{
	printf("S %s %s %s %.6g\n", w, bname[b], metric, v);
	fflush(stdout);
}

static int want(const char *w)
{
	const char *p = workloads;
	size_t n = strlen(w);

	while ((p = strstr(p, w))) {
		if ((p == workloads || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * The backends a workload compares: type1 and ours, then iommufd and the
 * floor where this kernel has them (floor: only for workloads that ask).
 * Returns how many; pick() rotates them from round to round.
 */
static int backends(int *list, int ours, int with_floor)
{
	int n = 0;

	list[n++] = TYPE1;
	list[n++] = ours;
	if (have_iommufd)
		list[n++] = IOMMUFD;
	if (with_floor && have_floor)
		list[n++] = FLOOR;
	return n;
}

/* The i-th backend of round r: the list rotated by r (two: type1 first in even rounds). */
static int pick(int r, int i, const int *list, int n)
{
	return list[(r + i) % n];
}

/*
 * A container of backend b with the given groups attached.  Returns the fd,
 * or -1 (with a message) when it could not be made or the wrong backend
 * served.
 */
static int open_container(int b, const int *groups, int ngroups)
{
	long opened0, opened1;
	int c, i;

	if (write_str(PARAM_CLAIM, b == TYPE1 ? "0" : "1")) {
		printf("E cannot write %s\n", PARAM_CLAIM);
		return -1;
	}
	opened0 = stat_get("containers_opened");
	c = open("/dev/vfio/vfio", O_RDWR);
	if (c < 0)
		return -1;
	for (i = 0; i < ngroups; i++)
		if (set_container(groups[i], c)) {
			printf("E set_container: %s\n", strerror(errno));
			goto fail;
		}
	if (ioctl(c, VFIO_SET_IOMMU, b == CXXPRE ? VFIO_CXX_IOMMU : VFIO_TYPE1v2_IOMMU)) {
		printf("E VFIO_SET_IOMMU %s: %s\n", bname[b], strerror(errno));
		goto fail;
	}
	opened1 = stat_get("containers_opened");
	if ((opened1 == opened0 + 1) != (b != TYPE1)) {
		printf("E the wrong backend served a %s container\n", bname[b]);
		goto fail;
	}
	return c;
fail:
	for (i = 0; i < ngroups; i++)
		unset_container(groups[i]);
	close(c);
	return -1;
}

static void close_container(int c, const int *groups, int ngroups)
{
	for (int i = 0; i < ngroups; i++)
		unset_container(groups[i]);
	close(c);
}

/* ------------------------------------------------------------------ */
/* iommufd: an IOAS with vfio device cdevs bound, and the floor        */

/* The vfio cdev (/dev/vfio/devices/vfioN) of the device at sysfs path dev, opened; -1 if none. */
static int cdev_open(const char *dev)
{
	char path[256];
	struct dirent *de;
	int fd = -1;
	DIR *d;

	snprintf(path, sizeof(path), "%s/vfio-dev", dev);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", de->d_name);
			fd = open(path, O_RDWR);
			break;
		}
	closedir(d);
	return fd;
}

/* Bind the cdev fd to iommufd and attach it to the IOAS: 0 or -errno. */
static int cdev_bind(int fd, int iommufd, uint32_t ioas)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = iommufd };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = ioas };

	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) || ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		return -errno;
	return 0;
}

static int ioas_map(int iommufd, uint32_t ioas, void *vaddr, uint64_t iova, uint64_t size)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas, .user_va = (uintptr_t)vaddr, .length = size, .iova = iova,
	};

	return ioctl(iommufd, IOMMU_IOAS_MAP, &m) ? -1 : 0;
}

static long long ioas_unmap(int iommufd, uint32_t ioas, uint64_t iova, uint64_t size)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = size };

	return ioctl(iommufd, IOMMU_IOAS_UNMAP, &u) ? -errno : (long long)u.length;
}

/* bench/floor/vfio_cxx_floor.c's uAPI */
struct floor_req {
	uint64_t vaddr, iova, size;
};
#define FLOOR_MAP	_IOW('F', 1, struct floor_req)
#define FLOOR_UNMAP	_IOW('F', 2, struct floor_req)
#define FLOOR_DEV	"/dev/vfio_cxx_floor"

/*
 * Where a workload maps: a container of type1 or ours (c), an iommufd with
 * one IOAS (c, ioas) and the devices' cdevs (edu_fd; the mdev's in m->dev),
 * or the floor module (c).  The groups of a container are in groups.
 */
struct space {
	int b;
	int c;
	uint32_t ioas;
	int edu_fd;
	struct mdev *m;
	int groups[2], ng;
};

static void space_close(struct space *s);

/*
 * Open a space of backend b with the edu (with_edu) and the mdev m (may be
 * null; its device opened, for pins) in it: 0, or -1 with a message.  A
 * device can be bound to iommufd only while its group is not open through
 * the group interface, so iommufd closes the groups' fds for the time.
 */
static int space_open(struct space *s, int b, int with_edu, struct mdev *m, int open_mdev)
{
	memset(s, 0, sizeof(*s));
	s->b = b, s->c = -1, s->edu_fd = -1, s->m = NULL;
	if (b == FLOOR) {
		s->c = open(FLOOR_DEV, O_RDWR);
		if (s->c < 0)
			printf("E cannot open %s: %s\n", FLOOR_DEV, strerror(errno));
		return s->c < 0 ? -1 : 0;
	}
	if (b != IOMMUFD) {
		if (m)
			s->groups[s->ng++] = m->group;
		if (with_edu)
			s->groups[s->ng++] = edu;
		s->c = open_container(b, s->groups, s->ng);
		if (s->c < 0)
			return -1;
		if (open_mdev && mdev_open_dev(m)) {
			printf("E cannot open the mdev device\n");
			mdev_close_dev(m);
			close_container(s->c, s->groups, s->ng);
			s->c = -1;
			return -1;
		}
		s->m = open_mdev ? m : NULL;
		return 0;
	}
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int ret;

	s->c = open("/dev/iommu", O_RDWR);
	if (s->c < 0 || ioctl(s->c, IOMMU_IOAS_ALLOC, &a)) {
		printf("E iommufd: /dev/iommu, IOAS_ALLOC: %s\n", strerror(errno));
		space_close(s);
		return -1;
	}
	s->ioas = a.out_ioas_id;
	if (with_edu) {
		close(edu);
		edu = -1;
		s->edu_fd = cdev_open(edu_sys);
		ret = s->edu_fd < 0 ? -errno : cdev_bind(s->edu_fd, s->c, s->ioas);
		if (ret) {
			printf("E iommufd: bind the edu's cdev: %s\n", strerror(-ret));
			space_close(s);
			return -1;
		}
	}
	/*
	 * The mdev only when it is to pin: a container's mdev group with no
	 * device open registers nothing, and the same IOAS holds no access.
	 */
	if (m && open_mdev) {
		char dev[96];

		close(m->group);
		m->group = -1;
		s->m = m; /* space_close opens the group again */
		snprintf(dev, sizeof(dev), "/sys/bus/mdev/devices/%s", m->uuid);
		m->dev = cdev_open(dev);
		ret = m->dev < 0 ? -errno : cdev_bind(m->dev, s->c, s->ioas);
		if (ret || mdev_region(m)) {
			printf("E iommufd: bind the mdev's cdev: %s\n", strerror(ret ? -ret : EIO));
			space_close(s);
			return -1;
		}
	}
	return 0;
}

static void space_close(struct space *s)
{
	if (s->b == FLOOR) {
		if (s->c >= 0)
			close(s->c);
		return;
	}
	if (s->b != IOMMUFD) {
		if (s->m)
			mdev_close_dev(s->m);
		if (s->c >= 0)
			close_container(s->c, s->groups, s->ng);
		return;
	}
	if (s->m) {
		mdev_close_dev(s->m);
		if (s->m->group < 0)
			s->m->group = group_open(s->m->groupnr);
	}
	if (s->edu_fd >= 0)
		close(s->edu_fd);
	if (edu < 0)
		edu = group_open(edu_groupnr);
	if (s->c >= 0)
		close(s->c);
}

static int space_map(struct space *s, void *vaddr, uint64_t iova, uint64_t size)
{
	if (s->b == FLOOR) {
		struct floor_req q = { (uintptr_t)vaddr, iova, size };

		return ioctl(s->c, FLOOR_MAP, &q) ? -1 : 0;
	}
	if (s->b == IOMMUFD)
		return ioas_map(s->c, s->ioas, vaddr, iova, size);
	return map_rw(s->c, vaddr, iova, size);
}

/* Bytes unmapped, or < 0. */
static long long space_unmap(struct space *s, uint64_t iova, uint64_t size)
{
	if (s->b == FLOOR) {
		struct floor_req q = { 0, iova, size };

		return ioctl(s->c, FLOOR_UNMAP, &q) ? -errno : (long long)size;
	}
	if (s->b == IOMMUFD)
		return ioas_unmap(s->c, s->ioas, iova, size);
	return dma_unmap(s->c, iova, size);
}

/* Anonymous memory, touched: 4K pages (no THP), THP, or hugetlbfs. */
enum mem { MEM_4K, MEM_THP, MEM_HUGETLB };

static void *alloc_mem(size_t sz, enum mem kind)
{
	char *p;

	if (kind == MEM_HUGETLB) {
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
	} else {
		p = mmap(NULL, sz + HPAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		p = (char *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));
		madvise(p, sz, kind == MEM_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	}
	memset(p, 0x5a, sz);
	return p;
}

static long anon_huge_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "AnonHugePages:", 14))
			v = atol(line + 14);
	if (f)
		fclose(f);
	return v;
}

/* ------------------------------------------------------------------ */
/* MAP_DMA + UNMAP_DMA of a large region, edu group attached          */

static void bench_map(const char *w, enum mem kind, size_t sz)
{
	char *buf = alloc_mem(sz, kind);

	if (!buf) {
		printf("E %s: cannot allocate %zu MiB: %s\n", w, sz / MB, strerror(errno));
		return;
	}
	printf("I %s_mib %zu\n", w, sz / MB);
	if (kind == MEM_THP)
		printf("I %s_anon_huge_kb %ld\n", w, anon_huge_kb());
	int list[4], nb = backends(list, CXX, 1);

	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < nb; i++) {
			int b = pick(r, i, list, nb);
			struct space sp;
			uint64_t t0, t1, t2;
			long long u;

			if (space_open(&sp, b, 1, NULL, 0))
				goto out;
			t0 = now_ns();
			if (space_map(&sp, buf, IOVA_BIG, sz)) {
				printf("E %s %s: MAP_DMA: %s\n", w, bname[b], strerror(errno));
				space_close(&sp);
				goto out;
			}
			t1 = now_ns();
			u = space_unmap(&sp, IOVA_BIG, sz);
			t2 = now_ns();
			space_close(&sp);
			if (u != (long long)sz) {
				printf("E %s %s: UNMAP_DMA: %lld\n", w, bname[b], u);
				goto out;
			}
			sample(w, b, "map_ms", (t1 - t0) / 1e6);
			sample(w, b, "unmap_ms", (t2 - t1) / 1e6);
			sample(w, b, "map_unmap_ms", (t2 - t0) / 1e6);
		}
out:
	munmap(buf, sz);
}

/* ------------------------------------------------------------------ */
/* MAP_DMA inside a preregistered region (ours) against type1's MAP  */

static int prereg(int c, unsigned long req, void *vaddr, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory m = {
		.argsz = sizeof(m), .flags = 0, .vaddr = (uintptr_t)vaddr, .size = size,
	};

	return ioctl(c, req, &m) ? -errno : 0;
}

static void bench_prereg(size_t sz)
{
	const char *w = "prereg";
	char *buf = alloc_mem(sz, MEM_4K);

	if (!buf) {
		printf("E prereg: cannot allocate\n");
		return;
	}
	printf("I prereg_mib %zu\n", sz / MB);
	static const int list[] = { TYPE1, CXXPRE };

	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < 2; i++) {
			int b = pick(r, i, list, 2);
			int c = open_container(b, &edu, 1);
			uint64_t t0, t1, t2, tr = 0;

			if (c < 0)
				goto out;
			if (b == CXXPRE) {
				t0 = now_ns();
				if (prereg(c, VFIO_CXX_REGISTER_MEMORY, buf, sz)) {
					printf("E prereg: REGISTER_MEMORY: %s\n", strerror(errno));
					close_container(c, &edu, 1);
					goto out;
				}
				tr = now_ns() - t0;
			}
			t0 = now_ns();
			if (map_rw(c, buf, IOVA_BIG, sz)) {
				printf("E prereg %s: MAP_DMA: %s\n", bname[b], strerror(errno));
				close_container(c, &edu, 1);
				goto out;
			}
			t1 = now_ns();
			dma_unmap(c, IOVA_BIG, sz);
			t2 = now_ns();
			if (b == CXXPRE) {
				uint64_t t3 = now_ns();

				prereg(c, VFIO_CXX_UNREGISTER_MEMORY, buf, sz);
				sample(w, b, "register_ms", tr / 1e6);
				sample(w, b, "unregister_ms", (now_ns() - t3) / 1e6);
			}
			close_container(c, &edu, 1);
			sample(w, b, "map_ms", (t1 - t0) / 1e6);
			sample(w, b, "unmap_ms", (t2 - t1) / 1e6);
			sample(w, b, "map_unmap_ms", (t2 - t0) / 1e6);
		}
out:
	munmap(buf, sz);
}

/* ------------------------------------------------------------------ */
/* mdev: pin/unpin, dma_rw, tracking memory                           */

static long long cmd(struct mdev *m, uint64_t c)
{
	if (reg_w(m, MTEST_REG_CMD, c))
		return LLONG_MIN;
	return (long long)reg_r(m, MTEST_REG_RESULT);
}

static void bench_pin(void)
{
	static const int npages[] = { 1, 64, 512 };
	const size_t sz = MTEST_PIN_MAX * PG;
	char *buf = alloc_mem(sz, MEM_4K);
	struct mdev m;

	int list[4], nb = backends(list, CXX, 0);

	if (!buf || mdev_create(&m)) {
		printf("E pin: cannot create the mdev\n");
		return;
	}
	for (int with_edu = 0; with_edu < 2; with_edu++) {
		char w[32];

		snprintf(w, sizeof(w), "pin_%s", with_edu ? "edu" : "mdev");
		for (int r = 0; r < rounds; r++)
			for (int i = 0; i < nb; i++) {
				int b = pick(r, i, list, nb);
				struct space sp;

				if (space_open(&sp, b, with_edu, &m, 1))
					goto out;
				if (space_map(&sp, buf, IOVA_MDEV, sz)) {
					printf("E %s %s: MAP_DMA: %s\n", w, bname[b], strerror(errno));
					space_close(&sp);
					goto out;
				}
				/* The register write + read of a command that does nothing. */
				const int nnop = 1000;
				uint64_t t0 = now_ns();

				for (int k = 0; k < nnop; k++)
					cmd(&m, 0);
				double nop_us = (now_ns() - t0) / 1e3 / nnop;

				sample(w, b, "cmd_overhead_us", nop_us);
				for (unsigned int j = 0; j < sizeof(npages) / sizeof(npages[0]); j++) {
					int n = npages[j], iters = n == 1 ? 400 : n == 64 ? 100 : 40;
					char metric[48];

					reg_w(&m, MTEST_REG_IOVA, IOVA_MDEV);
					reg_w(&m, MTEST_REG_NPAGES, n);
					reg_w(&m, MTEST_REG_PROT, RW);
					mark("%s %s pin_unpin_%d %d", w, bname[b], n, iters);
					t0 = now_ns();
					for (int k = 0; k < iters; k++) {
						long long p = cmd(&m, MTEST_CMD_PIN), u = cmd(&m, MTEST_CMD_UNPIN);

						if (p != n || u != n) {
							printf("E %s %s: pin %d -> %lld, unpin -> %lld\n",
							       w, bname[b], n, p, u);
							space_close(&sp);
							goto out;
						}
					}
					double us = (now_ns() - t0) / 1e3 / iters;

					mark("idle");
					snprintf(metric, sizeof(metric), "pin_unpin_%d_us", n);
					sample(w, b, metric, us);
					/* Net of the two commands' register traffic. */
					snprintf(metric, sizeof(metric), "pin_unpin_%d_net_us", n);
					sample(w, b, metric, us - 2 * nop_us);
				}
				if (!with_edu) {
					/* vfio_dma_rw throughput, 64 KiB a command. */
					const int iters = 200;
					const uint64_t len = MTEST_BUF_SIZE;

					reg_w(&m, MTEST_REG_IOVA, IOVA_MDEV);
					reg_w(&m, MTEST_REG_LEN, len);
					for (int dir = 0; dir < 2; dir++) {
						uint64_t c2 = dir ? MTEST_CMD_RW_READ : MTEST_CMD_RW_WRITE;

						t0 = now_ns();
						for (int k = 0; k < iters; k++)
							if (cmd(&m, c2) != 0) {
								printf("E rw %s: command %llu failed\n", bname[b],
								       (unsigned long long)c2);
								space_close(&sp);
								goto out;
							}
						double s = (now_ns() - t0) / 1e9;

						sample("rw", b, dir ? "read_MBps" : "write_MBps",
						       iters * (double)len / MB / s);
					}
				}
				space_unmap(&sp, IOVA_MDEV, sz);
				space_close(&sp);
			}
	}
out:
	mdev_destroy(&m);
	munmap(buf, sz);
}

/* Sum over all slab caches of active_objs * objsize, and the top caches. */
struct slab { char name[64]; long active, size; };

/*
 * SLUB counts the free objects of per-cpu (partial) slabs as active in
 * /proc/slabinfo; shrinking every cache first flushes them to the node
 * lists, so that the counts are exact (and reuse of freed objects shows).
 */
static void shrink_slabs(void)
{
	char path[320];
	FILE *l = popen("ls /sys/kernel/slab", "r");

	while (l && fgets(path + 200, 100, l)) {
		path[200 + strcspn(path + 200, "\n")] = 0;
		snprintf(path, 200, "/sys/kernel/slab/%s/shrink", path + 200);
		write_str(path, "1");
	}
	if (l)
		pclose(l);
}

static int read_slabs(struct slab *s, int max)
{
	char line[512];
	int n = 0;
	FILE *f;

	shrink_slabs();
	f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		struct slab x;

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %ld %*d %ld", x.name, &x.active, &x.size) == 3)
			s[n++] = x;
	}
	fclose(f);
	return n;
}

#define MAXSLABS 512

static void slab_delta(const char *w, int b, struct slab *s0, int n0, long pages)
{
	static struct slab s1[MAXSLABS];
	static long delta[MAXSLABS]; /* bytes, per cache of s1 */
	int n1 = read_slabs(s1, MAXSLABS);
	long total = 0;

	for (int i = 0; i < n1; i++) {
		long before = 0;

		for (int j = 0; j < n0; j++)
			if (!strcmp(s0[j].name, s1[i].name))
				before = s0[j].active;
		long d = (s1[i].active - before) * s1[i].size;

		delta[i] = d;
		total += d;
		if (d >= 4096 || d <= -4096)
			printf("I %s_%s_slab %s %ld\n", w, bname[b], s1[i].name, d);
	}
	sample(w, b, "slab_bytes", (double)total);
	sample(w, b, "bytes_per_page", (double)total / pages);
	/*
	 * The caches each backend's tracking lives in (kmalloc-cg-*: the same
	 * size with __GFP_ACCOUNT): type1's struct vfio_pfn is a kmalloc-64;
	 * ours are the xarray's radix_tree_node and the PinTable leaves, 16
	 * bytes for one record and 512 for a full chunk.
	 */
	static const struct {
		const char *metric, *a, *b;
	} groups[] = {
		{ "radix_tree_node", "radix_tree_node", NULL },
		{ "kmalloc-64", "kmalloc-64", "kmalloc-cg-64" },
		{ "kmalloc-16", "kmalloc-16", "kmalloc-cg-16" },
		{ "kmalloc-512", "kmalloc-512", "kmalloc-cg-512" },
	};
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		long d = 0;
		char metric[160];

		for (int i = 0; i < n1; i++)
			if (!strcmp(s1[i].name, groups[g].a) || (groups[g].b && !strcmp(s1[i].name, groups[g].b)))
				d += delta[i];
		snprintf(metric, sizeof(metric), "%s_bytes_per_page", groups[g].metric);
		sample(w, b, metric, (double)d / pages);
	}
}

/*
 * Pins N = track_devs * 4096 distinct pages through track_devs mdevs in
 * chunks of 512 (dense), or 4096 pages one in every 64 (sparse, through one
 * device: its 4096 entries, over a 1 GiB mapping), and measures the slab
 * growth.
 */
static void bench_track(void)
{
	const int per_dev = MTEST_PIN_CAP;
	const size_t sz = (size_t)track_devs * per_dev * PG;
	const size_t sparse_sz = (size_t)per_dev * 64 * PG;
	static struct slab s0[MAXSLABS];
	struct mdev m[8];
	char *buf = alloc_mem(sz, MEM_4K);
	char *sbuf = alloc_mem(sparse_sz, MEM_4K);
	int ok = 1;

	if (track_devs > 8)
		track_devs = 8;
	for (int d = 0; d < track_devs; d++)
		m[d].uuid[0] = 0, m[d].group = m[d].dev = -1;
	if (!buf || !sbuf) {
		printf("E track: cannot allocate\n");
		if (buf)
			munmap(buf, sz);
		if (sbuf)
			munmap(sbuf, sparse_sz);
		return;
	}
	for (int d = 0; d < track_devs && ok; d++)
		ok = !mdev_create(&m[d]);
	if (!ok) {
		printf("E track: cannot create %d mdevs\n", track_devs);
		goto out;
	}
	printf("I track_pages %d\n", track_devs * per_dev);
	for (int sparse = 0; sparse < 2; sparse++) {
		const char *w = sparse ? "track_sparse" : "track";
		/* sparse: one page in 64, through one device (its 4096 entries) */
		long pages = sparse ? (long)per_dev : (long)(sz / PG);
		char *mem = sparse ? sbuf : buf;
		size_t msz = sparse ? sparse_sz : sz;

		for (int r = 0; r < rounds; r++)
			for (int i = 0; i < 2; i++) {
				static const int list[] = { TYPE1, CXX };
				int b = pick(r, i, list, 2), groups[8], c, ns;
				long ext;

				for (int d = 0; d < track_devs; d++)
					groups[d] = m[d].group;
				c = open_container(b, groups, track_devs);
				if (c < 0)
					goto out;
				for (int d = 0; d < track_devs && ok; d++)
					ok = !mdev_open_dev(&m[d]);
				if (!ok || map_rw(c, mem, IOVA_MDEV, msz)) {
					printf("E track: set-up failed\n");
					for (int d = 0; d < track_devs; d++)
						mdev_close_dev(&m[d]);
					close_container(c, groups, track_devs);
					goto out;
				}
				ns = read_slabs(s0, MAXSLABS);
				for (long p = 0; p < pages && ok; ) {
					if (sparse) {
						struct mdev *md = &m[0];

						ok = run_cmd(md, MTEST_CMD_PIN, IOVA_MDEV + (uint64_t)p * 64 * PG,
							     1, RW, 0) == 1;
						p++;
					} else {
						struct mdev *md = &m[p / per_dev];

						ok = run_cmd(md, MTEST_CMD_PIN, IOVA_MDEV + (uint64_t)p * PG,
							     MTEST_PIN_MAX, RW, 0) == MTEST_PIN_MAX;
						p += MTEST_PIN_MAX;
					}
				}
				if (!ok)
					printf("E track %s: a pin failed\n", bname[b]);
				else
					slab_delta(w, b, s0, ns, pages);
				ext = b == CXX ? stat_get("external_pages") : -1;
				if (ext >= 0)
					printf("I %s_cxx_external_pages %ld\n", w, ext);
				for (int d = 0; d < track_devs; d++) {
					run_cmd(&m[d], MTEST_CMD_UNPIN_ALL, 0, 0, 0, 0);
					mdev_close_dev(&m[d]);
				}
				dma_unmap(c, IOVA_MDEV, msz);
				close_container(c, groups, track_devs);
				if (!ok)
					goto out;
			}
	}
out:
	for (int d = 0; d < track_devs; d++)
		mdev_destroy(&m[d]);
	munmap(buf, sz);
	munmap(sbuf, sparse_sz);
}

/* ------------------------------------------------------------------ */
/* scaling: per-op MAP/UNMAP cost as the number of mappings grows     */

static void bench_scale(const char *w, int with_edu)
{
	const size_t sz = max_maps * PG;
	char *buf = alloc_mem(sz, MEM_4K);
	struct mdev m;
	int list[4], nb = backends(list, CXX, 0);

	m.uuid[0] = 0, m.group = m.dev = -1;
	if (!buf) {
		printf("E %s: cannot allocate\n", w);
		return;
	}
	/* no IOMMU domain: an mdev-only container (an empty IOAS); MAP_DMA pins nothing */
	if (!with_edu && mdev_create(&m)) {
		printf("E %s: cannot create the mdev\n", w);
		goto out;
	}
	for (int r = 0; r < srounds; r++)
		for (unsigned long n = 1; n <= max_maps; n *= 4)
			for (int i = 0; i < nb; i++) {
				int b = pick(r, i, list, nb);
				struct space sp;
				char metric[48];
				uint64_t t0, t1, t2;

				if (space_open(&sp, b, with_edu, with_edu ? NULL : &m, 0))
					goto out;
				mark("%s %s map_n%lu %lu", w, bname[b], n, n);
				t0 = now_ns();
				for (unsigned long k = 0; k < n; k++)
					if (space_map(&sp, buf + k * PG, IOVA_MDEV + k * 2 * PG, PG)) {
						printf("E %s %s: MAP_DMA #%lu: %s\n", w, bname[b], k,
						       strerror(errno));
						space_close(&sp);
						goto out;
					}
				t1 = now_ns();
				mark("%s %s unmap_n%lu %lu", w, bname[b], n, n);
				if (marker)
					t1 = now_ns(); /* the marker is not timed */
				/* unmap in an order that is not the map order */
				for (unsigned long k = 0; k < n; k++) {
					/* n is a power of 2: an odd multiplier permutes */
					unsigned long j = (k * 40503UL) & (n - 1);

					if (space_unmap(&sp, IOVA_MDEV + j * 2 * PG, PG) != (long long)PG) {
						printf("E %s %s: UNMAP_DMA #%lu failed\n", w, bname[b], j);
						space_close(&sp);
						goto out;
					}
				}
				t2 = now_ns();
				mark("idle");
				space_close(&sp);
				snprintf(metric, sizeof(metric), "map_us_n%lu", n);
				sample(w, b, metric, (t1 - t0) / 1e3 / n);
				snprintf(metric, sizeof(metric), "unmap_us_n%lu", n);
				sample(w, b, metric, (t2 - t1) / 1e3 / n);
			}
out:
	if (!with_edu)
		mdev_destroy(&m);
	munmap(buf, sz);
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "r:R:s:H:n:t:w:")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 'R': srounds = atoi(optarg); break;
		case 's': map_mib = strtoul(optarg, NULL, 0); break;
		case 'H': huge_mib = strtoul(optarg, NULL, 0); break;
		case 'n': max_maps = strtoul(optarg, NULL, 0); break;
		case 't': track_devs = atoi(optarg); break;
		case 'w': workloads = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-r rounds] [-R scaling rounds] [-s MiB] "
				"[-H hugetlb MiB] [-n max mappings] [-t devices] [-w list]\n", argv[0]);
			return 2;
		}
	}
	mark_init();
	if (!module_loaded()) {
		printf("E vfio_iommu_cxx is not loaded\n");
		return 1;
	}
	edu_groupnr = edu_group_number();
	edu = group_open(edu_groupnr);
	if (edu < 0) {
		printf("E cannot open the edu group /dev/vfio/%d: %s\n", edu_groupnr, strerror(errno));
		return 1;
	}
	{
		char bdf[64];
		int fd;

		if (!edu_bdf(bdf, sizeof(bdf)))
			snprintf(edu_sys, sizeof(edu_sys), "/sys/bus/pci/devices/%s", bdf);
		/* iommufd: /dev/iommu and the edu's cdev (opening it binds nothing) */
		fd = edu_sys[0] && !access("/dev/iommu", R_OK | W_OK) ? cdev_open(edu_sys) : -1;
		have_iommufd = fd >= 0;
		if (fd >= 0)
			close(fd);
		have_floor = !access(FLOOR_DEV, R_OK | W_OK);
	}
	printf("I rounds %d\nI scale_rounds %d\nI iommufd %d\nI floor %d\n", rounds, srounds,
	       have_iommufd, have_floor);
	if (want("map4k"))
		bench_map("map4k", MEM_4K, map_mib * MB);
	if (want("thp"))
		bench_map("thp", MEM_THP, map_mib * MB);
	if (want("hugetlb"))
		bench_map("hugetlb", MEM_HUGETLB, huge_mib * MB);
	if (want("prereg"))
		bench_prereg(map_mib * MB);
	if (want("pin") || want("rw"))
		bench_pin();
	if (want("track"))
		bench_track();
	if (want("scale") || want("scale_edu"))
		bench_scale("scale_edu", 1);
	if (want("scale") || want("scale_nodomain"))
		bench_scale("scale_nodomain", 0);
	write_str(PARAM_CLAIM, "1");
	mark_print();
	printf("I done 1\n");
	return 0;
}
