// SPDX-License-Identifier: GPL-2.0
/*
 * The device model of vfio_cxx_mtest: registers, the pin table and the DMA
 * engine commands (see mtest_regs.h).  Freestanding C++: no kernel headers,
 * no exceptions, RTTI, static constructors or dynamic allocation; the C
 * shim (mtest_kapi.c) allocates the engine zeroed and serialises calls.
 */
#include "mtest_engine.h"

namespace {

using u64 = unsigned long long;
using s64 = long long;

// errno values (include/uapi/asm-generic/errno-base.h).
constexpr int kEPERM = 1;
constexpr int kEIO = 5;
constexpr int kEFAULT = 14;
constexpr int kEINVAL = 22;
constexpr int kENOSPC = 28;

constexpr u64 kPage = 4096;	// the shim checks PAGE_SIZE at build time

struct PinEntry {
	u64 iova;	// page-aligned guest IOVA
	void *page;	// struct page * from vfio_pin_pages()
	int prot;	// MTEST_PROT_* it was pinned with
};

} // namespace

struct mtest_engine {
	void *ctx;
	// Registers.
	u64 iova, npages, prot, len, cmd;
	s64 result;
	u64 unmap_calls, unmap_iova, unmap_len, unmap_dropped;
	// Pin table: one entry per page per successful PIN.
	unsigned int nr;
	PinEntry table[MTEST_PIN_CAP];
	void *scratch[MTEST_PIN_MAX];
	unsigned char buf[MTEST_BUF_SIZE];
};

namespace {

// Index of an entry for the page at iova, or -1.
int find(const mtest_engine *e, u64 iova)
{
	for (int i = static_cast<int>(e->nr) - 1; i >= 0; i--)
		if (e->table[i].iova == iova)
			return i;
	return -1;
}

void drop(mtest_engine *e, unsigned int i)
{
	e->table[i] = e->table[e->nr - 1];
	e->nr--;
}

// The range check PIN and UNPIN share: aligned, 1..MTEST_PIN_MAX pages, no wrap.
bool page_range_ok(u64 iova, u64 npages)
{
	if (npages < 1 || npages > MTEST_PIN_MAX || (iova & (kPage - 1)))
		return false;
	return iova + npages * kPage > iova;
}

s64 cmd_pin(mtest_engine *e)
{
	if (!page_range_ok(e->iova, e->npages) || (e->prot & ~u64(MTEST_PROT_READ | MTEST_PROT_WRITE)))
		return -kEINVAL;
	const int n = static_cast<int>(e->npages);
	if (e->nr + static_cast<unsigned int>(n) > MTEST_PIN_CAP)
		return -kENOSPC;
	for (int i = 0; i < n; i++)
		e->scratch[i] = nullptr;
	const int ret = mtest_kapi_pin(e->ctx, e->iova, n, static_cast<int>(e->prot), e->scratch);
	if (ret < 0)
		return ret;
	if (ret != n) {
		// A backend must return npage or an error; give back what it pinned.
		if (ret > 0)
			mtest_kapi_unpin(e->ctx, e->iova, ret);
		return -kEIO;
	}
	for (int i = 0; i < n; i++) {
		if (!e->scratch[i]) {
			// Pinned but no page: cannot use it; undo the whole call.
			mtest_kapi_unpin(e->ctx, e->iova, n);
			return -kEIO;
		}
	}
	for (int i = 0; i < n; i++)
		e->table[e->nr++] = PinEntry{e->iova + u64(i) * kPage, e->scratch[i],
					     static_cast<int>(e->prot)};
	return n;
}

s64 cmd_unpin(mtest_engine *e)
{
	if (!page_range_ok(e->iova, e->npages))
		return -kEINVAL;
	const int n = static_cast<int>(e->npages);
	mtest_kapi_unpin(e->ctx, e->iova, n);
	s64 dropped = 0;
	for (int i = 0; i < n; i++) {
		const int j = find(e, e->iova + u64(i) * kPage);
		if (j >= 0) {
			drop(e, static_cast<unsigned int>(j));
			dropped++;
		}
	}
	return dropped;
}

s64 unpin_all(mtest_engine *e)
{
	s64 dropped = 0;
	while (e->nr) {
		mtest_kapi_unpin(e->ctx, e->table[e->nr - 1].iova, 1);
		e->nr--;
		dropped++;
	}
	return dropped;
}

// Copies between the device buffer and guest memory through pinned pages.
s64 cmd_copy_pinned(mtest_engine *e, bool to_guest)
{
	if (e->len > MTEST_BUF_SIZE || e->iova + e->len < e->iova)
		return -kEINVAL;
	if (!e->len)
		return 0;
	const u64 first = e->iova & ~(kPage - 1);
	const u64 end = e->iova + e->len;
	// Check every page before touching any.
	for (u64 p = first; p < end; p += kPage) {
		const int j = find(e, p);
		if (j < 0)
			return -kEFAULT;
		if (to_guest && !(e->table[j].prot & MTEST_PROT_WRITE))
			return -kEPERM;
	}
	u64 done = 0;
	while (done < e->len) {
		const u64 at = e->iova + done;
		const u64 off = at & (kPage - 1);
		u64 chunk = kPage - off;
		if (chunk > e->len - done)
			chunk = e->len - done;
		const int j = find(e, at - off);
		mtest_kapi_page_copy(e->table[j].page, static_cast<unsigned int>(off),
				     e->buf + done, static_cast<unsigned int>(chunk), to_guest);
		done += chunk;
	}
	return 0;
}

s64 cmd_rw(mtest_engine *e, bool to_guest)
{
	if (e->len > MTEST_BUF_SIZE)
		return -kEINVAL;
	return mtest_kapi_dma_rw(e->ctx, e->iova, e->buf, static_cast<unsigned long>(e->len),
				 to_guest);
}

s64 run(mtest_engine *e, u64 cmd)
{
	switch (cmd) {
	case MTEST_CMD_PIN:
		return cmd_pin(e);
	case MTEST_CMD_UNPIN:
		return cmd_unpin(e);
	case MTEST_CMD_WRITE_PINNED:
		return cmd_copy_pinned(e, true);
	case MTEST_CMD_READ_PINNED:
		return cmd_copy_pinned(e, false);
	case MTEST_CMD_RW_WRITE:
		return cmd_rw(e, true);
	case MTEST_CMD_RW_READ:
		return cmd_rw(e, false);
	case MTEST_CMD_UNPIN_ALL:
		return unpin_all(e);
	default:
		return -kEINVAL;
	}
}

u64 *rw_reg(mtest_engine *e, u64 reg)
{
	switch (reg) {
	case MTEST_REG_IOVA:
		return &e->iova;
	case MTEST_REG_NPAGES:
		return &e->npages;
	case MTEST_REG_PROT:
		return &e->prot;
	case MTEST_REG_LEN:
		return &e->len;
	default:
		return nullptr;
	}
}

bool access_ok(u64 off, unsigned int len)
{
	return (len == 4 || len == 8) && !(off & (len - 1)) && off + len <= MTEST_BUF_OFF;
}

} // namespace

