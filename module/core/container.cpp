// SPDX-License-Identifier: GPL-2.0
/*
 * Container: groups, domains and the Type1v2 ioctls.  Each user-visible
 * check follows vfio_iommu_type1 in order and errno, so that unmodified
 * Type1 clients see the same answers; Documentation/design.rst lists the
 * places where we deliberately differ.
 */
#include "container.h"
#include "accounting.h"
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

Container::Container(bool v2, bool cxx, bool nesting) noexcept
	: devices_lock_(KAPI_LOCK_DEVICES), devices_(kapi_devlist_create()),
	  lock_(KAPI_LOCK_CONTAINER), dmas_(kapi_rangemap_create()),
	  dma_avail_(kapi_param_dma_entry_limit()), v2_(v2), nesting_(nesting), cxx_(cxx),
	  exit_policy_(kapi_param_exit_policy() == abi::EXIT_RELEASE ? abi::EXIT_RELEASE
								    : abi::EXIT_KEEP)
{
	g_stats.containers_live.inc();
	g_stats.containers_opened.inc();
}

Container::~Container()
{
	/* A container that create() never handed out was never closed. */
	if (!closed_)
		close();
	if (!watches_.empty()) {
		VFIO_CXX_INTERNAL_ERROR("vfio_iommu_cxx: mm watch left at container free");
		destroy_watches(true);
	}
	if (prereg_mm_)
		kapi_mm_drop(prereg_mm_);
	if (dmas_)
		kapi_rangemap_destroy(dmas_);
	if (devices_)
		kapi_devlist_destroy(devices_);
	g_stats.containers_live.dec();
}

void Container::put() noexcept
{
	if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0)
		delete this;
}

void Container::close() noexcept
{
	Registry::remove(*this); /* no new reference from a lookup */
	/*
	 * Stop watching owner mms first, holding no lock: a running exit
	 * handler finishes before its watch is gone, one that the unregister
	 * itself runs stands down (closing_), and none runs later (B44).
	 */
	if (lock_.valid())
		destroy_watches(true);
	if (lock_.valid() && devices_lock_.valid()) {
		Guard devices(devices_lock_);
		Guard g(lock_);
		teardown();
	}
	__atomic_store_n(&closed_, true, __ATOMIC_RELEASE);
}

/*
 * Take the watches to destroy off the list under lock_ (all of them at
 * close, else those whose mm has exited), then destroy them with no lock
 * held: kapi_mm_watch_destroy() waits for a running exit handler, which
 * takes lock_.
 */
void Container::destroy_watches(bool all) noexcept
{
	List<MmWatch, &MmWatch::node> dead;
	{
		Guard g(lock_);
		if (all)
			closing_ = true;
		for (MmWatch &mw : watches_) /* the iterator has the next node already */
			if (all || mw.released) {
				watches_.remove(mw);
				dead.push_back(mw);
			}
	}
	while (MmWatch *mw = dead.front()) {
		dead.remove(*mw);
		kapi_mm_watch_destroy(mw->w);
		delete mw;
	}
}

/*
 * Free the watches of exited mms (each holds an mm_struct), so that a
 * long-lived container shared by many short-lived processes does not
 * collect them until close (issue 11 item 9).  Called with no lock held.
 */
void Container::reap_watches() noexcept
{
	if (__atomic_exchange_n(&reap_pending_, false, __ATOMIC_ACQ_REL))
		destroy_watches(false);
}

