// SPDX-License-Identifier: GPL-2.0
/*
 * Container: groups, domains and the Type1v2 ioctls.  Each user-visible
 * check follows vfio_iommu_type1 in order and errno, so that unmodified
 * Type1 clients see the same answers; Documentation/design.rst lists the
 * places where we deliberately differ.
 */
#include "container.h"
#include "registry.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

constinit Stats g_stats;

namespace {

constexpr u64 U64_MAX = ~u64(0);

int ctz(u64 v) { return __builtin_ctzll(v); }

/* type1's verify_bitmap_size() */
int verify_bitmap_size(u64 npages, u64 bitmap_size)
{
	if (!npages || !bitmap_size || bitmap_size > abi::DIRTY_BITMAP_SIZE_MAX ||
	    bitmap_size < abi::dirty_bitmap_bytes(npages))
		return -err::INVAL;
	return 0;
}

void set_bits(u64 *map, u64 nbits)
{
	for (u64 w = 0; w < nbits / 64; w++)
		map[w] = ~u64(0);
	if (nbits % 64)
		map[nbits / 64] |= (u64(1) << (nbits % 64)) - 1;
}

/* map <<= shift over nbits + shift bits (map has a spare word). */
void shift_left(u64 *map, u64 nbits, unsigned int shift)
{
	const u64 total = nbits + shift;
	const u64 words = (total + 63) / 64;
	for (u64 k = words; k-- > 0;) {
		u64 v = map[k] << shift;
		if (k > 0)
			v |= map[k - 1] >> (64 - shift);
		map[k] = v;
	}
	if (total % 64)
		map[words - 1] &= (u64(1) << (total % 64)) - 1;
}

} /* namespace */

Container::Container(bool v2, bool cxx) noexcept
	: devices_lock_(KAPI_LOCK_DEVICES), devices_(kapi_devlist_create()),
	  lock_(KAPI_LOCK_CONTAINER), dmas_(kapi_rangemap_create()),
	  dma_avail_(kapi_param_dma_entry_limit()), v2_(v2), cxx_(cxx),
	  exit_policy_(kapi_param_exit_policy() == abi::EXIT_RELEASE ? abi::EXIT_RELEASE
								    : abi::EXIT_KEEP)
{
	g_stats.containers_live.inc();
	g_stats.containers_opened.inc();
}

Container::~Container()
{
	Registry::remove(*this); /* first: no snapshot may see the teardown */
	/*
	 * Stop watching owner mms first, holding no lock: a running exit
	 * handler finishes before its watch is gone, one that the unregister
	 * itself runs stands down (closing_), and none runs later (B44).
	 */
	if (lock_.valid()) {
		Guard g(lock_);
		closing_ = true;
	}
	while (MmWatch *mw = watches_.front()) {
		watches_.remove(*mw);
		kapi_mm_watch_destroy(mw->w);
		delete mw;
	}
	if (lock_.valid()) {
		Guard g(lock_);
		/*
		 * The VFIO core detaches every group before it releases the
		 * container; anything left here is a core bug, but must still not
		 * leak.
		 */
		for (Group &grp : groups_) {
			VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: group %d still attached at release\n",
					   kapi_group_id(grp.raw()));
			detach(grp);
		}
		if (dmas_)
			for_each_dma(0, U64_MAX, [this](Dma &d) {
				remove_dma(d);
				return true;
			});
		/* B37: every region at once, whoever else holds the mm. */
		while (Prereg *p = preregs_.front())
			free_prereg(*p);
	}
	if (prereg_mm_)
		kapi_mm_drop(prereg_mm_);
	if (dmas_)
		kapi_rangemap_destroy(dmas_);
	if (devices_)
		kapi_devlist_destroy(devices_);
	g_stats.containers_live.dec();
}

bool Container::serves_type(unsigned long type) noexcept
{
	switch (type) {
	case abi::CXX_IOMMU:
		return true;
	case abi::TYPE1_IOMMU:
	case abi::TYPE1v2_IOMMU:
		return kapi_param_claim_type1() != 0;
	default:
		return false;
	}
}

Result<Owned<Container>> Container::create(unsigned long type) noexcept
{
	if (!serves_type(type))
		return Result<Owned<Container>>::error(-err::INVAL);
	Owned<Container> c(make<Container>(type != abi::TYPE1_IOMMU, type == abi::CXX_IOMMU));
	if (!c || !c->lock_.valid() || !c->dmas_ || !c->devices_lock_.valid() || !c->devices_)
		return Result<Owned<Container>>::error(-err::NOMEM);
	Registry::add(*c, type);
	return Result<Owned<Container>>(move(c));
}

long Container::check_extension_global(unsigned long ext) noexcept
{
	switch (ext) {
	case abi::CXX_IOMMU:
	case abi::UNMAP_ALL:
		return 1;
	case abi::TYPE1_IOMMU:
	case abi::TYPE1v2_IOMMU:
		return kapi_param_claim_type1() ? 1 : 0;
	default:
		/* UPDATE_VADDR and DMA_CC_IOMMU need a container (as type1). */
		return 0;
	}
}