extern "C" {

unsigned long mtest_engine_size(void)
{
	return sizeof(mtest_engine);
}

void mtest_engine_init(mtest_engine *e, void *ctx)
{
	e->ctx = ctx;
	e->nr = 0;
	mtest_engine_open(e);
}

void mtest_engine_open(mtest_engine *e)
{
	e->iova = e->npages = e->prot = e->len = e->cmd = 0;
	e->result = 0;
	e->unmap_calls = e->unmap_iova = e->unmap_len = e->unmap_dropped = 0;
}

void mtest_engine_close(mtest_engine *e)
{
	unpin_all(e);
}

unsigned char *mtest_engine_buf(mtest_engine *e)
{
	return e->buf;
}

unsigned long long mtest_engine_pinned(const mtest_engine *e)
{
	return e->nr;
}

int mtest_engine_reg_read(mtest_engine *e, unsigned long long off, unsigned int len,
			  unsigned long long *val)
{
	if (!access_ok(off, len))
		return -kEINVAL;
	const u64 reg = off & ~u64(7);
	u64 v = 0;
	switch (reg) {
	case MTEST_REG_IDENT:
		v = MTEST_IDENT_MAGIC;
		break;
	case MTEST_REG_CMD:
		v = e->cmd;
		break;
	case MTEST_REG_RESULT:
		v = static_cast<u64>(e->result);
		break;
	case MTEST_REG_PINNED:
		v = e->nr;
		break;
	case MTEST_REG_UNMAP_CALLS:
		v = e->unmap_calls;
		break;
	case MTEST_REG_UNMAP_IOVA:
		v = e->unmap_iova;
		break;
	case MTEST_REG_UNMAP_LEN:
		v = e->unmap_len;
		break;
	case MTEST_REG_UNMAP_DROPPED:
		v = e->unmap_dropped;
		break;
	case MTEST_REG_PIN_CAP:
		v = MTEST_PIN_CAP;
		break;
	case MTEST_REG_BUF_OFF:
		v = MTEST_BUF_OFF;
		break;
	case MTEST_REG_BUF_SIZE:
		v = MTEST_BUF_SIZE;
		break;
	default:
		if (u64 *r = rw_reg(e, reg))
			v = *r;
		break;	// unknown registers read as 0
	}
	if (len == 4)
		v = (v >> ((off & 4) * 8)) & 0xffffffffULL;
	*val = v;
	return 0;
}

int mtest_engine_reg_write(mtest_engine *e, unsigned long long off, unsigned int len,
			   unsigned long long val)
{
	if (!access_ok(off, len))
		return -kEINVAL;
	const u64 reg = off & ~u64(7);
	if (reg == MTEST_REG_CMD) {
		if (off & 4)
			return 0;	// the high half of CMD does nothing
		e->cmd = len == 4 ? (val & 0xffffffffULL) : val;
		e->result = run(e, e->cmd);
		return 0;
	}
	u64 *r = rw_reg(e, reg);
	if (!r)
		return 0;	// read-only and unknown registers ignore writes
	if (len == 8) {
		*r = val;
	} else {
		const unsigned int shift = static_cast<unsigned int>((off & 4) * 8);
		*r = (*r & ~(0xffffffffULL << shift)) | ((val & 0xffffffffULL) << shift);
	}
	return 0;
}

void mtest_engine_dma_unmap(mtest_engine *e, unsigned long long iova, unsigned long long length)
{
	e->unmap_calls++;
	e->unmap_iova = iova;
	e->unmap_len = length;
	const u64 end = iova + length < iova ? ~0ULL : iova + length;
	unsigned int i = 0;
	while (i < e->nr) {
		const u64 p = e->table[i].iova;
		if (p + kPage > iova && p < end) {	// the page intersects the range
			mtest_kapi_unpin(e->ctx, p, 1);
			drop(e, i);
			e->unmap_dropped++;
		} else {
			i++;
		}
	}
}

} // extern "C"
