/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Register map of vfio_cxx_mtest, the test mediated device (a DMA engine
 * behind vfio_pin_pages()/vfio_dma_rw()).  Shared by the driver
 * (selftests/mdev/) and the VM suite (selftests/vm/mdev_test.c): plain C,
 * no kernel or libc headers.
 *
 * The device has one region, index 0 (VFIO_PCI_BAR0_REGION_INDEX has the
 * same value), at file offset 0 of the device fd, MTEST_REGION_SIZE bytes:
 *
 *   0x00000-0x0ffff  registers: 64-bit little-endian, accessed with 8-byte
 *                    (or 4-byte, low/high half) naturally aligned pread/pwrite
 *   0x10000-0x1ffff  the device buffer (any size and alignment)
 *
 * Writing CMD runs the command synchronously; RESULT then holds its return
 * value (signed 64-bit: >= 0 on success, -errno on failure).  Bad input
 * gives an errno in RESULT, never a crash.
 */
#ifndef VFIO_CXX_MTEST_REGS_H
#define VFIO_CXX_MTEST_REGS_H

#define MTEST_NAME		"vfio_cxx_mtest"	/* driver, class and parent device */
#define MTEST_TYPE		"vfio_cxx_mtest-dma"	/* the one mdev type */
#define MTEST_IDENT_MAGIC	0x5858434354534554ULL	/* "TESTCCXX" little-endian */

#define MTEST_REG_IDENT		0x00	/* RO: MTEST_IDENT_MAGIC */
#define MTEST_REG_IOVA		0x08	/* RW: guest IOVA of the command */
#define MTEST_REG_NPAGES	0x10	/* RW: pages for PIN/UNPIN (1..MTEST_PIN_MAX) */
#define MTEST_REG_PROT		0x18	/* RW: PIN protection, MTEST_PROT_* */
#define MTEST_REG_LEN		0x20	/* RW: bytes for the copy commands (<= MTEST_BUF_SIZE) */
#define MTEST_REG_CMD		0x28	/* W: runs MTEST_CMD_*; R: last command */
#define MTEST_REG_RESULT	0x30	/* RO: last command's return value (signed) */
#define MTEST_REG_PINNED	0x38	/* RO: page pins held now (repeats counted) */
#define MTEST_REG_UNMAP_CALLS	0x40	/* RO: dma_unmap callbacks since open */
#define MTEST_REG_UNMAP_IOVA	0x48	/* RO: iova of the last dma_unmap callback */
#define MTEST_REG_UNMAP_LEN	0x50	/* RO: length of the last dma_unmap callback */
#define MTEST_REG_UNMAP_DROPPED	0x58	/* RO: pins dropped by dma_unmap since open */
#define MTEST_REG_PIN_CAP	0x60	/* RO: capacity of the pin table (pages) */
#define MTEST_REG_BUF_OFF	0x68	/* RO: MTEST_BUF_OFF */
#define MTEST_REG_BUF_SIZE	0x70	/* RO: MTEST_BUF_SIZE */

#define MTEST_BUF_OFF		0x10000ULL
#define MTEST_BUF_SIZE		0x10000ULL
#define MTEST_REGION_SIZE	(MTEST_BUF_OFF + MTEST_BUF_SIZE)

#define MTEST_PROT_READ		1	/* IOMMU_READ: the device reads guest memory */
#define MTEST_PROT_WRITE	2	/* IOMMU_WRITE: the device writes guest memory */

#define MTEST_PIN_MAX		512	/* pages per PIN/UNPIN (VFIO_PIN_PAGES_MAX_ENTRIES) */
#define MTEST_PIN_CAP		4096	/* pin table entries */

/*
 * Commands.  RESULT:
 *   PIN          vfio_pin_pages(IOVA, NPAGES, PROT): NPAGES on success, the
 *                pages join the pin table (one entry per page per PIN).
 *                IOVA must be page-aligned; -ENOSPC if the table is full.
 *   UNPIN        vfio_unpin_pages(IOVA, NPAGES) for the whole range (pinned by
 *                this device or not), then one table entry per page is
 *                dropped: the number of entries dropped.
 *   WRITE_PINNED buffer[0..LEN) -> guest [IOVA, IOVA+LEN) through the pinned
 *                pages (kmap): 0, or -EFAULT if a page is not pinned here,
 *                -EPERM if it was pinned without MTEST_PROT_WRITE.
 *   READ_PINNED  guest [IOVA, IOVA+LEN) -> buffer[0..LEN) through the pinned
 *                pages: 0 or -EFAULT.
 *   RW_WRITE     vfio_dma_rw(IOVA, buffer, LEN, write=true): its return value.
 *   RW_READ      vfio_dma_rw(IOVA, buffer, LEN, write=false): its return value.
 *   UNPIN_ALL    unpins every table entry: the number of entries dropped.
 * A dma_unmap(iova, length) callback unpins, before it returns, every table
 * entry inside [iova, iova + length); close_device unpins every entry.
 */
#define MTEST_CMD_PIN		1
#define MTEST_CMD_UNPIN		2
#define MTEST_CMD_WRITE_PINNED	3
#define MTEST_CMD_READ_PINNED	4
#define MTEST_CMD_RW_WRITE	5
#define MTEST_CMD_RW_READ	6
#define MTEST_CMD_UNPIN_ALL	7

#endif /* VFIO_CXX_MTEST_REGS_H */