long Container::check_extension(unsigned long ext) noexcept
{
	switch (ext) {
	case abi::CXX_IOMMU:
	case abi::TYPE1_IOMMU:
	case abi::TYPE1v2_IOMMU:
	case abi::UNMAP_ALL:
		return 1;
	case abi::UPDATE_VADDR: {
		/* Emulated devices cannot pin safely while vaddrs change. */
		Guard g(lock_);
		return emulated_groups_ == 0;
	}
	case abi::DMA_CC_IOMMU: {
		Guard g(lock_);
		for (Domain &d : domains_)
			if (!kapi_domain_enforces_coherency(d.raw()))
				return 0;
		return 1;
	}
	default:
		return 0;
	}
}

long Container::ioctl(unsigned int cmd, unsigned long arg) noexcept
{
	switch (cmd) {
	case abi::CHECK_EXTENSION:
		return check_extension(arg);
	case abi::IOMMU_GET_INFO:
		return get_info(arg);
	case abi::IOMMU_MAP_DMA:
		return map_dma(arg);
	case abi::IOMMU_UNMAP_DMA:
		return unmap_dma(arg);
	case abi::IOMMU_DIRTY_PAGES: {
		/* == IOMMU_REGISTER_MEMORY: flags == 0 registers (uapi/linux/vfio_cxx.h). */
		abi::DirtyBitmap head;
		if (cxx_ && !kapi_copy_from_user(&head, arg, sizeof(head)) && !head.flags)
			return prereg_ioctl(arg, true);
		return dirty_pages(arg);
	}
	case abi::IOMMU_UNREGISTER_MEMORY:
		return cxx_ ? prereg_ioctl(arg, false) : -err::NOTTY;
	case abi::CXX_EXIT_POLICY:
		return set_exit_policy(arg);
	default:
		return -err::NOTTY;
	}
}

/* ---- groups and domains ---------------------------------------------- */

Group *Container::find_group(kapi_group *g) noexcept
{
	lock_.assert_held();
	for (Group &grp : groups_)
		if (grp.raw() == g)
			return &grp;
	return nullptr;
}

namespace {
struct ResvCtx {
	IovaList *list;
	bool failed;
};
void exclude_resv(void *ctx, kapi_u64 start, kapi_u64 last)
{
	auto *c = static_cast<ResvCtx *>(ctx);
	if (!c->list->exclude(start, last))
		c->failed = true;
}
} /* namespace */

/*
 * The IOVA list of the IOMMU groups attached now, plus extra_g in extra_d if
 * given.  Empty when there is no IOMMU group at all.
 */
int Container::compute_iovas(IovaList &out, kapi_group *extra_g, kapi_domain *extra_d) noexcept
{
	out.clear();
	if (domains_.empty() && !extra_d)
		return 0;
	if (!out.reset(0, U64_MAX))
		return -err::NOMEM;
	auto aperture = [&out](kapi_domain *d) {
		u64 start, end;
		kapi_domain_aperture(d, &start, &end);
		out.intersect(start, end);
	};
	for (Domain &d : domains_)
		aperture(d.raw());
	if (extra_d)
		aperture(extra_d);

	ResvCtx ctx{ &out, false };
	for (Group &grp : groups_) {
		if (grp.emulated())
			continue;
		int ret = kapi_group_for_each_resv_region(grp.raw(), exclude_resv, &ctx);
		if (ret)
			return ret;
	}
	if (extra_g) {
		int ret = kapi_group_for_each_resv_region(extra_g, exclude_resv, &ctx);
		if (ret)
			return ret;
	}
	return ctx.failed ? -err::NOMEM : 0;
}

void Container::update_pgsize_bitmap() noexcept
{
	u64 bitmap = U64_MAX;
	for (Domain &d : domains_)
		bitmap &= kapi_domain_pgsize_bitmap(d.raw());
	/* Hide sub-page sizes: pinning works in pages (as type1). */
	if (bitmap & ~abi::PAGE_MASK) {
		bitmap &= abi::PAGE_MASK;
		bitmap |= abi::PAGE_SIZE;
	}
	pgsize_bitmap_ = bitmap;
}

/*
 * Map every existing Dma into the fresh domain (already in domains_).  If
 * the container had no domain, the Dmas were never pinned: pin them now.
 * On failure everything this replay did is undone.
 */
int Container::replay(Domain &fresh, bool was_empty) noexcept
{
	int ret = 0;
	u64 failed_at = U64_MAX;
	for_each_dma(0, U64_MAX, [&](Dma &d) {
		ret = was_empty ? pin_map(d) : map_runs(d, fresh.raw());
		if (ret)
			failed_at = d.iova;
		return ret == 0;
	});
	if (!ret)
		return 0;
	/* The failing Dma cleaned up after itself; undo the ones before it. */
	for_each_dma(0, U64_MAX, [&](Dma &d) {
		if (d.iova == failed_at)
			return false;
		if (was_empty)
			unmap_unpin(d);
		else
			kapi_domain_unmap(fresh.raw(), d.iova, d.size);
		return true;
	});
	return ret;
}

