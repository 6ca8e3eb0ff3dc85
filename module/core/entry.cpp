// SPDX-License-Identifier: GPL-2.0
/*
 * The core's extern "C" entry points, called by the kapi shim from the
 * vfio_iommu_driver_ops callbacks, and the module-wide counters as the
 * stats file (debugfs) and netlink read them.
 *
 * Locking: the entry points are called with no vfio-cxx lock held; each
 * takes the container locks its Container method names (container.h).  The
 * counters are lock-free (stats.h).
 */
#include "container.h"

#include <vfio_cxx/abi.h>
#include <vfio_cxx/errno.h>

using namespace vfio_cxx;

/*
 * The opaque handle the VFIO core holds is the Container itself; the
 * incomplete struct vfio_cxx_container only gives it a distinct C type.
 */
static Container *to_core(vfio_cxx_container *c)
{
	return reinterpret_cast<Container *>(c);
}

namespace {
/*
 * The reference a call from the VFIO core holds for its duration: the core
 * may release the container meanwhile (container.h, "References").
 */
class [[nodiscard]] CallRef {
public:
	explicit CallRef(vfio_cxx_container *c) noexcept : c_(to_core(c)) { c_->get(); }
	VFIO_CXX_NO_COPY(CallRef);
	~CallRef() { c_->put(); }
	Container *operator->() const noexcept { return c_; }

private:
	Container *c_;
};
} /* namespace */

extern "C" int vfio_cxx_open(unsigned long type, vfio_cxx_container **out) noexcept
{
	auto r = Container::create(type);
	if (!r.ok())
		return r.err();
	*out = reinterpret_cast<vfio_cxx_container *>(r.take());
	return 0;
}

extern "C" void vfio_cxx_release(vfio_cxx_container *c) noexcept
{
	Container *core = to_core(c);
	core->close();
	core->put(); /* the VFIO core's reference */
}

extern "C" long vfio_cxx_ioctl(vfio_cxx_container *c, unsigned int cmd, unsigned long arg) noexcept
{
	if (!c) {
		/* Before VFIO_SET_IOMMU only extension queries reach a backend. */
		if (cmd == abi::CHECK_EXTENSION)
			return Container::check_extension_global(arg);
		return -err::NOTTY;
	}
	return CallRef(c)->ioctl(cmd, arg);
}

extern "C" int vfio_cxx_attach_group(vfio_cxx_container *c, kapi_group *g, int type) noexcept
{
	return CallRef(c)->attach_group(g, type);
}

extern "C" void vfio_cxx_detach_group(vfio_cxx_container *c, kapi_group *g) noexcept
{
	CallRef(c)->detach_group(g);
}

/*
 * A vendor driver's call through the VFIO core: no container (nothing was
 * ever set up), no array or nothing to pin is -EINVAL before anything else.
 */
extern "C" int vfio_cxx_pin_pages(vfio_cxx_container *c, kapi_group *g, kapi_u64 iova, int npage,
				  int prot, kapi_u64 *pfns) noexcept
{
	if (!c || !pfns || npage <= 0)
		return -err::INVAL;
	int ret = CallRef(c)->pin_pages(g, iova, npage, prot, pfns);
	if (ret < 0)
		for (int i = 0; i < npage; i++)
			pfns[i] = 0; /* the caller's page array holds no stale pointer */
	return ret;
}

extern "C" void vfio_cxx_unpin_pages(vfio_cxx_container *c, kapi_u64 iova, int npage) noexcept
{
	if (c && npage > 0)
		CallRef(c)->unpin_pages(iova, npage);
}

extern "C" int vfio_cxx_dma_rw(vfio_cxx_container *c, kapi_u64 iova, void *data,
			       unsigned long count, int write) noexcept
{
	if (!c || !data)
		return -err::INVAL;
	return CallRef(c)->dma_rw(iova, data, count, write != 0);
}

extern "C" void vfio_cxx_register_device(vfio_cxx_container *c, kapi_device *dev) noexcept
{
	CallRef(c)->register_device(dev);
}

extern "C" void vfio_cxx_unregister_device(vfio_cxx_container *c, kapi_device *dev) noexcept
{
	CallRef(c)->unregister_device(dev);
}

extern "C" void vfio_cxx_get_stats(vfio_cxx_stats *s) noexcept
{
	s->containers_live = g_stats.containers_live.read();
	s->containers_opened = g_stats.containers_opened.read();
	s->groups_attached = g_stats.groups_attached.read();
	s->domains_live = g_stats.domains_live.read();
	s->dmas_live = g_stats.dmas_live.read();
	s->pages_pinned = g_stats.pages_pinned.read();
	s->external_pages = g_stats.external_pages.read();
	s->devices_registered = g_stats.devices_registered.read();
	s->prereg_pages = g_stats.prereg_pages.read();
	s->mm_exits = g_stats.mm_exits.read();
}

namespace {
/* Text appended to a fixed buffer; what does not fit is dropped. */
class Text {
public:
	Text(char *buf, unsigned long size) noexcept : buf_(buf), size_(size) {}
	Text &str(const char *s) noexcept
	{
		while (*s)
			put(*s++);
		return *this;
	}
	Text &dec(u64 v) noexcept
	{
		char digits[20];
		int n = 0;
		do {
			digits[n++] = static_cast<char>('0' + v % 10);
			v /= 10;
		} while (v);
		while (n)
			put(digits[--n]);
		return *this;
	}
	unsigned long len() const noexcept { return len_; }

private:
	void put(char c) noexcept
	{
		if (len_ < size_)
			buf_[len_++] = c;
	}
	char *buf_;
	unsigned long size_;
	unsigned long len_ = 0;
};
} /* namespace */

extern "C" unsigned long vfio_cxx_format_stats(char *buf, unsigned long size) noexcept
{
	vfio_cxx_stats st;
	vfio_cxx_get_stats(&st);
	const struct {
		const char *name;
		u64 value;
	} lines[] = {
		{ "containers_live", st.containers_live },
		{ "containers_opened", st.containers_opened },
		{ "groups_attached", st.groups_attached },
		{ "domains_live", st.domains_live },
		{ "dmas_live", st.dmas_live },
		{ "pages_pinned", st.pages_pinned },
		{ "external_pages", st.external_pages },
		{ "devices_registered", st.devices_registered },
		{ "prereg_pages", st.prereg_pages },
		{ "mm_exits", st.mm_exits },
	};
	Text t(buf, size);
	for (const auto &l : lines)
		t.str(l.name).str(" ").dec(l.value).str("\n");
	return t.len();
}

extern "C" int vfio_cxx_busy(void) noexcept
{
	return g_stats.containers_live.read() || g_stats.groups_attached.read() ||
	       g_stats.domains_live.read() || g_stats.dmas_live.read() ||
	       g_stats.pages_pinned.read() || g_stats.external_pages.read() ||
	       g_stats.devices_registered.read() || g_stats.prereg_pages.read();
}