void Container::teardown() noexcept
{
	/*
	 * The VFIO core detaches every group before it releases the container;
	 * anything left here is a core bug, but must still not leak.
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
	__atomic_store_n(&closed_, true, __ATOMIC_RELEASE);
}

void Container::add_locked(Dma &d, u64 n) noexcept
{
	d.locked += n;
	sum_.locked_pages.add(n);
}

void Container::sub_locked(Dma &d, u64 n) noexcept
{
	d.locked -= n;
	sum_.locked_pages.sub(n);
}

void Container::publish_groups() noexcept
{
	lock_.assert_held();
	u32 n = 0;
	for (Group &grp : groups_) {
		if (n == VFIO_CXX_INFO_GROUPS_MAX)
			break;
		__atomic_store_n(&sum_.group_ids[n++], kapi_group_id(grp.raw()), __ATOMIC_RELAXED);
	}
	__atomic_store_n(&sum_.ngroup_ids, n, __ATOMIC_RELEASE);
}

bool Container::serves_type(unsigned long type) noexcept
{
	switch (type) {
	case abi::CXX_IOMMU:
		return true;
	case abi::TYPE1_IOMMU:
	case abi::TYPE1v2_IOMMU:
	case abi::TYPE1_NESTING_IOMMU:
		return kapi_param_claim_type1() != 0;
	default:
		return false;
	}
}

Result<Container *> Container::create(unsigned long type) noexcept
{
	if (!serves_type(type))
		return Result<Container *>::error(-err::INVAL);
	Container *c = make<Container>(type != abi::TYPE1_IOMMU, type == abi::CXX_IOMMU,
				       type == abi::TYPE1_NESTING_IOMMU);
	if (!c)
		return Result<Container *>::error(-err::NOMEM);
	if (!c->lock_.valid() || !c->dmas_ || !c->devices_lock_.valid() || !c->devices_) {
		c->put();
		return Result<Container *>::error(-err::NOMEM);
	}
	Registry::add(*c, type);
	return Result<Container *>(c);
}

long Container::check_extension_global(unsigned long ext) noexcept
{
	switch (ext) {
	case abi::CXX_IOMMU:
	case abi::UNMAP_ALL:
		return 1;
	case abi::TYPE1_IOMMU:
	case abi::TYPE1v2_IOMMU:
	case abi::TYPE1_NESTING_IOMMU: /* type1 answers 1; the IOMMU driver decides at attach */
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
	case abi::TYPE1_NESTING_IOMMU:
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
	reap_watches();
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
	/* VFIO_TYPE1_NESTING_IOMMU: as type1, the IOMMU driver says whether it can. */
	if (nesting_) {
		ret = kapi_domain_enable_nesting(kd);
		if (ret)
			return ret;
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
	/* Disjoint apertures or reserved regions that leave nothing (as type1). */
	bool conflict = !ret && next.size() == 0;
	if (!ret && !conflict)
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
	sum_.domains.inc();
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
	if (closed_)
		return -err::NODEV;
	/* Attach may need to pin: not while a vaddr is invalid (as type1). */
	if (vaddr_invalid_count_)
		return -err::BUSY;
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
		non_pinned_groups_++;
	}
	groups_.push_back(*grp.release());
	g_stats.groups_attached.inc();
	sum_.groups.inc();
	publish_groups();
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
			sum_.domains.dec();
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
	/*
	 * The last group that could write anywhere leaves: from now on only
	 * pinned pages are reported, so what it may have written until now is
	 * reported in full once (type1's vfio_iommu_populate_bitmap_full).
	 */
	if (!grp.pinned_scope && --non_pinned_groups_ == 0 && dirty_tracking_)
		for_each_dma(0, U64_MAX, [](Dma &d) {
			if (d.bitmap)
				set_bits(d.bitmap, d.size >> d.bitmap_shift);
			return true;
		});
	groups_.remove(grp);
	delete &grp;
	g_stats.groups_attached.dec();
	sum_.groups.dec();
	publish_groups();

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
	/* disable_hugepages (type1's parameter): one IOMMU page per page. */
	const u64 max_seg = kapi_param_disable_hugepages() ? 1 : ~u64(0);
	auto add = [&](u64 off, u64 pfn, u64 count) {
		if (n && off != next)
			flush(); /* runs are IOVA-consecutive; never batch across a gap */
		if (ret)
			return;
		if (!n)
			first = off;
		pfns[n] = pfn;
		npages[n] = count;
		n++;
		next = off + count;
		if (n == KAPI_MAP_SEGS_MAX)
			flush();
	};
	d.runs.for_each([&](u64 off, const PinRun &r) {
		for (u64 i = 0; i < r.npages && !ret; i += max_seg)
			add(off + i, r.pfn + i, r.npages - i < max_seg ? r.npages - i : max_seg);
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
	 * Pages that mdev drivers pinned are charged already: they are the
	 * charge's credit, so only the rest is charged (B24, B25, R6).  Pages
	 * are charged as they are pinned, reserved (MMIO) ones never (B6,
	 * issue 11 item 5: a BAR larger than RLIMIT_MEMLOCK maps, as in type1).
	 */
	LockedVmCharge charge(d.mm(), d.lock_cap, d.limit, d.locked);
	int ret = pin_user_range(d.mm(), d.vaddr, npages, (d.prot & KAPI_IOMMU_WRITE) != 0, d.runs,
				 &charge);
	if (ret == -err::NOMEM && charge.denied())
		Registry::memlock_denied(*this, charge.denied(), d.limit);
	if (!ret)
		ret = map_all(d);
	if (ret) {
		unpin_runs(d.runs, false);
		return ret; /* the charge gives itself back */
	}
	d.iommu_mapped = true;
	sum_.pages_pinned.add(d.runs.pinned_pages());
	add_locked(d, charge.commit());
	/*
	 * Credit left over: pages that records had charged and the mapping
	 * found reserved (the user replaced the memory under a live pin).  An
	 * IOMMU-mapped Dma charges exactly its pinned pages, so give it back.
	 */
	if (const u64 extra = charge.unused_credit()) {
		kapi_mm_uncharge(d.mm(), extra);
		sub_locked(d, extra);
	}
	ext_adopt(d);
	return 0;
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
	if (target > d.locked)
		add_locked(d, target - d.locked);
	else
		sub_locked(d, d.locked - target);
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
	sum_.pages_pinned.sub(d.runs.pinned_pages());
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
	sum_.mappings.dec();
	sum_.mapped_bytes.sub(d.size);
	delete &d;
}

/*
 * The owner side of MAP_DMA|VFIO_DMA_MAP_FLAG_VADDR (Documentation/uapi.rst,
 * "UPDATE_VADDR and ownership").  A mapping backed by a preregistered
 * region takes its pages from the region, which belongs to the container's
 * prereg owner mm: only that mm may give it a new vaddr, and only one inside
 * a registered region, whose use count the mapping then moves to (-EPERM,
 * -EINVAL: nothing changes).  Any other mapping moves to the calling
 * process: its charge moves to the caller's mm (as type1), and under the
 * RELEASE policy the caller's exit is watched from now on.
 */
int Container::change_owner(Dma &d, u64 vaddr) noexcept
{
	if (d.prereg) {
		if (!prereg_mm_ || !kapi_mm_is_current(prereg_mm_))
			return -err::PERM;
		Prereg *p = find_prereg(prereg_mm_, vaddr, d.size);
		if (!p)
			return -err::INVAL;
		d.prereg->used--;
		p->used++;
		d.prereg = p;
		return 0;
	}
	if (kapi_mm_is_current(d.mm()))
		return 0;
	kapi_mm *mm = kapi_mm_grab_current();
	if (!mm)
		return -err::SRCH;
	const bool cap = kapi_capable_ipc_lock();
	const u64 limit = kapi_rlimit_memlock_pages();
	LockedVmCharge charge(mm, cap, limit);
	int ret = charge.charge(d.locked);
	if (!ret)
		ret = watch_mm(mm);
	if (!ret) {
		charge.commit();
		kapi_mm_uncharge(d.mm(), d.locked);
		d.set_mm(mm, cap);
		d.limit = limit;
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
		int ret = change_owner(*d, vaddr);
		if (ret)
			return ret;
		d->vaddr = vaddr;
		d->vaddr_invalid = false;
		vaddr_invalid_count_--;
		return 0;
	}
	if (d)
		return -err::EXIST;
	if (closed_)
		return -err::NODEV;
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
	int ret = kapi_rangemap_insert(dmas_, &nd->range_node, iova, iova + size - 1, nd.get());
	if (ret)
		return ret;
	/* Counted once it is in the map: remove_dma() gives the count back. */
	if (Prereg *p = find_prereg(mm, vaddr, size)) {
		nd->prereg = p;
		p->used++;
	}
	dma_avail_--;
	g_stats.dmas_live.inc();
	sum_.mappings.inc();
	sum_.mapped_bytes.add(size);
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
			 * page of d dirty (report_dirty makes a missing bitmap
			 * all dirty), which is what the device may have
			 * written; ENOMEM leaves d mapped.
			 */
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
	/* Issue 11 item 9: never read a bitmap with another page size than its own. */
	if (int ret = d.fit_bitmap(pgshift))
		return ret;
	const u64 nbits = d.size >> pgshift;
	const u64 bit_offset = (d.iova - base_iova) >> pgshift;
	const u64 copy_offset = bit_offset / 64;
	const unsigned int shift = bit_offset % 64;

	/* Every page, unless each group writes only through pinned pages (as type1). */
	if (non_pinned_groups_ && d.iommu_mapped)
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
		if (iovas_.restricted()) {
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

/* ---- what netlink shows ---------------------------------------------------- */

void Container::summary(vfio_cxx_container_info &out) noexcept
{
	out = vfio_cxx_container_info{};
	out.id = id;
	out.mm_id = owner_mm_id;
	out.tgid = owner_tgid;
	out.uid = owner_uid;
	out.type = iommu_type;
	out.groups = static_cast<unsigned int>(sum_.groups.read());
	out.domains = static_cast<unsigned int>(sum_.domains.read());
	const u32 n = __atomic_load_n(&sum_.ngroup_ids, __ATOMIC_ACQUIRE);
	for (u32 i = 0; i < n && i < VFIO_CXX_INFO_GROUPS_MAX; i++)
		out.group_ids[i] = __atomic_load_n(&sum_.group_ids[i], __ATOMIC_RELAXED);
	out.ngroup_ids = n;
	out.mappings = sum_.mappings.read();
	out.mapped_bytes = sum_.mapped_bytes.read();
	out.pages_pinned = sum_.pages_pinned.read();
	out.external_pages = sum_.external_pages.read();
	out.prereg_pages = sum_.prereg_pages.read();
	out.locked_pages = sum_.locked_pages.read();
	/*
	 * Orphans change when an mm exits, which this container does not see
	 * (KEEP policy): count them when lock_ is free, else report the last
	 * count.  Never wait: the holder may be a MAP_DMA of many GiB.
	 */
	MaybeGuard g(lock_, MaybeGuard::TRY);
	if (g.held() && !closed_) {
		const u64 orphans = orphaned_dmas_locked();
		sum_.orphaned.sub(sum_.orphaned.read());
		sum_.orphaned.add(orphans);
	}
	out.orphaned_mappings = sum_.orphaned.read();
}

namespace {
void fill_mapping(const Dma &d, vfio_cxx_mapping_info &out) noexcept
{
	out = vfio_cxx_mapping_info{};
	out.iova = d.iova;
	out.size = d.size;
	out.vaddr = d.vaddr;
	out.mm_id = kapi_mm_id(d.mm());
	out.pages_pinned = d.runs.pinned_pages();
	out.external_pages = d.ext_pages;
	out.locked_pages = d.locked;
	out.prot = static_cast<unsigned int>(d.prot);
	out.flags = (d.iommu_mapped ? VFIO_CXX_MAPPING_IOMMU_MAPPED : 0) |
		    (d.vaddr_invalid ? VFIO_CXX_MAPPING_VADDR_INVALID : 0);
}
} /* namespace */

int Container::mapping_from(u64 from, vfio_cxx_mapping_info &out) noexcept
{
	MaybeGuard g(lock_, MaybeGuard::KILLABLE);
	if (!g.held())
		return -err::INTR;
	if (closed_)
		return -err::NOENT;
	/* The lowest mapping intersecting [from, max] whose iova is >= from. */
	Dma *d = find_dma(from, U64_MAX);
	if (d && d->iova < from) {
		const u64 next = d->last() + 1;
		d = next ? find_dma(next, U64_MAX) : nullptr;
	}
	if (!d)
		return 1;
	fill_mapping(*d, out);
	return 0;
}

int Container::prereg_from(u64 from_vaddr, vfio_cxx_prereg_info &out) noexcept
{
	MaybeGuard g(lock_, MaybeGuard::KILLABLE);
	if (!g.held())
		return -err::INTR;
	if (closed_)
		return -err::NOENT;
	/* The list keeps registration order: the lowest vaddr >= from_vaddr. */
	Prereg *best = nullptr;
	for (Prereg &p : preregs_)
		if (p.vaddr >= from_vaddr && (!best || p.vaddr < best->vaddr))
			best = &p;
	if (!best)
		return 1;
	out = vfio_cxx_prereg_info{};
	out.vaddr = best->vaddr;
	out.size = best->size;
	out.mm_id = kapi_mm_id(prereg_mm_);
	out.users = best->used;
	return 0;
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