/*
 * Give grp a domain: an existing compatible one of this container, or a
 * new paging domain with every existing mapping replayed into it.  On
 * failure nothing is left attached, mapped or allocated.
 */
int Container::attach_iommu(Group &grp) noexcept
{
	int ret = kapi_group_check_msi_isolation(grp.raw());
	if (ret)
		return ret;

	kapi_domain *kd = nullptr;
	ret = kapi_domain_alloc(grp.raw(), &kd);
	if (ret)
		return ret;
	Owned<Domain> fresh(make<Domain>(kd));
	if (!fresh) {
		kapi_domain_free(kd);
		return -err::NOMEM;
	}

	ret = kapi_domain_attach_group(fresh->raw(), grp.raw());
	if (ret)
		return ret;

	/*
	 * Existing mappings must stay valid with this group's aperture (which
	 * the IOMMU driver settles at attach time, so only now) and reserved
	 * regions.
	 */
	IovaList next;
	ret = compute_iovas(next, grp.raw(), fresh->raw());
	bool conflict = false;
	if (!ret)
		for_each_dma(0, U64_MAX, [&](Dma &d) {
			conflict = !next.allows(d.iova, d.last());
			return !conflict;
		});
	if (ret || conflict) {
		kapi_domain_detach_group(fresh->raw(), grp.raw());
		return ret ? ret : -err::INVAL;
	}

	for (Domain &d : domains_) {
		if (!kapi_domain_compatible(d.raw(), fresh->raw()))
			continue;
		kapi_domain_detach_group(fresh->raw(), grp.raw());
		if (!kapi_domain_attach_group(d.raw(), grp.raw())) {
			d.groups++;
			grp.domain = &d;
			iovas_ = move(next);
			return 0; /* fresh is freed unused */
		}
		ret = kapi_domain_attach_group(fresh->raw(), grp.raw());
		if (ret)
			return ret;
	}

	const bool was_empty = domains_.empty();
	domains_.push_back(*fresh);
	ret = replay(*fresh, was_empty);
	if (ret) {
		domains_.remove(*fresh);
		kapi_domain_detach_group(fresh->raw(), grp.raw());
		return ret;
	}
	Domain *nd = fresh.release();
	nd->groups = 1;
	grp.domain = nd;
	iovas_ = move(next);
	update_pgsize_bitmap();
	return 0;
}

int Container::attach_group(kapi_group *g, int type) noexcept
{
	if (type != VFIO_CXX_GROUP_IOMMU && type != VFIO_CXX_GROUP_EMULATED)
		return -err::INVAL;

	Guard devices(devices_lock_);
	Guard guard(lock_);
	if (find_group(g))
		return -err::BUSY;

	Owned<Group> grp(make<Group>(g, type == VFIO_CXX_GROUP_EMULATED));
	if (!grp)
		return -err::NOMEM;
	if (grp->emulated()) {
		emulated_groups_++;
	} else {
		int ret = attach_iommu(*grp);
		if (ret)
			return ret;
		iommu_groups_++;
	}
	groups_.push_back(*grp.release());
	g_stats.groups_attached.inc();
	return 0;
}

void Container::detach(Group &grp) noexcept
{
	if (Domain *d = grp.domain) {
		kapi_domain_detach_group(d->raw(), grp.raw());
		if (--d->groups == 0) {
			if (domains_.size() == 1) {
				/*
				 * The last IOMMU domain goes.  Without emulated groups
				 * the mappings go with it (as type1); with them, the
				 * mappings stay, unpinned and unaccounted.
				 */
				for_each_dma(0, U64_MAX, [this](Dma &dma) {
					if (emulated_groups_ == 0)
						remove_dma(dma);
					else
						unmap_unpin(dma);
					return true;
				});
			}
			domains_.remove(*d);
			delete d;
		}
		iommu_groups_--;
	} else if (--emulated_groups_ == 0) {
		/*
		 * The last external group takes every external pin with it,
		 * whatever its count (R9, B20).  With no IOMMU group left either,
		 * the mappings go too (as type1).
		 */
		for_each_dma(0, U64_MAX, [this](Dma &dma) {
			if (domains_.empty())
				remove_dma(dma);
			else
				give_back(dma, ext_release_all(dma));
			return true;
		});
	}
	groups_.remove(grp);
	delete &grp;
	g_stats.groups_attached.dec();

	/* The list can only grow back; on ENOMEM keep the narrower old one. */
	IovaList next;
	if (!compute_iovas(next, nullptr, nullptr))
		iovas_ = move(next);
	update_pgsize_bitmap();
}

void Container::detach_group(kapi_group *g) noexcept
{
	Guard devices(devices_lock_);
	Guard guard(lock_);
	Group *grp = find_group(g);
	if (!grp) {
		VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: detach of unknown group %d ignored\n",
				   kapi_group_id(g));
		return;
	}
	detach(*grp);
}

/* ---- pinning and mapping --------------------------------------------- */

