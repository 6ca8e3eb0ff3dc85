/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VM selftest suites of selftests/vm/: our debugfs
 * counters and module parameters, VmLck, user memory, the Type1 DMA
 * ioctls, capabilities and limits, and the test mediated device of
 * selftests/mdev/ (created through the mdev sysfs "create" file).
 *
 * Include after <linux/vfio.h> and kselftest_harness.h.
 */
#ifndef VFIO_CXX_VM_UTIL_H
#define VFIO_CXX_VM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/vfio.h>

#include "../mdev/mtest_regs.h"

#define MODDIR "/sys/module/vfio_iommu_cxx"
#define STATS "/sys/kernel/debug/vfio_iommu_cxx/stats"
#define PARAM_CLAIM MODDIR "/parameters/claim_type1"
#define MTEST_PARENT "/sys/class/mdev_bus/" MTEST_NAME
#define MTEST_CREATE MTEST_PARENT "/mdev_supported_types/" MTEST_TYPE "/create"

#define PG 4096UL
#define KB(pages) ((long)(pages) * (long)(PG / 1024))

static inline long stat_get(const char *key)
{
	char name[64];
	long long v;
	long ret = -1;
	FILE *f = fopen(STATS, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2)
		if (!strcmp(name, key))
			ret = v;
	fclose(f);
	return ret;
}

static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

static inline int edu_group_number(void)
{
	const char *g = getenv("VFIO_CXX_GROUP");

	return g ? atoi(g) : -1;
}

static inline int module_loaded(void)
{
	return access(MODDIR, F_OK) == 0;
}

static inline long vmlck_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6))
			v = atol(line + 6);
	if (f)
		fclose(f);
	return v;
}

static inline void *anon(size_t sz)
{
	void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, 0x5a, sz);	/* real pages, never the zero page */
	return p;
}

static inline int dma_map(int c, void *vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};

	return ioctl(c, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

static inline int map_rw(int c, void *vaddr, uint64_t iova, uint64_t size)
{
	return dma_map(c, vaddr, iova, size,
		       VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
}

/* Returns -errno, or the unmapped size. */
static inline long long dma_unmap(int c, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	if (ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	return (long long)u.size;
}

/* VFIO_IOMMU_DIRTY_PAGES with flags alone (START or STOP). */
static inline int dirty_flags(int c, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = sizeof(d), .flags = flags };

	return ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &d) ? -errno : 0;
}

/* cmd: VFIO_IOMMU_SPAPR_(UN)REGISTER_MEMORY (VFIO_CXX_(UN)REGISTER_MEMORY). */
static inline int prereg_ioctl(int c, unsigned long cmd, void *vaddr, uint64_t size,
			       uint32_t flags)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .flags = flags, .vaddr = (uintptr_t)vaddr, .size = size,
	};

	return ioctl(c, cmd, &r) ? -errno : 0;
}

static inline int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].inheritable &= ~(1u << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

static inline int set_memlock(unsigned long bytes)
{
	struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };

	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

static inline void fill(void *p, size_t sz, unsigned int seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < sz; i++)
		c[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static inline int check(const void *p, size_t sz, unsigned int seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < sz; i++)
		if (c[i] != (unsigned char)(seed * 131 + i * 7 + (i >> 8)))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* the test mdev                                                       */

struct mdev {
	char uuid[40];	/* empty: not created */
	int groupnr;
	int group;
	int dev;
	off_t region;	/* file offset of region 0 */
};

static inline int mdev_create(struct mdev *m)
{
	char path[160], link[160];
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");
	ssize_t n;
	int r;

	m->uuid[0] = 0;
	m->group = m->dev = m->groupnr = -1;
	if (!f)
		return -1;
	if (!fgets(m->uuid, sizeof(m->uuid), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	m->uuid[strcspn(m->uuid, "\n")] = 0;
	r = write_str(MTEST_CREATE, m->uuid);
	if (r) {
		m->uuid[0] = 0;
		return r;
	}
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", m->uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -2;
	link[n] = 0;
	m->groupnr = atoi(strrchr(link, '/') + 1);
	snprintf(path, sizeof(path), "/dev/vfio/%d", m->groupnr);
	m->group = open(path, O_RDWR);
	return m->group < 0 ? -3 : 0;
}

static inline void mdev_close_dev(struct mdev *m)
{
	if (m->dev >= 0)
		close(m->dev);
	m->dev = -1;
}

static inline void mdev_destroy(struct mdev *m)
{
	char path[160];

	mdev_close_dev(m);
	if (m->group >= 0)
		close(m->group);
	m->group = -1;
	if (m->uuid[0]) {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", m->uuid);
		write_str(path, "1");
	}
	m->uuid[0] = 0;
}

static inline int set_container(int group, int container)
{
	return ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ? -errno : 0;
}

static inline int unset_container(int group)
{
	return ioctl(group, VFIO_GROUP_UNSET_CONTAINER) ? -errno : 0;
}

static inline uint64_t reg_r(struct mdev *m, unsigned int reg)
{
	uint64_t v = ~0ULL;

	if (pread(m->dev, &v, 8, m->region + reg) != 8)
		return ~0ULL;
	return v;
}

static inline int reg_w(struct mdev *m, unsigned int reg, uint64_t v)
{
	return pwrite(m->dev, &v, 8, m->region + reg) == 8 ? 0 : -1;
}

/* Gets the device fd of an mdev whose group is in a container. */
static inline int mdev_open_dev(struct mdev *m)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = 0 };
	struct vfio_device_info info = { .argsz = sizeof(info) };

	m->dev = ioctl(m->group, VFIO_GROUP_GET_DEVICE_FD, m->uuid);
	if (m->dev < 0)
		return -1;
	if (ioctl(m->dev, VFIO_DEVICE_GET_INFO, &info) || info.num_regions != 1)
		return -2;
	if (ioctl(m->dev, VFIO_DEVICE_GET_REGION_INFO, &r) || r.size != MTEST_REGION_SIZE)
		return -3;
	m->region = r.offset;
	if (reg_r(m, MTEST_REG_IDENT) != MTEST_IDENT_MAGIC)
		return -4;
	return 0;
}

/* Runs a command with the given IOVA/NPAGES/PROT/LEN; returns RESULT. */
static inline long long run_cmd(struct mdev *m, uint64_t cmd, uint64_t iova, uint64_t npages,
			 uint64_t prot, uint64_t len)
{
	if (reg_w(m, MTEST_REG_IOVA, iova) || reg_w(m, MTEST_REG_NPAGES, npages) ||
	    reg_w(m, MTEST_REG_PROT, prot) || reg_w(m, MTEST_REG_LEN, len) ||
	    reg_w(m, MTEST_REG_CMD, cmd))
		return LLONG_MIN;
	return (long long)reg_r(m, MTEST_REG_RESULT);
}

#endif /* VFIO_CXX_VM_UTIL_H */
