// SPDX-License-Identifier: GPL-2.0
/*
 * ContainerProbe (introspect.h): what the tests read of a container.  Built
 * into the host test library only, never into the module.  Each reading takes
 * the container lock.
 */
#include "introspect.h"
#include "bits.h"

#include <vfio_cxx/abi.h>

namespace vfio_cxx {

size_t ContainerProbe::group_count() noexcept
{
	Guard guard(c_.lock_);
	return c_.topo_.groups().size();
}

size_t ContainerProbe::domain_count() noexcept
{
	Guard guard(c_.lock_);
	return c_.topo_.domains().size();
}

size_t ContainerProbe::dma_count() noexcept
{
	Guard guard(c_.lock_);
	size_t n = 0;
	c_.iopt_.dmas().for_each(0, U64_MAX, [&n](Dma &) {
		n++;
		return true;
	});
	return n;
}

u64 ContainerProbe::pages_pinned() noexcept
{
	Guard guard(c_.lock_);
	u64 n = 0;
	c_.iopt_.dmas().for_each(0, U64_MAX, [&n](Dma &d) {
		n += d.runs.pinned_pages();
		return true;
	});
	return n;
}

u64 ContainerProbe::external_pages() noexcept
{
	Guard guard(c_.lock_);
	u64 n = 0;
	c_.iopt_.dmas().for_each(0, ~u64(0), [&n](Dma &d) {
		n += d.ext_pages;
		return true;
	});
	return n;
}

u64 ContainerProbe::external_refs() noexcept
{
	Guard guard(c_.lock_);
	u64 n = 0;
	c_.iopt_.dmas().for_each(0, ~u64(0), [&n](Dma &d) {
		u64 idx = 0;
		while (d.ext_pages) {
			ExtPin e(d.ext.find(&idx, ~0UL));
			if (!e.present())
				break;
			n += e.refs();
			if (idx == ~0UL)
				break;
			idx++;
		}
		return true;
	});
	return n;
}

u64 ContainerProbe::prereg_pages() noexcept
{
	Guard guard(c_.lock_);
	u64 n = 0;
	for (Prereg &p : c_.preregs_)
		n += p.size >> abi::PAGE_SHIFT;
	return n;
}

size_t ContainerProbe::prereg_count() noexcept
{
	Guard guard(c_.lock_);
	return c_.preregs_.size();
}

size_t ContainerProbe::orphaned_dmas() noexcept
{
	Guard guard(c_.lock_);
	return c_.iopt_.orphaned();
}

u32 ContainerProbe::exit_policy() noexcept
{
	Guard guard(c_.lock_);
	return c_.watches_.policy();
}

} /* namespace vfio_cxx */

using namespace vfio_cxx;

extern "C" int vfio_cxx_view_container_next(const kapi_viewer *v, kapi_u64 after,
					    vfio_cxx_container_info *out) noexcept
{
	return Registry::next(v, after, *out);
}

extern "C" int vfio_cxx_view_container_get(const kapi_viewer *v, kapi_u64 id,
					   vfio_cxx_container_info *out) noexcept
{
	return Registry::get(v, id, *out);
}

extern "C" int vfio_cxx_view_mapping_next(const kapi_viewer *v, kapi_u64 id, kapi_u64 from,
					  vfio_cxx_mapping_info *out) noexcept
{
	return Registry::mapping_next(v, id, from, *out);
}

extern "C" int vfio_cxx_view_prereg_next(const kapi_viewer *v, kapi_u64 id, kapi_u64 from_vaddr,
					 vfio_cxx_prereg_info *out) noexcept
{
	return Registry::prereg_next(v, id, from_vaddr, *out);
}
