// SPDX-License-Identifier: GPL-2.0
/*
 * A real sPAPR client: Debian's qemu-system-ppc64 (7.2), machine pseries
 * under TCG, nested in the x86 test VM, with the lane's edu assigned
 * through `-device vfio-pci` (issue 14, item 6).  QEMU's sPAPR VFIO code
 * turns the guest's H_PUT_TCE hypercalls into MAP_DMA/UNMAP_DMA on its
 * container: on Type1 through its TCE notifier, and in vfio_iommu_cxx's
 * sPAPR mode (the spapr parameter, with no Type1 backend offered) through
 * the real VFIO_SPAPR_TCE_v2_IOMMU API: REGISTER_MEMORY of all guest RAM,
 * REMOVE of the default window, CREATE of the PHB's window at machine
 * reset.
 *
 * Variants (FIXTURE_VARIANT):
 *   type1 - vfio_iommu_type1 serves QEMU's VFIO_TYPE1v2_IOMMU container;
 *   cxx   - vfio_iommu_cxx serves it (claim_type1=1): the baseline of
 *           today's backend, differential against type1;
 *   spapr - vfio_iommu_cxx in sPAPR mode: claim_type1=0, spapr=1,
 *           vfio_iommu_type1 unloaded, so QEMU's type probe (TYPE1v2, TYPE1,
 *           SPAPR_TCE_v2, ...) finds sPAPR v2 first.
 *
 * No guest OS boots.  The firmware (-bios, loaded at 0, entered at 0x100 in
 * big-endian real mode) is 19 instructions that serve hypercalls from a
 * mailbox in guest RAM: the test writes an hcall's number and arguments
 * there with qtest, and the vCPU executes `sc 1` for it.  Config space is
 * reached through qtest's `rtas` command (ibm,read/write-pci-config), the
 * edu's BAR0 through qtest reads and writes of the PHB's 32-bit MMIO
 * window, and guest RAM through qtest read/write.  QEMU reports a failed
 * MAP_DMA only on its stderr (the guest still gets H_SUCCESS), so every
 * check looks at QEMU's log and at the bytes, never at the hcall's return
 * alone.
 *
 * Runs in a virtme-ng guest with QEMU's edu device behind an emulated
 * Intel IOMMU, bound to vfio-pci; VFIO_CXX_GROUP=<iommu group>.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "nested_qemu.h"

#pragma GCC diagnostic ignored "-Wclobbered"

#define QEMU_PPC "qemu-system-ppc64"
#define PARAM_SPAPR MODDIR "/parameters/spapr"
#define RAM_MB 256
#define RAM_PAGES (RAM_MB * 256L)
#define TABLE_1G_L2 1026L	/* what CREATE(12, 1 GiB, levels 2) charges: QEMU 7.2's first try */

/* pseries: PHB 0's BUID, its window 0's LIOBN, the 32-bit MMIO window, the edu at 2.0 */
#define BUID 0x800000020000000ULL
#define LIOBN 0x80000000ULL
#define MMIO32_CPU 0x200080000000ULL /* bus 0x80000000 */
#define BAR0_BUS 0x80000000U
#define EDU_DEVFN 0x10

/* hcalls (PAPR) */
#define H_PUT_TCE 0x20
#define H_GET_TCE 0x1c
#define TCE_R 1ULL
#define TCE_W 2ULL

/* guest RAM: the mailbox, the RTAS buffers, the DMA pages */
#define MBOX 0x10000ULL
#define RTAS_ARGS 0x20000ULL
#define RTAS_RETS 0x20100ULL
#define GPA_A 0x1000000ULL
#define GPA_B 0x1100000ULL
#define GPA_C 0x1200000ULL
#define IOBA_A 0x100000ULL
#define IOBA_B 0x200000ULL

/*
 * The firmware, big-endian words from 0x100 on (assembled with binutils'
 * powerpc64 as -a64 -mbig; ld -EB -Ttext=0; objcopy -O binary):
 *
 *   100  li    r20,0
 *   104  oris  r20,r20,1       r20 = MBOX
 *   108  ld    r21,0(r20)      request generation
 *   10c  ld    r22,8(r20)      done generation
 *   110  cmpd  r21,r22
 *   114  beq   0x108           nothing new: spin
 *   118  ld    r3,16(r20)      the hcall number
 *   11c  ld    r4,24(r20)      ... and r4-r8
 *   120  ld    r5,32(r20)
 *   124  ld    r6,40(r20)
 *   128  ld    r7,48(r20)
 *   12c  ld    r8,56(r20)
 *   130  sc    1               into QEMU's spapr_hypercall
 *   134  std   r3,64(r20)      the return code
 *   138  std   r4,72(r20)      ... and r4
 *   13c  hwsync
 *   140  std   r21,8(r20)      done
 *   144  hwsync
 *   148  b     0x108
 */
