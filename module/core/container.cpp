// SPDX-License-Identifier: GPL-2.0
#include "container.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>
#include <vfio_cxx/log.h>

namespace vfio_cxx {

constinit Stats g_stats;

Container::Container(bool v2) noexcept : lock_(KAPI_LOCK_CONTAINER), v2_(v2)
{
	g_stats.containers_live.inc();
	g_stats.containers_opened.inc();
}

Container::~Container()
{
	/*
	 * The VFIO core detaches every group before it releases the container;
	 * anything left here is a core bug, but must still not leak.
	 */
	if (lock_.valid()) {
		Guard g(lock_);
		for (Group &grp : groups_) {
			VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: group %d still attached at release\n",
					   kapi_group_id(grp.raw()));
			detach_locked(grp);
		}
	}
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
	Owned<Container> c(make<Container>(type != abi::TYPE1_IOMMU));
	if (!c || !c->lock_.valid())
		return Result<Owned<Container>>::error(-err::NOMEM);
	return Result<Owned<Container>>(move(c));
}

long Container::check_extension(const Container *c, unsigned long ext) noexcept
{
	(void)c;
	switch (ext) {
	case abi::CXX_IOMMU:
		return 1;
	case abi::TYPE1_IOMMU:
	case abi::TYPE1v2_IOMMU:
		return kapi_param_claim_type1() ? 1 : 0;
	default:
		/* Not (yet) implemented extensions answer 0, truthfully. */
		return 0;
	}
}

Group *Container::find_locked(kapi_group *g) noexcept
{
	lock_.assert_held();
	for (Group &grp : groups_)
		if (grp.raw() == g)
			return &grp;
	return nullptr;
}

/*
 * Give grp a domain: a new paging domain, or an existing compatible one of
 * this container (the new one is then dropped).  On failure nothing is left
 * attached and nothing allocated.
 */
int Container::attach_iommu_locked(Group &grp) noexcept
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

	for (Domain &d : domains_) {
		if (!kapi_domain_compatible(d.raw(), fresh->raw()))
			continue;
		kapi_domain_detach_group(fresh->raw(), grp.raw());
		if (!kapi_domain_attach_group(d.raw(), grp.raw())) {
			d.groups++;
			grp.domain = &d;
			return 0; /* fresh is freed unused */
		}
		ret = kapi_domain_attach_group(fresh->raw(), grp.raw());
		if (ret)
			return ret;
	}

	Domain *nd = fresh.release();
	nd->groups = 1;
	domains_.push_back(*nd);
	grp.domain = nd;
	return 0;
}

int Container::attach_group(kapi_group *g, int type) noexcept
{
	if (type != VFIO_CXX_GROUP_IOMMU && type != VFIO_CXX_GROUP_EMULATED)
		return -err::INVAL;

	Guard guard(lock_);
	if (find_locked(g))
		return -err::BUSY;

	Owned<Group> grp(make<Group>(g, type == VFIO_CXX_GROUP_EMULATED));
	if (!grp)
		return -err::NOMEM;
	if (!grp->emulated()) {
		int ret = attach_iommu_locked(*grp);
		if (ret)
			return ret;
	}
	groups_.push_back(*grp.release());
	g_stats.groups_attached.inc();
	return 0;
}

void Container::detach_locked(Group &grp) noexcept
{
	if (Domain *d = grp.domain) {
		kapi_domain_detach_group(d->raw(), grp.raw());
		if (--d->groups == 0) {
			domains_.remove(*d);
			delete d;
		}
	}
	groups_.remove(grp);
	delete &grp;
	g_stats.groups_attached.dec();
}

void Container::detach_group(kapi_group *g) noexcept
{
	Guard guard(lock_);
	Group *grp = find_locked(g);
	if (!grp) {
		VFIO_CXX_WARN_ONCE("vfio_iommu_cxx: detach of unknown group %d ignored\n",
				   kapi_group_id(g));
		return;
	}
	detach_locked(*grp);
}

long Container::ioctl(unsigned int cmd, unsigned long arg) noexcept
{
	switch (cmd) {
	case abi::CHECK_EXTENSION:
		return check_extension(this, arg);
	default:
		return -err::NOTTY;
	}
}

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

} /* namespace vfio_cxx */
