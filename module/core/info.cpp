// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_IOMMU_GET_INFO and its capability chain.
 *
 * Locking: the chain is built under lock_, copied to user space after.
 */
#include "container.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

/* ---- GET_INFO ----------------------------------------------------------- */

namespace {
/* A capability chain being built, each capability 8-byte aligned. */
class CapChain {
public:
	VFIO_CXX_NO_COPY(CapChain);
	CapChain() noexcept = default;
	~CapChain() { kapi_free(buf_); }
	/* Reserve a zeroed capability of size bytes; null on ENOMEM. */
	void *add(u64 size, u16 id, u16 version) noexcept
	{
		size = (size + 7) & ~u64(7);
		u8 *n = static_cast<u8 *>(kapi_alloc(size_ + size));
		if (!n)
			return nullptr;
		for (u64 i = 0; i < size_; i++)
			n[i] = buf_[i];
		kapi_free(buf_);
		buf_ = n;
		auto *h = reinterpret_cast<abi::CapHeader *>(buf_ + size_);
		h->id = id;
		h->version = version;
		if (size_)
			reinterpret_cast<abi::CapHeader *>(buf_ + last_)->next = static_cast<u32>(size_);
		last_ = size_;
		size_ += size;
		return h;
	}
	/* Make next offsets relative to the start of the info struct. */
	void shift(u32 offset) noexcept
	{
		for (u64 at = 0;;) {
			auto *h = reinterpret_cast<abi::CapHeader *>(buf_ + at);
			if (!h->next)
				break;
			at = h->next;
			h->next += offset;
		}
	}
	u64 size() const noexcept { return size_; }
	const u8 *data() const noexcept { return buf_; }

private:
	u8 *buf_ = nullptr;
	u64 size_ = 0;
	u64 last_ = 0;
};
} /* namespace */

long Container::get_info(unsigned long arg) noexcept
{
	abi::IommuInfo info{};
	if (kapi_copy_from_user(&info, arg, abi::INFO_MINSZ))
		return -err::FAULT;
	if (info.argsz < abi::INFO_MINSZ)
		return -err::INVAL;
	const u64 minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);

	CapChain caps;
	{
		Guard g(lock_);
		info.flags = abi::INFO_PGSIZES;
		info.iova_pgsizes = topo_.pgsize_bitmap();

		auto *mig = static_cast<abi::CapMigration *>(
			caps.add(sizeof(abi::CapMigration), abi::CAP_MIGRATION, 1));
		if (!mig)
			return -err::NOMEM;
		mig->flags = 0;
		mig->pgsize_bitmap = topo_.min_pgsize();
		mig->max_dirty_bitmap_size = abi::DIRTY_BITMAP_SIZE_MAX;

		auto *avail = static_cast<abi::CapDmaAvail *>(
			caps.add(sizeof(abi::CapDmaAvail), abi::CAP_DMA_AVAIL, 1));
		if (!avail)
			return -err::NOMEM;
		avail->avail = iopt_.dmas().avail();

		if (cxx_) {
			auto *pc = static_cast<abi::CapPrereg *>(
				caps.add(sizeof(abi::CapPrereg), abi::CAP_CXX_PREREG, 1));
			if (!pc)
				return -err::NOMEM;
			pc->flags = 0;
			pc->nr_regions = static_cast<u32>(preregs_.size());
			pc->pinned_bytes = preregs_.bytes();
		}

		/* An emulated-only container has no IOVA list: no capability. */
		const IovaList &iovas = topo_.iovas();
		if (iovas.restricted()) {
			const u64 sz = sizeof(abi::CapIovaRange) + iovas.size() * sizeof(abi::IovaRange);
			auto *cap = static_cast<abi::CapIovaRange *>(
				caps.add(sz, abi::CAP_IOVA_RANGE, 1));
			if (!cap)
				return -err::NOMEM;
			cap->nr_iovas = static_cast<u32>(iovas.size());
			auto *ranges = reinterpret_cast<abi::IovaRange *>(cap + 1);
			for (size_t i = 0; i < iovas.size(); i++)
				ranges[i] = iovas[i];
		}
	}

	info.flags |= abi::INFO_CAPS;
	if (info.argsz < sizeof(info) + caps.size()) {
		info.argsz = static_cast<u32>(sizeof(info) + caps.size());
	} else {
		caps.shift(sizeof(info));
		if (kapi_copy_to_user(arg + sizeof(info), caps.data(), caps.size()))
			return -err::FAULT;
		info.cap_offset = sizeof(info);
	}
	return kapi_copy_to_user(arg, &info, minsz) ? -err::FAULT : 0;
}

} /* namespace vfio_cxx */