Dma *Container::find_dma(u64 first, u64 last) noexcept
{
	lock_.assert_held(); /* the range map has no lock of its own */
	return static_cast<Dma *>(kapi_rangemap_find(dmas_, first, last));
}

/*
 * Map d's pinned runs into one domain, KAPI_MAP_SEGS_MAX runs per call (one
 * IOTLB sync each, instead of one per run); on failure unmap what was
 * mapped.
 */
int Container::map_runs(Dma &d, kapi_domain *dom) noexcept
{
	u64 pfns[KAPI_MAP_SEGS_MAX], npages[KAPI_MAP_SEGS_MAX];
	unsigned int n = 0;
	u64 first = 0, next = 0; /* the batch's first page, and the page after it */
	u64 mapped = 0;		 /* bytes of d mapped so far */
	int ret = 0;
	auto flush = [&]() {
		if (!n || ret)
			return;
		ret = kapi_domain_map_segs(dom, d.iova + (first << abi::PAGE_SHIFT), pfns, npages, n,
					   d.prot);
		if (!ret)
			mapped = next << abi::PAGE_SHIFT;
		n = 0;
		kapi_cond_resched();
	};
	d.runs.for_each([&](u64 off, const PinRun &r) {
		if (n && off != next)
			flush(); /* runs are IOVA-consecutive; never batch across a gap */
		if (ret)
			return;
		if (!n)
			first = off;
		pfns[n] = r.pfn;
		npages[n] = r.npages;
		n++;
		next = off + r.npages;
		if (n == KAPI_MAP_SEGS_MAX)
			flush();
	});
	flush();
	if (ret && mapped)
		kapi_domain_unmap(dom, d.iova, mapped);
	return ret;
}

/*
 * Charge, pin and map the whole of d into every domain (behaviour 2).  The
 * charge is one locked_vm update for the whole range, made before pinning
 * so that a request over RLIMIT_MEMLOCK fails before it pins anything
 * (behaviour 4); reserved pages found while pinning are given back in a
 * second update (behaviour 6).  On failure everything is undone
 * (behaviour 7).
 */
/* Map d's runs into every domain; on failure nothing stays mapped. */
int Container::map_all(Dma &d) noexcept
{
	size_t mapped_domains = 0;
	int ret = 0;
	for (Domain &dom : domains_) {
		ret = map_runs(d, dom.raw());
		if (ret)
			break;
		mapped_domains++;
	}
	if (ret)
		for (Domain &dom : domains_) {
			if (!mapped_domains--)
				break;
			kapi_domain_unmap(dom.raw(), d.iova, d.size);
		}
	return ret;
}

int Container::pin_map(Dma &d) noexcept
{
	const u64 npages = d.size >> abi::PAGE_SHIFT;
	if (Prereg *p = d.prereg) {
		/* B39: the region's pages, already pinned and charged. */
		int ret = d.runs.append_range(p->runs, (d.vaddr - p->vaddr) >> abi::PAGE_SHIFT, npages)
				  ? map_all(d)
				  : -err::NOMEM;
		if (ret) {
			d.runs.free();
			return ret;
		}
		d.iommu_mapped = true;
		ext_adopt(d);
		return 0;
	}
	/*
	 * Pages that mdev drivers pinned are charged already: charge only the
	 * rest, in one update (B24, B25, R6).
	 */
	const u64 prev = d.locked;
	int ret = kapi_mm_charge(d.mm(), npages - prev, d.lock_cap, d.limit);
	if (ret == -err::NOMEM)
		Registry::memlock_denied(*this, npages - prev, d.limit);
	if (ret)
		return ret;
	d.locked = npages;

	ret = pin_user_range(d.mm(), d.vaddr, npages, (d.prot & KAPI_IOMMU_WRITE) != 0, d.runs);
	if (!ret)
		ret = map_all(d);
	if (!ret) {
		d.iommu_mapped = true;
		g_stats.pages_pinned.add(d.runs.pinned_pages());
		ext_adopt(d);
		if (const u64 rsvd = d.runs.reserved_pages()) {
			kapi_mm_uncharge(d.mm(), rsvd);
			d.locked -= rsvd;
		}
		return 0;
	}

	unpin_runs(d.runs, false);
	kapi_mm_uncharge(d.mm(), npages - prev);
	d.locked = prev;
	return ret;
}

/* Bring d's locked_vm charge to target pages, in one update (R6, R7). */
void Container::settle(Dma &d, u64 target) noexcept
{
	if (target < d.locked) {
		kapi_mm_uncharge(d.mm(), d.locked - target);
	} else if (target > d.locked) {
		/*
		 * Only records that kept their own pin of a page the user replaced
		 * (ext_adopt): pinned already, so charged without a limit check.
		 */
		if (kapi_mm_charge(d.mm(), target - d.locked, 1, 0))
			return; /* the mm is gone, and its locked_vm with it */
	}
	d.locked = target;
}

/*
 * Unmap d from every domain (gathered IOTLB invalidation, one sync per
 * domain before any page is released) and unpin its pages (behaviour 8).
 * Pages that external records borrow keep their pin, which passes to the
 * record; what stays charged is exactly those records' pages, reached in
 * one update that never dips below them (B26).  The Dma itself stays.
 */