static const uint32_t fw_words[] = {
	0x3a800000, 0x66940001, 0xeab40000, 0xead40008, 0x7c35b000, 0x4182fff4,
	0xe8740010, 0xe8940018, 0xe8b40020, 0xe8d40028, 0xe8f40030, 0xe9140038,
	0x44000022, 0xf8740040, 0xf8940048, 0x7c0004ac, 0xfab40008, 0x7c0004ac,
	0x4bffffc0,
};

static int write_fw(const char *path)
{
	unsigned char img[4096] = { 0 };
	int fd, ok;

	for (size_t i = 0; i < sizeof(fw_words) / 4; i++) {
		uint32_t w = fw_words[i];

		img[0x100 + 4 * i] = w >> 24;
		img[0x101 + 4 * i] = w >> 16;
		img[0x102 + 4 * i] = w >> 8;
		img[0x103 + 4 * i] = w;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, img, sizeof(img)) == (ssize_t)sizeof(img);
	close(fd);
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* the pseries machine                                                  */

static uint64_t hgen; /* the mailbox's request generation */

/* One hypercall through the firmware: 0 and *ret (r3), *r4; -1 if it never completes. */
static int hcall(struct qemu *q, uint64_t nr, uint64_t a, uint64_t b, uint64_t c, uint64_t *ret,
		 uint64_t *r4)
{
	double end = now() + 30;

	if (qt(q, "writeq 0x%llx 0x%llx", MBOX + 16, (unsigned long long)nr) ||
	    qt(q, "writeq 0x%llx 0x%llx", MBOX + 24, (unsigned long long)a) ||
	    qt(q, "writeq 0x%llx 0x%llx", MBOX + 32, (unsigned long long)b) ||
	    qt(q, "writeq 0x%llx 0x%llx", MBOX + 40, (unsigned long long)c) ||
	    qt(q, "writeq 0x%llx 0x%llx", MBOX, (unsigned long long)++hgen))
		return -1;
	while (now() < end) {
		if (qt(q, "readq 0x%llx", MBOX + 8))
			return -1;
		if (qt_val() == hgen) {
			if (qt(q, "readq 0x%llx", MBOX + 64))
				return -1;
			*ret = qt_val();
			if (qt(q, "readq 0x%llx", MBOX + 72))
				return -1;
			if (r4)
				*r4 = qt_val();
			return 0;
		}
		usleep(1000);
	}
	return -1;
}

/* H_PUT_TCE(LIOBN, ioba, tce): 0 when the guest got H_SUCCESS, else -1. */
static int put_tce(struct qemu *q, uint64_t ioba, uint64_t tce)
{
	uint64_t ret;

	return !hcall(q, H_PUT_TCE, LIOBN, ioba, tce, &ret, NULL) && ret == 0 ? 0 : -1;
}

/* RTAS ibm,read-pci-config / ibm,write-pci-config of the PHB's device devfn: 0 or -1. */
static int rtas_cfg(struct qemu *q, int devfn, int reg, int size, uint32_t *val, int write)
{
	const uint32_t args[5] = { (uint32_t)(devfn << 8 | reg), (uint32_t)(BUID >> 32), (uint32_t)BUID,
				   (uint32_t)size, write ? *val : 0 };
	const int nargs = write ? 5 : 4;

	for (int i = 0; i < nargs; i++)
		if (qt(q, "writel 0x%llx 0x%x", RTAS_ARGS + 4 * i, args[i]))
			return -1;
	if (qt(q, "rtas %s %d 0x%llx %d 0x%llx", write ? "ibm,write-pci-config" : "ibm,read-pci-config",
	       nargs, RTAS_ARGS, write ? 1 : 2, RTAS_RETS) ||
	    qt(q, "readl 0x%llx", RTAS_RETS) || qt_val() != 0)
		return -1;
	if (!write) {
		if (qt(q, "readl 0x%llx", RTAS_RETS + 4))
			return -1;
		*val = (uint32_t)qt_val();
	}
	return 0;
}

/*
 * The edu's registers through BAR0 (qtest MMIO in the PHB's window).  The
 * BAR is QEMU's mmap of the vfio-pci region (a ram_device region: host,
 * that is little-endian, byte order), so a big-endian target's access
 * arrives byte-swapped: bar_swap, found from the identification register
 * (edu_setup), undoes it.
 */
static int bar_swap;

static int bar_r32(struct qemu *q, unsigned int reg, uint32_t *v)
{
	if (qt(q, "readl 0x%llx", MMIO32_CPU + reg))
		return -1;
	*v = (uint32_t)qt_val();
	if (bar_swap)
		*v = __builtin_bswap32(*v);
	return 0;
}

static int bar_w64(struct qemu *q, unsigned int reg, uint64_t v)
{
	return qt(q, "writeq 0x%llx 0x%llx", MMIO32_CPU + reg,
		  (unsigned long long)(bar_swap ? __builtin_bswap64(v) : v));
}

/*
 * Finds the edu at 2.0 (1234:11e8), puts BAR0 at bus 0x80000000 and turns on
 * memory decoding and bus mastering; checks its identification register.
 * 0 or a negative step.
 */
static int edu_setup(struct qemu *q)
{
	uint32_t id = 0, v;

	if (rtas_cfg(q, EDU_DEVFN, 0, 4, &id, 0))
		return -1;
	if (id != 0x11e81234)
		return -2;
	v = BAR0_BUS;
	if (rtas_cfg(q, EDU_DEVFN, 0x10, 4, &v, 1))
		return -3;
	v = 0x6;
	if (rtas_cfg(q, EDU_DEVFN, 0x4, 2, &v, 1))
		return -4;
	bar_swap = 0;
	if (bar_r32(q, EDU_R_IDENT, &v))
		return -5;
	if ((v & 0xff) != 0xed && (__builtin_bswap32(v) & 0xff) == 0xed)
		bar_swap = 1;
	else if ((v & 0xff) != 0xed)
		return -6;
	return 0;
}

/* One edu DMA of cnt bytes, dir 0 (RAM -> device) or EDU_DMA_TO_RAM; 0 or -1 on timeout. */
static int edu_dma(struct qemu *q, uint64_t src, uint64_t dst, uint32_t cnt, uint32_t dir)
{
	double end = now() + 30;
	uint32_t cmd;

	if (bar_w64(q, EDU_R_DMA_SRC, src) || bar_w64(q, EDU_R_DMA_DST, dst) ||
	    bar_w64(q, EDU_R_DMA_CNT, cnt) || bar_w64(q, EDU_R_DMA_CMD, dir | EDU_DMA_RUN))
		return -1;
	while (now() < end) {
		if (bar_r32(q, EDU_R_DMA_CMD, &cmd))
			return -1;
		if (!(cmd & EDU_DMA_RUN))
			return 0;
		usleep(5000);
	}
	return -1;
}

#define XFER 1024

/*
 * The pattern (seed) written into guest RAM at src_gpa, DMA'd by the edu
 * from bus address src_ioba into its buffer and out to dst_ioba, then read
 * back at dst_gpa (set to 0x5a first).  1 when the bytes arrived, 0 when
 * they did not, -1 on a qtest or DMA-engine failure.
 */
static int dma_lands(struct qemu *q, uint64_t src_gpa, uint64_t src_ioba, uint64_t dst_ioba,
		     uint64_t dst_gpa, unsigned int seed)
{
	static unsigned char want[XFER], got[XFER];

	pattern(want, XFER, seed);
	if (ram_write(q, src_gpa, want, XFER) ||
	    qt(q, "memset 0x%llx 0x%x 0x5a", (unsigned long long)dst_gpa, XFER) ||
	    edu_dma(q, src_ioba, EDU_DMA_BUF, XFER, 0) ||
	    edu_dma(q, EDU_DMA_BUF, dst_ioba, XFER, EDU_DMA_TO_RAM) || ram_read(q, dst_gpa, got, XFER))
		return -1;
	return !memcmp(want, got, XFER);
}

/*
 * Writes the DMA pages once, as a guest fills its buffers before it maps
 * them.  Type1 pins a read-only TCE's page without FOLL_WRITE at MAP_DMA,
 * and on 6.1 an untouched anonymous page then pins the shared zero page,
 * which QEMU's later write replaces (copy on write): the device would read
 * zeroes.  (sPAPR preregisters all RAM writable first, so it never sees it.)
 */
static int touch_pages(struct qemu *q)
{
	return qt(q, "memset 0x%llx 0x1000 0x11", GPA_A) || qt(q, "memset 0x%llx 0x1000 0x22", GPA_B) ||
	       qt(q, "memset 0x%llx 0x1000 0x33", GPA_C) ? -1 : 0;
}

/* Starts the pseries QEMU with the edu as vfio-pci at 2.0.  0 or a negative step. */
static int ps_start(struct qemu *q)
{
	char fw[96], dev[320], bdf[256];
	const char *args[24];
	int n = 0;

	if (qemu_prepare(q, "pseries"))
		return -1;
	if (edu_bdf(bdf, sizeof(bdf)))
		return -2;
	snprintf(dev, sizeof(dev), "vfio-pci,host=%s,addr=2.0,id=hostdev0", bdf);
	snprintf(fw, sizeof(fw), "%s/hcallsrv.bin", q->dir);
	if (write_fw(fw))
		return -9;
	hgen = 0;
	args[n++] = "-machine";
	args[n++] = "pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off";
	args[n++] = "-accel";
	args[n++] = "tcg";
	args[n++] = "-m";
	args[n++] = "256M";
	args[n++] = "-bios";
	args[n++] = fw;
	args[n++] = "-global";
	args[n++] = "spapr-pci-host-bridge.ddw=off";
	args[n++] = "-device";
	args[n++] = dev;
	args[n] = NULL;
	return qemu_launch(q, QEMU_PPC, args);
}

/* QEMU's stderr has no failed MAP_DMA/UNMAP_DMA report (vfio_dma_map/unmap error lines). */
static int log_clean(struct qemu *q)
{
	return qemu_log_has(q, "vfio_dma_map(") == 0 && qemu_log_has(q, "vfio_dma_unmap(") == 0 &&
	       qemu_log_has(q, "unable to continue") == 0;
}

/* A value of QEMU's container in `vfio-cxx-stat --json`; -1 when it is not listed. */
static long ct_field(pid_t tgid, const char *field)
{
	return stat_field_of(tgid, field);
}

/* ------------------------------------------------------------------ */
/* fixture                                                             */

enum { M_TYPE1, M_CXX, M_SPAPR };

FIXTURE(ps) {
	struct qemu q;
	int mode;
	long pinned0, prereg0;
	int type1_unloaded;
};

FIXTURE_VARIANT(ps) {
	int mode;
};

FIXTURE_VARIANT_ADD(ps, type1) { .mode = M_TYPE1 };
FIXTURE_VARIANT_ADD(ps, cxx) { .mode = M_CXX };
FIXTURE_VARIANT_ADD(ps, spapr) { .mode = M_SPAPR };

/* rmmod and load this module again ($VFIO_CXX_KO, else modprobe): 0 or -1. */
static int module_reload(void)
{
	const char *ko = getenv("VFIO_CXX_KO");
	char cmd[600];

	if (system("rmmod vfio_iommu_cxx"))
		return -1;
	snprintf(cmd, sizeof(cmd), ko && *ko ? "insmod %s" : "modprobe vfio_iommu_cxx", ko);
	return system(cmd) ? -1 : 0;
}

FIXTURE_SETUP(ps)
{
	qemu_init(&self->q);
	self->mode = variant->mode;
	self->type1_unloaded = 0;
	ASSERT_LE(0, edu_group_number()) TH_LOG("VFIO_CXX_GROUP is not set");
	if (system("command -v " QEMU_PPC " >/dev/null 2>&1"))
		SKIP(return, QEMU_PPC " is not installed (package qemu-system-ppc)");
	if (!module_loaded())
		SKIP(return, "vfio_iommu_cxx is not loaded");
	if (self->mode == M_SPAPR && access(PARAM_SPAPR, F_OK))
		SKIP(return, "this vfio_iommu_cxx has no spapr parameter");
	ASSERT_EQ(0, write_str(PARAM_CLAIM, self->mode == M_CXX ? "1" : "0"));
	if (self->mode == M_SPAPR) {
		if (access("/sys/module/vfio_iommu_type1", F_OK) == 0 &&
		    access("/sys/module/vfio_iommu_type1/refcnt", F_OK))
			SKIP(return, "vfio_iommu_type1 is built in: QEMU would always find Type1");
		ASSERT_EQ(0, write_str(PARAM_SPAPR, "1"));
		if (!access("/sys/module/vfio_iommu_type1", F_OK)) {
			ASSERT_EQ(0, system("rmmod vfio_iommu_type1")) TH_LOG("vfio_iommu_type1 is in use");
			self->type1_unloaded = 1;
		}
	}
	self->pinned0 = stat_get("pages_pinned");
	self->prereg0 = stat_get("prereg_pages");
}

FIXTURE_TEARDOWN(ps)
{
	qemu_stop(&self->q);
	if (self->type1_unloaded) {
		/* Back as it was: type1 loaded, this module registered after it. */
		if (system("modprobe vfio_iommu_type1") || module_reload())
			fprintf(stderr, "# pseries_test: could not restore type1 and vfio_iommu_cxx\n");
	}
	if (module_loaded()) {
		write_str(PARAM_SPAPR, "0");
		write_str(PARAM_CLAIM, "1");
	}
}

static int start(struct __test_metadata *_metadata, FIXTURE_DATA(ps) *self)
{
	int r = ps_start(&self->q);

	if (r)
		TH_LOG("QEMU start: step %d; log: %s", r, qemu_log(&self->q));
	return r;
}

/* Everything QEMU held is back: pins, regions, its container gone. */
static void expect_released(struct __test_metadata *_metadata, FIXTURE_DATA(ps) *self, pid_t pid)
{
	for (int i = 0; i < 100 && (stat_get("pages_pinned") != self->pinned0 ||
				    stat_get("prereg_pages") != self->prereg0); i++)
		usleep(100000);
	EXPECT_EQ(self->pinned0, stat_get("pages_pinned"));
	EXPECT_EQ(self->prereg0, stat_get("prereg_pages"));
	EXPECT_EQ(-1, ct_field(pid, "groups")) TH_LOG("QEMU's container is still listed");
}

/*
 * The whole life of one pseries machine: start-up (in sPAPR mode the
 * REGISTER of all RAM, the REMOVE of the default window and the CREATE at
 * reset, seen through vfio-cxx-stat and QEMU's VmLck), config space and
 * BAR0 through RTAS, H_PUT_TCE -> MAP_DMA and a device DMA from guest RAM
 * to other guest RAM, a TCE put over a valid one (sPAPR replaces; Type1
 * refuses with EEXIST, which QEMU only logs), H_PUT_TCE with permissions 0
 * -> UNMAP_DMA and a DMA that faults, a machine reset (windows removed and
 * created again), and `quit` with every pin and charge back.
 */
TEST_F_TIMEOUT(ps, startup_dma_replace_unmap_reset_quit, 600)
{
	struct qemu *q = &self->q;
	const int sp = self->mode == M_SPAPR;
	int r;

	ASSERT_EQ(0, start(_metadata, self));
	if (self->mode != M_TYPE1) {
		ASSERT_EQ(1, ct_field(q->pid, "groups")) TH_LOG("QEMU's container is not ours");
		EXPECT_EQ(0, ct_field(q->pid, "mappings"));
	}
	if (sp) {
		/* REGISTER of all RAM; the default window removed; CREATE(4K, 1 GiB, levels 2) at reset */
		EXPECT_EQ(RAM_PAGES, ct_field(q->pid, "prereg_pages"));
		EXPECT_EQ(TABLE_1G_L2, ct_field(q->pid, "locked_pages"));
		EXPECT_EQ(KB(RAM_PAGES + TABLE_1G_L2), vmlck_kb_pid(q->pid));
		EXPECT_EQ(1, stat_type_of(q->pid, "spapr_v2"));
	}
	r = edu_setup(q);
	ASSERT_EQ(0, r) TH_LOG("edu set-up: step %d; log: %s", r, qemu_log(q));
	ASSERT_EQ(0, touch_pages(q));

	/* H_PUT_TCE -> MAP_DMA: the device reads A through one TCE and writes B through another */
	ASSERT_EQ(0, put_tce(q, IOBA_A, GPA_A | TCE_R));
	ASSERT_EQ(0, put_tce(q, IOBA_B, GPA_B | TCE_R | TCE_W));
	if (self->mode != M_TYPE1)
		EXPECT_EQ(2, ct_field(q->pid, "mappings"));
	EXPECT_EQ(1, dma_lands(q, GPA_A, IOBA_A, IOBA_B, GPA_B, 1)) TH_LOG("log: %s", qemu_log(q));
	EXPECT_TRUE(log_clean(q)) TH_LOG("log: %s", qemu_log(q));

	/* a TCE over a valid one */
	ASSERT_EQ(0, put_tce(q, IOBA_B, GPA_C | TCE_R | TCE_W));
	if (sp) {
		EXPECT_EQ(1, dma_lands(q, GPA_A, IOBA_A, IOBA_B, GPA_C, 2)) TH_LOG("replaced TCE");
		EXPECT_TRUE(log_clean(q)) TH_LOG("log: %s", qemu_log(q));
	} else {
		/* Type1: MAP_DMA over a mapping is EEXIST; the old page stays mapped */
		EXPECT_EQ(1, dma_lands(q, GPA_A, IOBA_A, IOBA_B, GPA_B, 2));
		EXPECT_EQ(1, qemu_log_has(q, "vfio_dma_map(")) TH_LOG("log: %s", qemu_log(q));
	}

	/* permissions 0 -> UNMAP_DMA: the DMA to IOBA_B faults in the IOMMU, nothing lands */
	const int faults0 = dmesg_count("fault addr 0x200000");

	ASSERT_EQ(0, put_tce(q, IOBA_B, 0));
	EXPECT_EQ(0, dma_lands(q, GPA_A, IOBA_A, IOBA_B, sp ? GPA_C : GPA_B, 3));
	EXPECT_EQ(0, dma_lands(q, GPA_A, IOBA_A, IOBA_B, GPA_B, 4));
	for (int i = 0; i < 50 && dmesg_count("fault addr 0x200000") <= faults0; i++)
		usleep(100000);
	EXPECT_LT(faults0, dmesg_count("fault addr 0x200000")) TH_LOG("no DMAR fault for the cleared TCE");

	/* machine reset: the windows are removed and made again, every TCE is gone */
	ASSERT_EQ(0, qmp(q, "{\"execute\": \"system_reset\"}"));
	for (int i = 0; i < 100 && sp && ct_field(q->pid, "mappings") != 0; i++)
		usleep(100000);
	if (self->mode != M_TYPE1)
		EXPECT_EQ(0, ct_field(q->pid, "mappings"));
	if (sp) {
		EXPECT_EQ(TABLE_1G_L2, ct_field(q->pid, "locked_pages")) TH_LOG("one window, charged once");
		EXPECT_EQ(RAM_PAGES, ct_field(q->pid, "prereg_pages"));
	}
	r = edu_setup(q); /* the reset cleared the BAR and the command register */
	ASSERT_EQ(0, r) TH_LOG("edu set-up after reset: step %d", r);
	ASSERT_EQ(0, put_tce(q, IOBA_A, GPA_A | TCE_R));
	ASSERT_EQ(0, put_tce(q, IOBA_B, GPA_B | TCE_R | TCE_W));
	EXPECT_EQ(1, dma_lands(q, GPA_A, IOBA_A, IOBA_B, GPA_B, 5)) TH_LOG("log: %s", qemu_log(q));
	if (sp)
		EXPECT_TRUE(log_clean(q)) TH_LOG("log: %s", qemu_log(q));

	/* quit: UNMAP of the window, REMOVE, UNREGISTER, close */
	pid_t pid = q->pid;

	ASSERT_EQ(0, qmp(q, "{\"execute\": \"quit\"}"));
	EXPECT_LE(0, qemu_wait(q, 60000));
	expect_released(_metadata, self, pid);
}

/* SIGKILL of QEMU with TCEs valid: every pin and charge comes back. */
TEST_F_TIMEOUT(ps, kill9_releases_everything, 600)
{
	struct qemu *q = &self->q;
	pid_t pid;
	int r;

	ASSERT_EQ(0, start(_metadata, self));
	r = edu_setup(q);
	ASSERT_EQ(0, r) TH_LOG("edu set-up: step %d", r);
	ASSERT_EQ(0, touch_pages(q));
	ASSERT_EQ(0, put_tce(q, IOBA_A, GPA_A | TCE_R));
	ASSERT_EQ(0, put_tce(q, IOBA_B, GPA_B | TCE_R | TCE_W));
	EXPECT_EQ(1, dma_lands(q, GPA_A, IOBA_A, IOBA_B, GPA_B, 6));
	pid = q->pid;
	kill(pid, SIGKILL);
	EXPECT_LE(0, qemu_wait(q, 60000));
	expect_released(_metadata, self, pid);
}

TEST_HARNESS_MAIN
