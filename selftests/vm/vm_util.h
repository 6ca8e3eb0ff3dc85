/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VM selftest suites of selftests/vm/: our debugfs
 * counters and module parameters, groups and containers (with the
 * differential suites' claim_type1 set-up), VmLck (of this or another
 * process), user memory, the Type1 DMA ioctls, capabilities and limits, fds
 * over SCM_RIGHTS, QEMU's edu device through vfio-pci, and the test
 * mediated device of selftests/mdev/ (created through the mdev sysfs
 * "create" file).
 *
 * Include after <linux/vfio.h> and kselftest_harness.h.
 */
#ifndef VFIO_CXX_VM_UTIL_H
#define VFIO_CXX_VM_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/pci_regs.h>
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

/*
 * The vfio-cxx-stat to run: $VFIO_CXX_STAT, else $OUT/tool/vfio-cxx-stat
 * next to this binary's directory ($OUT/selftests/).  Fills buf; returns it,
 * or NULL when there is none.
 */
static inline const char *vfio_cxx_stat_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	const char *env = getenv("VFIO_CXX_STAT");
	ssize_t n;

	if (env) {
		snprintf(buf, len, "%s", env);
		return buf;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	snprintf(buf, len, "%s/../tool/vfio-cxx-stat", dirname(exe));
	return access(buf, X_OK) ? NULL : buf;
}

/*
 * Whether the running kernel is at least major.minor: for behaviour the
 * kernel's own type1 changed at a release (the tests expect what the running
 * kernel's type1 answers).
 */
static inline int kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return 0;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * What the running kernel's type1 answers for a MAP/UNMAP range that wraps
 * the 64-bit space: -EINVAL where it tests "iova + size - 1 < iova",
 * -EOVERFLOW since its check_add_overflow() checks.  The answer is the one
 * our module's build read from this kernel's type1 (scripts/kconf.sh part
 * 3; modinfo -F vfio_cxx_type1_wrap of VFIO_CXX_KO).  Run against type1,
 * a suite that expects it checks that reading on every kernel the lane
 * boots; run against our backend, that we answer the same.  0 (no test
 * passes) when the module has no such field.
 */
static inline int type1_wrap_errno(void)
{
	static int cached;
	const char *ko = getenv("VFIO_CXX_KO");
	char cmd[PATH_MAX + 64], line[512] = "";
	FILE *p;

	if (cached || !ko)
		return cached;
	snprintf(cmd, sizeof(cmd), "modinfo -F vfio_cxx_type1_wrap '%s' 2>/dev/null", ko);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	if (!fgets(line, sizeof(line), p))
		line[0] = 0;
	pclose(p);
	if (!strncmp(line, "-EOVERFLOW ", 11))
		cached = -EOVERFLOW;
	else if (!strncmp(line, "-EINVAL ", 8))
		cached = -EINVAL;
	return cached;
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

/* ------------------------------------------------------------------ */
/* groups and containers                                               */

/* Opens /dev/vfio/<nr>: the fd, or -1 with errno set. */
static inline int group_open(int nr)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", nr);
	return open(path, O_RDWR);
}

/* The edu device's group (VFIO_CXX_GROUP): the fd, or -1 with errno set. */
static inline int edu_group_open(void)
{
	return group_open(edu_group_number());
}

static inline int set_container(int group, int container)
{
	return ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ? -errno : 0;
}

static inline int unset_container(int group)
{
	return ioctl(group, VFIO_GROUP_UNSET_CONTAINER) ? -errno : 0;
}

/* A container of `type` with the edu group; 0 or -errno. */
static inline int edu_container_open(unsigned long type, int *container, int *group)
{
	*container = open("/dev/vfio/vfio", O_RDWR);
	if (*container < 0)
		return -errno;
	*group = edu_group_open();
	if (*group < 0)
		return -errno;
	if (ioctl(*group, VFIO_GROUP_SET_CONTAINER, container))
		return -errno;
	if (ioctl(*container, VFIO_SET_IOMMU, type))
		return -errno;
	return 0;
}

/* Our containers_opened counter; -1 without the module. */
static inline long containers_opened(void)
{
	return module_loaded() ? stat_get("containers_opened") : -1;
}