void Container::unmap_unpin(Dma &d) noexcept
{
	if (d.iommu_mapped)
		for (Domain &dom : domains_)
			kapi_domain_unmap(dom.raw(), d.iova, d.size);
	if (d.prereg) {
		/* The region keeps the pins, and records keep borrowing them. */
		d.runs.free();
		d.iommu_mapped = false;
		return;
	}
	const int dirty = (d.prot & KAPI_IOMMU_WRITE) != 0;
	d.runs.for_each([&](u64 off, const PinRun &r) {
		if (r.reserved())
			return;
		const u64 end = off + r.npages;
		u64 from = off;
		for (unsigned long idx = off; d.ext_pages && idx < end; idx++) {
			ExtPin e(kapi_xmap_find(d.ext, &idx, end - 1));
			if (!e.present())
				break;
			if (e.own() || e.reserved())
				continue;
			if (idx > from)
				kapi_unpin_pages(r.pfn + (from - off), idx - from, dirty);
			kapi_xmap_store(d.ext, idx, e.with_own(true).raw());
			d.ext_owned++;
			from = idx + 1;
		}
		if (end > from)
			kapi_unpin_pages(r.pfn + (from - off), end - from, dirty);
		kapi_cond_resched();
	});
	g_stats.pages_pinned.sub(d.runs.pinned_pages());
	d.runs.free();
	d.iommu_mapped = false;
	settle(d, d.ext_owned);
}

/*
 * B10, R4: every vendor driver drops its pins in d before d goes.  lock_ is
 * dropped for them (their unpin_pages takes it); d cannot go meanwhile,
 * since deleting a Dma needs devices_lock_ (held), and takes no new pins.
 */
void Container::notify_unmap(Dma &d) noexcept
{
	devices_lock_.assert_held();
	if (!d.ext_pages || !ndevices_)
		return;
	d.unmapping = true;
	Unlock unlocked(lock_);
	kapi_devlist_notify_unmap(devices_, d.iova, d.size);
}

void Container::notify_remove(Dma &d) noexcept
{
	notify_unmap(d);
	remove_dma(d);
}

void Container::remove_dma(Dma &d) noexcept
{
	if (d.ext_pages) {
		/*
		 * No pin survives its mapping (B11).  After an unmap notification
		 * this is a vendor driver that ignored dma_unmap: it loses them.
		 */
		if (d.unmapping)
			VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: %llu pages of iova 0x%llx still pinned after dma_unmap; released\n",
					   d.ext_pages, d.iova);
		ext_release_all(d); /* their charge goes in unmap_unpin's one update */
	}
	unmap_unpin(d);
	if (d.prereg)
		d.prereg->used--;
	kapi_rangemap_erase(dmas_, d.iova);
	if (d.vaddr_invalid)
		vaddr_invalid_count_--;
	dma_avail_++;
	g_stats.dmas_live.dec();
	delete &d;
}

/* UPDATE_VADDR from another process: move the charge to its mm. */
int Container::change_owner(Dma &d) noexcept
{
	if (kapi_mm_is_current(d.mm()))
		return 0;
	kapi_mm *mm = kapi_mm_grab_current();
	if (!mm)
		return -err::SRCH;
	const bool cap = kapi_capable_ipc_lock();
	int ret = kapi_mm_charge(mm, d.locked, cap, kapi_rlimit_memlock_pages());
	if (!ret) {
		kapi_mm_uncharge(d.mm(), d.locked);
		d.set_mm(mm, cap);
		d.limit = kapi_rlimit_memlock_pages();
	}
	kapi_mm_drop(mm);
	return ret;
}

int Container::do_map(const abi::DmaMap &map) noexcept
{
	const bool set_vaddr = map.flags & abi::DMA_MAP_FLAG_VADDR;
	int prot = 0;
	if (map.flags & abi::DMA_MAP_FLAG_WRITE)
		prot |= KAPI_IOMMU_WRITE;
	if (map.flags & abi::DMA_MAP_FLAG_READ)
		prot |= KAPI_IOMMU_READ;
	if ((prot && set_vaddr) || (!prot && !set_vaddr))
		return -err::INVAL;

	const u64 iova = map.iova, size = map.size, vaddr = map.vaddr;
	Guard guard(lock_);
	const u64 pgsize = min_pgsize();
	if (!size || ((size | iova | vaddr) & (pgsize - 1)))
		return -err::INVAL;
	/* No IOVA or virtual address wrap (behaviour 1). */
	if (iova + size - 1 < iova || vaddr + size - 1 < vaddr)
		return -err::INVAL;

	Dma *d = find_dma(iova, iova + size - 1);
	if (set_vaddr) {
		if (!d)
			return -err::NOENT;
		if (!d->vaddr_invalid || d->iova != iova || d->size != size)
			return -err::INVAL;
		int ret = change_owner(*d);
		if (ret)
			return ret;
		d->vaddr = vaddr;
		d->vaddr_invalid = false;
		vaddr_invalid_count_--;
		return 0;
	}
	if (d)
		return -err::EXIST;
	if (!dma_avail_)
		return -err::NOSPC;
	if (!iovas_.allows(iova, iova + size - 1))
		return -err::INVAL;

	kapi_mm *mm = kapi_mm_grab_current();
	if (!mm)
		return -err::SRCH;
	Owned<Dma> nd(make<Dma>(iova, size, vaddr, prot, mm, kapi_capable_ipc_lock() != 0));
	if (!nd) {
		kapi_mm_drop(mm);
		return -err::NOMEM;
	}
	nd->limit = kapi_rlimit_memlock_pages();
	if (Prereg *p = find_prereg(mm, vaddr, size)) {
		nd->prereg = p;
		p->used++;
	}
	int ret = kapi_rangemap_insert(dmas_, &nd->range_node, iova, iova + size - 1, nd.get());
	if (ret)
		return ret;
	dma_avail_--;
	g_stats.dmas_live.inc();
	Dma &dma = *nd.release();

	ret = watch_mm(dma.mm());
	if (!ret && !domains_.empty())
		ret = pin_map(dma);
	if (!ret && dirty_tracking_)
		ret = dma.alloc_bitmap(ctz(pgsize));
	if (ret)
		remove_dma(dma);
	return ret;
}

