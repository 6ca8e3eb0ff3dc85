// SPDX-License-Identifier: GPL-2.0
/*
 * Container: lifetime (refcount, close, the exit watches' list), the ioctl
 * dispatcher, CHECK_EXTENSION and the events that name the container.  The
 * ioctls' uAPI side lives in one file each by concept: attach.cpp (groups),
 * map.cpp, unmap.cpp, dirty.cpp, info.cpp, prereg.cpp, owner_exit.cpp;
 * external.cpp the mdev ops; observe.cpp what netlink reads.  The work
 * itself is the owning objects': Topology (domains.cpp), IoPagetable
 * (io_pagetable.cpp), PreregSet, ExitWatches, SpaprTce.
 * Each user-visible check follows vfio_iommu_type1 in order and errno;
 * Documentation/differences.rst lists where we deliberately differ.
 *
 * Locking: see container.h (devices_lock_ -> lock_; references).  close()
 * takes the locks itself; teardown() runs with both held.
 */
#include "container.h"
#include "bits.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>
#include "registry.h"

namespace vfio_cxx {

constinit Stats g_stats;

Container::Container(bool v2, bool cxx, bool nesting) noexcept
	: devices_lock_(KAPI_LOCK_DEVICES), devices_(devices_lock_, lock_),
	  lock_(KAPI_LOCK_CONTAINER), topo_(lock_), v2_(v2), nesting_(nesting), cxx_(cxx),
	  preregs_(lock_, sum_.prereg_pages),
	  iopt_(devices_lock_, lock_, devices_, topo_, preregs_, watches_, sum_, v2), watches_(kapi_param_exit_policy() == abi::EXIT_RELEASE ? abi::EXIT_RELEASE
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
	kapi_owner_put(owner);
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
	 * itself runs stands down (ExitWatches::closing), and none runs later (B44).
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
	MmWatchList dead;
	{
		Guard g(lock_);
		watches_.take(all, dead);
	}
	ExitWatches::destroy(dead);
}

/*
 * Free the watches of exited mms (each holds an mm_struct), so that a
 * long-lived container shared by many short-lived processes does not
 * collect them until close (issue 11 item 9).  Called with no lock held.
 */
void Container::reap_watches() noexcept
{
	if (watches_.reap_due())
		destroy_watches(false);
}

void Container::teardown() noexcept
{
	lock_.assert_held();
	devices_lock_.assert_held();
	/*
	 * The VFIO core detaches every group before it releases the container;
	 * anything left here is a core bug, but must still not leak.
	 */
	while (Group *grp = topo_.groups().front()) {
		VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: group %d still attached at release\n",
				   kapi_group_id(grp->raw()));
		detach(*grp);
	}
	iopt_.remove_all();
	if (spapr_) {
		SpaprEnv env = spapr_env();
		spapr_->release(env); /* the TCEs first: they count in the regions */
	}
	/* B37: every region at once, whoever else holds the mm. */
	while (Prereg *p = preregs_.front())
		preregs_.free(*p);
	__atomic_store_n(&closed_, true, __ATOMIC_RELEASE);
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
	case abi::SPAPR_TCE_v2_IOMMU:
		return kapi_param_spapr() != 0;
	default:
		return false; /* sPAPR v1 included: not offered */
	}
}

Result<Container *> Container::create(unsigned long type) noexcept
{
	if (!serves_type(type))
		return Result<Container *>::error(-err::INVAL);
	/* Without the kernel's nesting, type 6 is a plain v2 container (as type1's). */
	Container *c = make<Container>(type != abi::TYPE1_IOMMU, type == abi::CXX_IOMMU,
				       type == abi::TYPE1_NESTING_IOMMU && kapi_iommu_has_nesting());
	if (!c)
		return Result<Container *>::error(-err::NOMEM);
	if (type == abi::SPAPR_TCE_v2_IOMMU)
		c->spapr_ = Owned<SpaprTce>(make<SpaprTce>());
	if (!c->lock_.valid() || !c->iopt_.valid() || !c->devices_lock_.valid() || !c->devices_.valid() ||
	    (type == abi::SPAPR_TCE_v2_IOMMU && !c->spapr_)) {
		c->put();
		return Result<Container *>::error(-err::NOMEM);
	}
	Registry::add(*c, type);
	return Result<Container *>(c);
}

void Container::memlock_denied(const DeniedCharge &d) noexcept
{
	Registry::memlock_denied(*this, d.pages, d.limit);
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
	case abi::TYPE1_NESTING_IOMMU: /* type1 answers 1; the IOMMU driver decides at attach */
		return kapi_param_claim_type1() && kapi_iommu_has_nesting() ? 1 : 0;
	case abi::SPAPR_TCE_v2_IOMMU:
		return kapi_param_spapr() ? 1 : 0;
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
	case abi::TYPE1_NESTING_IOMMU:
		return kapi_iommu_has_nesting() ? 1 : 0;
	case abi::UPDATE_VADDR: {
		/* Emulated devices cannot pin safely while vaddrs change. */
		Guard g(lock_);
		return topo_.emulated_groups() == 0;
	}
	case abi::DMA_CC_IOMMU: {
		Guard g(lock_);
		return topo_.coherent() ? 1 : 0;
	}
	default:
		return 0;
	}
}

VFIO_CXX_INLINE_ONE_CALLER long Container::ioctl(unsigned int cmd, unsigned long arg) noexcept
{
	reap_watches();
	if (spapr_)
		return spapr_ioctl(cmd, arg);
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

long Container::spapr_ioctl(unsigned int cmd, unsigned long arg) noexcept
{
	if (cmd == abi::CHECK_EXTENSION)
		return arg == abi::SPAPR_TCE_v2_IOMMU ? 1 : 0; /* v1 and EEH are not offered */
	Guard guard(lock_);
	if (closed_)
		return -err::NODEV;
	/* One process's container cannot be driven by another (upstream's sanity check). */
	if (spapr_->foreign())
		return -err::PERM;
	SpaprEnv env = spapr_env();
	long ret;
	switch (cmd) {
	case abi::SPAPR_TCE_GET_INFO:
		return spapr_->get_info(env, arg);
	case abi::IOMMU_MAP_DMA:
		ret = spapr_->map(env, arg);
		break;
	case abi::IOMMU_UNMAP_DMA:
		ret = spapr_->unmap(env, arg);
		break;
	case abi::IOMMU_REGISTER_MEMORY:
		return spapr_register(arg, true);
	case abi::IOMMU_UNREGISTER_MEMORY:
		return spapr_register(arg, false);
	case abi::SPAPR_TCE_CREATE:
		ret = spapr_->create(env, arg);
		break;
	case abi::SPAPR_TCE_REMOVE:
		ret = spapr_->remove(env, arg);
		break;
	case abi::EEH_PE_OP:
		/* No group here has an EEH PE (eeh_iommu_group_to_pe() finds none). */
		return topo_.has_groups() ? -err::NODEV : 0;
	default:
		return -err::NOTTY; /* VFIO_IOMMU_ENABLE/DISABLE included (v2) */
	}
	/* A window's table charge refused (CREATE's, or the default window's on first use). */
	report_denied(env.denied);
	return ret;
}

} /* namespace vfio_cxx */