/*
 * Differential suites: claim_type1 chosen by cxx (1: we serve the next
 * VFIO_TYPE1v2_IOMMU container, 0: vfio_iommu_type1 does), and
 * containers_opened before it in *opened0 (-1 without the module).
 * 0, -1 (the parameter) or -2 (the counter).
 */
static inline int claim_type1(int cxx, long *opened0)
{
	*opened0 = -1;
	if (!module_loaded())
		return 0;
	if (write_str(PARAM_CLAIM, cxx ? "1" : "0"))
		return -1;
	*opened0 = stat_get("containers_opened");
	return *opened0 < 0 ? -2 : 0;
}

/* Whether we served the container opened since claim_type1() read opened0. */
static inline int cxx_served(long opened0, long opened1)
{
	return opened0 >= 0 && opened1 == opened0 + 1;
}

/*
 * A VFIO_TYPE1v2_IOMMU container with the edu group, claim_type1 chosen by
 * cxx.  0 or a negative step (-1, -2: claim_type1; -3 the container, -4
 * the group, -5 SET_CONTAINER, -6 SET_IOMMU); *opened0 and *opened1 are
 * containers_opened before and after (-1 without the module).
 */
static inline int type1_container_open(int cxx, int *container, int *group, long *opened0,
				       long *opened1)
{
	int r = claim_type1(cxx, opened0);

	*container = *group = -1;
	*opened1 = -1;
	if (r)
		return r;
	*container = open("/dev/vfio/vfio", O_RDWR);
	if (*container < 0)
		return -3;
	*group = edu_group_open();
	if (*group < 0)
		return -4;
	if (ioctl(*group, VFIO_GROUP_SET_CONTAINER, container))
		return -5;
	if (ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -6;
	*opened1 = containers_opened();
	return 0;
}

/* The VmLck line of a /proc/<pid>/status file in KiB; -1 if it has none (no mm). */
static inline long vmlck_kb_of(const char *status)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(status, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6))
			v = atol(line + 6);
	if (f)
		fclose(f);
	return v;
}

/* VmLck of this process in KiB (mm->locked_vm, which type1 charges). */
static inline long vmlck_kb(void)
{
	return vmlck_kb_of("/proc/self/status");
}

/* VmLck of another process in KiB; -1 if it has no mm (gone, or a zombie). */
static inline long vmlck_kb_pid(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return vmlck_kb_of(path);
}

/* The first line of a (sysfs) file, newline stripped; 0 or -errno. */
static inline int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
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
/* fds across processes (SCM_RIGHTS)                                   */

#define VM_MAX_FDS 4

/*
 * Sends len bytes of buf with fds[0..nfds) attached (none if nfds is 0).
 * MSG_NOSIGNAL: a peer that is gone is EPIPE, not a signal.  Returns the
 * bytes sent or -errno.
 */