long Container::map_dma(unsigned long arg) noexcept
{
	abi::DmaMap map;
	if (kapi_copy_from_user(&map, arg, abi::DMA_MAP_MINSZ))
		return -err::FAULT;
	constexpr u32 mask = abi::DMA_MAP_FLAG_READ | abi::DMA_MAP_FLAG_WRITE | abi::DMA_MAP_FLAG_VADDR;
	if (map.argsz < abi::DMA_MAP_MINSZ || (map.flags & ~mask))
		return -err::INVAL;
	return do_map(map);
}

/* ---- unmap ------------------------------------------------------------ */

int Container::do_unmap(abi::DmaUnmap &unmap, const abi::Bitmap *bitmap) noexcept
{
	const bool unmap_all = unmap.flags & abi::DMA_UNMAP_FLAG_ALL;
	const bool invalidate_vaddr = unmap.flags & abi::DMA_UNMAP_FLAG_VADDR;
	const bool get_dirty = unmap.flags & abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	u64 iova = unmap.iova, size = unmap.size, unmapped = 0;
	int ret = -err::INVAL;

	Guard devices(devices_lock_);
	Guard guard(lock_);
	unmap.size = 0;
	/* Emulated devices cannot pin safely while vaddrs change. */
	if (invalidate_vaddr && emulated_groups_)
		return -err::BUSY;
	const u64 pgsize = min_pgsize();
	if (iova & (pgsize - 1))
		return ret;
	if (unmap_all) {
		if (iova || size)
			return ret;
		size = U64_MAX;
	} else if (!size || (size & (pgsize - 1)) || iova + size - 1 < iova) {
		return ret;
	}
	/* With dirty tracking on, only the smallest page size. */
	if (get_dirty && (!dirty_tracking_ || bitmap->pgsize != pgsize))
		return ret;

	const u64 last = unmap_all ? U64_MAX : iova + size - 1;
	/*
	 * v2: the range must not bisect a mapping.  v1 (VFIO_TYPE1_IOMMU):
	 * a request starting inside a mapping unmaps nothing, one covering a
	 * mapping's first IOVA unmaps all of it.
	 */
	if (v2_ && !unmap_all) {
		Dma *d = find_dma(iova, iova);
		if (d && d->iova != iova)
			return ret;
		d = find_dma(last, last);
		if (d && d->last() != last)
			return ret;
	}

	ret = 0;
	u64 first_invalidated = U64_MAX;
	for_each_dma(iova, last, [&](Dma &d) {
		if (!v2_ && iova > d.iova)
			return false;
		if (invalidate_vaddr) {
			if (d.vaddr_invalid) {
				/* Already invalid: roll back this request's changes. */
				if (first_invalidated != U64_MAX)
					for_each_dma(first_invalidated, d.iova - 1, [this](Dma &r) {
						r.vaddr_invalid = false;
						vaddr_invalid_count_--;
						return true;
					});
				ret = -err::INVAL;
				unmapped = 0;
				return false;
			}
			if (first_invalidated == U64_MAX)
				first_invalidated = d.iova;
			d.vaddr_invalid = true;
			vaddr_invalid_count_++;
			unmapped += d.size;
			return true;
		}
		notify_unmap(d);
		if (get_dirty) {
			/*
			 * notify_unmap() ran without the container lock: a
			 * DIRTY_PAGES STOP may have ended tracking and freed
			 * the bitmaps meanwhile (found by fuzz_test as a NULL
			 * dereference).  The request was made while tracking
			 * was on, so the unmap goes ahead and reports every
			 * page of d dirty, which is what the device may have
			 * written; ENOMEM leaves d mapped.
			 */
			if (!d.bitmap) {
				ret = d.alloc_bitmap(ctz(pgsize));
				if (!ret)
					set_bits(d.bitmap, d.size >> ctz(pgsize));
			}
			if (!ret)
				ret = report_dirty(bitmap->data, d, iova, ctz(pgsize));
			if (ret) {
				/* d stays: settle what its vendor drivers unpinned. */
				d.unmapping = false;
				if (!d.iommu_mapped)
					settle(d, d.ext_owned);
				return false;
			}
		}
		unmapped += d.size;
		remove_dma(d);
		return true;
	});
	unmap.size = unmapped;
	return ret;
}

long Container::unmap_dma(unsigned long arg) noexcept
{
	abi::DmaUnmap unmap;
	abi::Bitmap bitmap{};
	if (kapi_copy_from_user(&unmap, arg, abi::DMA_UNMAP_MINSZ))
		return -err::FAULT;
	constexpr u32 mask = abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | abi::DMA_UNMAP_FLAG_VADDR |
			     abi::DMA_UNMAP_FLAG_ALL;
	if (unmap.argsz < abi::DMA_UNMAP_MINSZ || (unmap.flags & ~mask))
		return -err::INVAL;
	if ((unmap.flags & abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (unmap.flags & (abi::DMA_UNMAP_FLAG_ALL | abi::DMA_UNMAP_FLAG_VADDR)))
		return -err::INVAL;
	if (unmap.flags & abi::DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap.argsz < abi::DMA_UNMAP_MINSZ + sizeof(bitmap))
			return -err::INVAL;
		if (kapi_copy_from_user(&bitmap, arg + abi::DMA_UNMAP_MINSZ, sizeof(bitmap)))
			return -err::FAULT;
		if (!kapi_access_ok(bitmap.data, bitmap.size))
			return -err::INVAL;
		if (!bitmap.pgsize)
			return -err::INVAL;
		int ret = verify_bitmap_size(unmap.size >> ctz(bitmap.pgsize), bitmap.size);
		if (ret)
			return ret;
	}
	int ret = do_unmap(unmap, &bitmap);
	if (ret)
		return ret;
	return kapi_copy_to_user(arg, &unmap, abi::DMA_UNMAP_MINSZ) ? -err::FAULT : 0;
}

/* ---- dirty tracking ---------------------------------------------------- */

/*
 * Write d's dirty bits into the user bitmap that starts at base_iova, as
 * type1's update_user_bitmap() does (OR-ing into the first word, whole
 * words after it).  Every page of an IOMMU-mapped Dma is dirty while an
 * IOMMU group is attached: the device may have written anywhere.
 */
int Container::report_dirty(u64 ubitmap, Dma &d, u64 base_iova, u64 pgshift) noexcept
{
	const u64 nbits = d.size >> pgshift;
	const u64 bit_offset = (d.iova - base_iova) >> pgshift;
	const u64 copy_offset = bit_offset / 64;
	const unsigned int shift = bit_offset % 64;

	if (iommu_groups_ && d.iommu_mapped)
		set_bits(d.bitmap, nbits);
	if (shift) {
		u64 leftover;
		shift_left(d.bitmap, nbits, shift);
		if (kapi_copy_from_user(&leftover, ubitmap + copy_offset * 8, sizeof(leftover)))
			return -err::FAULT;
		d.bitmap[0] |= leftover;
	}
	if (kapi_copy_to_user(ubitmap + copy_offset * 8, d.bitmap,
			      abi::dirty_bitmap_bytes(nbits + shift)))
		return -err::FAULT;
	return 0;
}

int Container::iova_dirty_bitmap(u64 ubitmap, u64 iova, u64 size, u64 pgshift) noexcept
{
	const u64 last = iova + size - 1;
	/* The range must not bisect a mapping. */
	Dma *d = find_dma(iova, iova);
	if (d && d->iova != iova)
		return -err::INVAL;
	d = find_dma(last, last);
	if (d && d->last() != last)
		return -err::INVAL;

	int ret = 0;
	for_each_dma(iova, last, [&](Dma &dma) {
		ret = report_dirty(ubitmap, dma, iova, pgshift);
		if (ret)
			return false;
		/* Re-arm: only pages pinned by emulated devices stay dirty. */
		const u64 words = abi::dirty_bitmap_bytes(dma.size >> pgshift) / 8 + 1;
		for (u64 w = 0; w < words; w++)
			dma.bitmap[w] = 0;
		mark_ext_dirty(dma);
		return true;
	});
	return ret;
}

void Container::free_bitmaps() noexcept
{
	for_each_dma(0, U64_MAX, [](Dma &d) {
		d.free_bitmap();
		return true;
	});
}