static inline ssize_t fds_send(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(VM_MAX_FDS * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds < 0 || nfds > VM_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

/*
 * Receives up to len bytes into buf (EINTR retried) and the fds that came
 * with them: the first nfds into fds[] (-1 where fewer came), any more
 * closed; *got (if not NULL) says how many arrived in fds[].  Returns the
 * bytes received (0 at EOF) or -errno.
 */
static inline ssize_t fds_recv(int sock, void *buf, size_t len, int *fds, int nfds, int *got)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(VM_MAX_FDS * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	int k = 0;
	ssize_t n;

	for (int i = 0; i < nfds; i++)
		fds[i] = -1;
	if (got)
		*got = 0;
	do
		n = recvmsg(sock, &msg, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		int cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (int i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (k < nfds)
				fds[k++] = fd;
			else
				close(fd);
		}
	}
	if (got)
		*got = k;
	return n;
}

/* ------------------------------------------------------------------ */
/* QEMU's edu device (hw/misc/edu.c) through vfio-pci                  */

#define EDU_R_IDENT 0x00
#define EDU_R_DMA_SRC 0x80
#define EDU_R_DMA_DST 0x88
#define EDU_R_DMA_CNT 0x90
#define EDU_R_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1
#define EDU_DMA_TO_RAM 0x2	/* device buffer -> RAM; 0 is RAM -> device */
#define EDU_DMA_BUF 0x40000UL
/*
 * Bytes per DMA: QEMU 7.2's edu_check_range() rejects a transfer that ends
 * exactly at the end of its 4 KiB buffer (hw_error kills QEMU), so stay one
 * word short of a page.
 */
#define EDU_XFER 4088u

struct edu_dev {
	int dev;		/* vfio-pci device fd, -1 when closed */
	off_t bar0, cfg;	/* region offsets in the device fd */
	uint64_t bar0_size;
};

static inline int edu_r32(struct edu_dev *e, unsigned int reg, uint32_t *v)
{
	return pread(e->dev, v, 4, e->bar0 + reg) == 4 ? 0 : -1;
}

static inline int edu_w32(struct edu_dev *e, unsigned int reg, uint32_t v)
{
	return pwrite(e->dev, &v, 4, e->bar0 + reg) == 4 ? 0 : -1;
}

/* The edu's PCI address (1234:11e8 in the VFIO_CXX_GROUP group) into bdf; 0 or -1. */
static inline int edu_bdf(char *bdf, size_t len)
{
	char path[96];
	struct dirent *de;
	int found = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", edu_group_number());
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char f[384], v[16] = "", id[16] = "";

		if (de->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s/vendor", path, de->d_name);
		read_str(f, v, sizeof(v));
		snprintf(f, sizeof(f), "%s/%s/device", path, de->d_name);
		read_str(f, id, sizeof(id));
		if (!strcmp(v, "0x1234") && !strcmp(id, "0x11e8")) {
			snprintf(bdf, len, "%s", de->d_name);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

/*
 * A second edu in the lane's VM (scripts/vm-lane.sh gives it two), bound
 * to vfio-pci by the test: its BDF in bdf and its IOMMU group; 0, or a
 * negative step (-1: there is no second edu).  edu2_unbind() (the
 * fixture's teardown) gives it back.
 */
static inline int edu2_bind(char *bdf, size_t len, int *group)
{
	char first[64], path[320], link[160], node[32];
	struct dirent *de;
	DIR *d;

	bdf[0] = 0;
	if (edu_bdf(first, sizeof(first)))
		return -2;
	d = opendir("/sys/bus/pci/devices");
	if (!d)
		return -2;
	while ((de = readdir(d))) {
		char v[16] = "", id[16] = "";

		if (de->d_name[0] == '.' || !strcmp(de->d_name, first))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		read_str(path, v, sizeof(v));
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		read_str(path, id, sizeof(id));
		if (!strcmp(v, "0x1234") && !strcmp(id, "0x11e8")) {
			snprintf(bdf, len, "%s", de->d_name);
			break;
		}
	}
	closedir(d);
	if (!bdf[0])
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -3;
	link[n] = 0;
	*group = atoi(strrchr(link, '/') + 1);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (write_str(path, "vfio-pci") || write_str("/sys/bus/pci/drivers_probe", bdf))
		return -4;
	snprintf(node, sizeof(node), "/dev/vfio/%d", *group);
	for (int i = 0; i < 50 && access(node, F_OK); i++)
		usleep(100000);
	return access(node, F_OK) ? -5 : 0;
}

static inline void edu2_unbind(char *bdf)
{
	char path[160];

	if (!bdf[0])
		return;
	write_str("/sys/bus/pci/drivers/vfio-pci/unbind", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	write_str(path, "\n");
	bdf[0] = 0;
}

/* The edu's vfio-pci device fd from its group (in a container with an IOMMU set); -1 if none. */
static inline int edu_device_fd(int group)
{
	char bdf[256];

	if (edu_bdf(bdf, sizeof(bdf)))
		return -1;
	return ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
}

/*
 * Gets the edu's device fd from its group (in a container with an IOMMU
 * set), finds BAR0 and config space and turns on memory decoding and bus
 * mastering.  0 or a negative step number; e->dev is -1 on failure.
 */
static inline int edu_dev_open_bdf(struct edu_dev *e, int group, const char *bdf)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info c = { .argsz = sizeof(c), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint32_t ident;
	uint16_t cmd;

	e->dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (e->dev < 0)
		return -3;
	if (ioctl(e->dev, VFIO_DEVICE_GET_REGION_INFO, &r) ||
	    ioctl(e->dev, VFIO_DEVICE_GET_REGION_INFO, &c))
		return -4;
	e->bar0 = r.offset;
	e->bar0_size = r.size;
	e->cfg = c.offset;
	if (pread(e->dev, &cmd, 2, e->cfg + PCI_COMMAND) != 2)
		return -5;
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(e->dev, &cmd, 2, e->cfg + PCI_COMMAND) != 2)
		return -6;
	if (edu_r32(e, EDU_R_IDENT, &ident) || (ident & 0xff) != 0xed)
		return -7;
	return 0;
}

/* edu_dev_open_bdf() of the edu in VFIO_CXX_GROUP. */
static inline int edu_dev_open(struct edu_dev *e, int group)
{
	char bdf[256];

	e->dev = -1;
	if (edu_bdf(bdf, sizeof(bdf)))
		return -2;
	return edu_dev_open_bdf(e, group, bdf);
}

static inline void edu_dev_close(struct edu_dev *e)
{
	if (e->dev >= 0)
		close(e->dev);
	e->dev = -1;
}

/*
 * One edu DMA of cnt bytes (32-bit register writes: keep IOVAs below the
 * edu's 28-bit DMA mask), dir 0 or EDU_DMA_TO_RAM.  Polls until the engine
 * is idle; 0, or -1 on timeout.  A DMA that faults in the IOMMU completes.
 */
static inline int edu_dev_dma(struct edu_dev *e, uint64_t src, uint64_t dst, uint32_t cnt,
			      uint32_t dir)
{
	struct timespec t0, t;
	uint32_t cmd;

	if (edu_w32(e, EDU_R_DMA_SRC, src) || edu_w32(e, EDU_R_DMA_SRC + 4, src >> 32) ||
	    edu_w32(e, EDU_R_DMA_DST, dst) || edu_w32(e, EDU_R_DMA_DST + 4, dst >> 32) ||
	    edu_w32(e, EDU_R_DMA_CNT, cnt) || edu_w32(e, EDU_R_DMA_CNT + 4, 0) ||
	    edu_w32(e, EDU_R_DMA_CMD, dir | EDU_DMA_RUN))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (edu_r32(e, EDU_R_DMA_CMD, &cmd))
			return -1;
		if (!(cmd & EDU_DMA_RUN))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			return -1;
		usleep(2000);
	}
}

/* EDU_XFER bytes RAM (iova) -> the edu's buffer; 0 or -1. */
static inline int edu_dev_to_dev(struct edu_dev *e, uint64_t iova)
{
	return edu_dev_dma(e, iova, EDU_DMA_BUF, EDU_XFER, 0);
}

/* EDU_XFER bytes the edu's buffer -> RAM (iova); 0 or -1. */
static inline int edu_dev_to_ram(struct edu_dev *e, uint64_t iova)
{
	return edu_dev_dma(e, EDU_DMA_BUF, iova, EDU_XFER, EDU_DMA_TO_RAM);
}

/*
 * The device reads EDU_XFER bytes at iova_src and writes them back at
 * iova_dst: both must be mapped (src readable, dst writable) for the
 * bytes to arrive.  0 or -1.
 */
static inline int edu_dev_copy(struct edu_dev *e, uint64_t iova_src, uint64_t iova_dst)
{
	if (edu_dev_to_dev(e, iova_src))
		return -1;
	return edu_dev_to_ram(e, iova_dst);
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

/*
 * Finds the register region of the mdev whose device fd is m->dev (from
 * its group, or its bound vfio cdev) and checks the driver's ident: 0, or
 * -3 (no such region), -4 (not our driver).
 */
static inline int mdev_region(struct mdev *m)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = 0 };

	if (ioctl(m->dev, VFIO_DEVICE_GET_REGION_INFO, &r) || r.size != MTEST_REGION_SIZE)
		return -3;
	m->region = r.offset;
	if (reg_r(m, MTEST_REG_IDENT) != MTEST_IDENT_MAGIC)
		return -4;
	return 0;
}

/* Gets the device fd of an mdev whose group is in a container. */
static inline int mdev_open_dev(struct mdev *m)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	m->dev = ioctl(m->group, VFIO_GROUP_GET_DEVICE_FD, m->uuid);
	if (m->dev < 0)
		return -1;
	if (ioctl(m->dev, VFIO_DEVICE_GET_INFO, &info) || info.num_regions != 1)
		return -2;
	return mdev_region(m);
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