long Container::dirty_pages(unsigned long arg) noexcept
{
	if (!v2_)
		return -err::ACCES; /* as type1 for v1 containers */
	abi::DirtyBitmap dirty;
	if (kapi_copy_from_user(&dirty, arg, abi::DIRTY_MINSZ))
		return -err::FAULT;
	constexpr u32 mask = abi::DIRTY_PAGES_FLAG_START | abi::DIRTY_PAGES_FLAG_STOP |
			     abi::DIRTY_PAGES_FLAG_GET_BITMAP;
	if (dirty.argsz < abi::DIRTY_MINSZ || (dirty.flags & ~mask))
		return -err::INVAL;
	/* Exactly one flag. */
	if (!dirty.flags || (dirty.flags & (dirty.flags - 1)))
		return -err::INVAL;

	if (dirty.flags & abi::DIRTY_PAGES_FLAG_START) {
		Guard g(lock_);
		if (dirty_tracking_)
			return 0;
		const u64 pgshift = ctz(min_pgsize());
		int ret = 0;
		for_each_dma(0, U64_MAX, [&](Dma &d) {
			ret = d.alloc_bitmap(pgshift);
			return ret == 0;
		});
		if (ret) {
			free_bitmaps();
			return ret;
		}
		dirty_tracking_ = true;
		for_each_dma(0, U64_MAX, [this](Dma &d) {
			mark_ext_dirty(d);
			return true;
		});
		return 0;
	}
	if (dirty.flags & abi::DIRTY_PAGES_FLAG_STOP) {
		Guard g(lock_);
		if (dirty_tracking_) {
			dirty_tracking_ = false;
			free_bitmaps();
		}
		return 0;
	}

	/* GET_BITMAP */
	abi::DirtyBitmapGet range;
	const u64 data_size = dirty.argsz - abi::DIRTY_MINSZ;
	if (data_size < sizeof(range))
		return -err::INVAL;
	if (kapi_copy_from_user(&range, arg + abi::DIRTY_MINSZ, sizeof(range)))
		return -err::FAULT;
	if (range.iova + range.size < range.iova)
		return -err::INVAL;
	if (!kapi_access_ok(range.bitmap.data, range.bitmap.size))
		return -err::INVAL;
	if (!range.bitmap.pgsize)
		return -err::INVAL;
	int ret = verify_bitmap_size(range.size >> ctz(range.bitmap.pgsize), range.bitmap.size);
	if (ret)
		return ret;

	Guard g(lock_);
	const u64 pgsize = min_pgsize();
	if (range.bitmap.pgsize != pgsize)
		return -err::INVAL;
	if (range.iova & (pgsize - 1))
		return -err::INVAL;
	if (!range.size || (range.size & (pgsize - 1)))
		return -err::INVAL;
	if (!dirty_tracking_)
		return -err::INVAL;
	return iova_dirty_bitmap(range.bitmap.data, range.iova, range.size, ctz(pgsize));
}

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
		info.iova_pgsizes = pgsize_bitmap_;

		auto *mig = static_cast<abi::CapMigration *>(
			caps.add(sizeof(abi::CapMigration), abi::CAP_MIGRATION, 1));
		if (!mig)
			return -err::NOMEM;
		mig->flags = 0;
		mig->pgsize_bitmap = min_pgsize();
		mig->max_dirty_bitmap_size = abi::DIRTY_BITMAP_SIZE_MAX;

		auto *avail = static_cast<abi::CapDmaAvail *>(
			caps.add(sizeof(abi::CapDmaAvail), abi::CAP_DMA_AVAIL, 1));
		if (!avail)
			return -err::NOMEM;
		avail->avail = dma_avail_;

		if (cxx_) {
			auto *pc = static_cast<abi::CapPrereg *>(
				caps.add(sizeof(abi::CapPrereg), abi::CAP_CXX_PREREG, 1));
			if (!pc)
				return -err::NOMEM;
			pc->flags = 0;
			pc->nr_regions = static_cast<u32>(preregs_.size());
			for (Prereg &p : preregs_)
				pc->pinned_bytes += p.size;
		}

		/* An emulated-only container has no IOVA list: no capability. */
		if (!iovas_.empty()) {
			const u64 sz = sizeof(abi::CapIovaRange) + iovas_.size() * sizeof(abi::IovaRange);
			auto *cap = static_cast<abi::CapIovaRange *>(
				caps.add(sz, abi::CAP_IOVA_RANGE, 1));
			if (!cap)
				return -err::NOMEM;
			cap->nr_iovas = static_cast<u32>(iovas_.size());
			auto *ranges = reinterpret_cast<abi::IovaRange *>(cap + 1);
			for (size_t i = 0; i < iovas_.size(); i++)
				ranges[i] = iovas_[i];
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

/* ---- introspection ------------------------------------------------------ */

size_t Container::group_count() noexcept
{
	Guard guard(lock_);
	return groups_.size();
}

size_t Container::domain_count() noexcept
{
	Guard guard(lock_);
	return domains_.size();
}

size_t Container::dma_count() noexcept
{
	Guard guard(lock_);
	size_t n = 0;
	for_each_dma(0, U64_MAX, [&n](Dma &) {
		n++;
		return true;
	});
	return n;
}

u64 Container::pages_pinned() noexcept
{
	Guard guard(lock_);
	u64 n = 0;
	for_each_dma(0, U64_MAX, [&n](Dma &d) {
		n += d.runs.pinned_pages();
		return true;
	});
	return n;
}

} /* namespace vfio_cxx */
