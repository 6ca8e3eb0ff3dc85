// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_iommu_cxx: module entry, the module parameters, VFIO registration
 * and the vfio_iommu_driver_ops trampolines into the C++ core.
 *
 * Locking: none of its own: parameters are read with READ_ONCE, and the
 * trampolines call the core with no vfio-cxx lock held.
 */
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>

#include "services.h"
#include "../core/entry.h"
#include "internal.h"
#include "vfio_compat.h"

/*
 * A module parameter (mode 0644: an admin may change it at any time), its
 * modinfo description, and its accessor kapi_param_<name>() of services.h,
 * which reads it once (READ_ONCE).  A bool parameter's accessor returns int.
 */
#define KAPI_PARAM(name, type, ctype, ret, init, desc)	\
	static ctype name = init;			\
	module_param(name, type, 0644);			\
	MODULE_PARM_DESC(name, desc);			\
	ret kapi_param_##name(void)			\
	{						\
		return READ_ONCE(name);			\
	}
#define KAPI_PARAM_BOOL(name, init, desc) KAPI_PARAM(name, bool, bool, int, init, desc)
#define KAPI_PARAM_UINT(name, init, desc) \
	KAPI_PARAM(name, uint, unsigned int, unsigned int, init, desc)

KAPI_PARAM_BOOL(claim_type1, true,
		"Serve VFIO_TYPE1_IOMMU/VFIO_TYPE1v2_IOMMU containers (default: yes); VFIO_CXX_IOMMU is always served");
KAPI_PARAM_UINT(dma_entry_limit, U16_MAX,
		"Maximum number of DMA mappings per container (default 65535, as vfio_iommu_type1)");
KAPI_PARAM_BOOL(disable_hugepages, false,
		"Map every page as its own IOMMU page, never larger ones (debugging; as vfio_iommu_type1's parameter of the same name)");
KAPI_PARAM_UINT(exit_policy, 0,
		"What a container does with the pages of a process that exits: 0 keep them until unmap or close (Type1, default), 1 release them at once; per container: VFIO_CXX_EXIT_POLICY");
KAPI_PARAM_BOOL(allow_unsafe_interrupts, false,
		"Allow groups without interrupt remapping (MSI isolation), as vfio_iommu_type1's parameter of the same name");
KAPI_PARAM_BOOL(spapr, false,
		"Serve the sPAPR TCE v2 user API (VFIO_SPAPR_TCE_v2_IOMMU) on this host's IOMMU, for QEMU's pseries machine (default: no; host-wide: with it, a QEMU that finds no Type1 backend takes sPAPR)");

/*
 * What the kernel's own vfio_iommu_type1 answers for a MAP/UNMAP range that
 * wraps the 64-bit space: -EINVAL before its check_add_overflow() rework,
 * -EOVERFLOW after.  scripts/kconf.sh reads it from that module's code (or
 * its source) when the module is built; VFIO_CXX_TYPE1_WRAP_PROOF says from
 * where (modinfo -F vfio_cxx_type1_wrap, debugfs stats).
 */
int kapi_type1_wrap_errno(void)
{
	return -VFIO_CXX_TYPE1_WRAP_ERRNO;
}

#if VFIO_CXX_HAVE_CONTAINER

static void *cxx_open(unsigned long arg)
{
	struct vfio_cxx_container *c;
	int ret = vfio_cxx_open(arg, &c);

	return ret ? ERR_PTR(ret) : c;
}

static void cxx_release(void *iommu_data)
{
	vfio_cxx_release(iommu_data);
}

static long cxx_ioctl(void *iommu_data, unsigned int cmd, unsigned long arg)
{
	return vfio_cxx_ioctl(iommu_data, cmd, arg);
}

static int cxx_attach_group(void *iommu_data, struct iommu_group *group,
			    enum vfio_group_type type)
{
	return vfio_cxx_attach_group(iommu_data, (struct kapi_group *)group, type);
}

static void cxx_detach_group(void *iommu_data, struct iommu_group *group)
{
	vfio_cxx_detach_group(iommu_data, (struct kapi_group *)group);
}

/*
 * The core fills the caller's page array with PFNs (a struct page * and a
 * PFN have the same size) and this converts them in place: no allocation
 * on the pin path.  On failure the core has zeroed the array: NULL pages.
 */
static int cxx_pin_pages(void *iommu_data, struct iommu_group *group, dma_addr_t user_iova,
			 int npage, int prot, struct page **pages)
{
	kapi_u64 *pfns = (kapi_u64 *)pages;
	int i, ret;

	BUILD_BUG_ON(sizeof(*pages) != sizeof(*pfns));
	ret = vfio_cxx_pin_pages(iommu_data, (struct kapi_group *)group, user_iova, npage, prot,
				 pfns);
	for (i = 0; i < ret; i++)
		pages[i] = pfn_to_page(pfns[i]);
	return ret;
}

static void cxx_unpin_pages(void *iommu_data, dma_addr_t user_iova, int npage)
{
	vfio_cxx_unpin_pages(iommu_data, user_iova, npage);
}

static int cxx_dma_rw(void *iommu_data, dma_addr_t user_iova, void *data, size_t count,
		      bool write)
{
	return vfio_cxx_dma_rw(iommu_data, user_iova, data, count, write);
}

static void cxx_register_device(void *iommu_data, struct vfio_device *vdev)
{
	vfio_cxx_register_device(iommu_data, (struct kapi_device *)vdev);
}

static void cxx_unregister_device(void *iommu_data, struct vfio_device *vdev)
{
	vfio_cxx_unregister_device(iommu_data, (struct kapi_device *)vdev);
}

/*
 * group_iommu_domain is left NULL: nothing in the VFIO core of 6.1 or 6.12
 * calls it (type1 still provides it from an older interface).
 */
static const struct vfio_iommu_driver_ops cxx_ops = {
	.name			= "vfio-iommu-cxx",
	.owner			= THIS_MODULE,
	.open			= cxx_open,
	.release		= cxx_release,
	.ioctl			= cxx_ioctl,
	.attach_group		= cxx_attach_group,
	.detach_group		= cxx_detach_group,
	.pin_pages		= cxx_pin_pages,
	.unpin_pages		= cxx_unpin_pages,
	.dma_rw			= cxx_dma_rw,
	.register_device	= cxx_register_device,
	.unregister_device	= cxx_unregister_device,
};

/* debugfs: vfio_iommu_cxx/stats, read by the selftests and the demo. */
static struct dentry *debug_dir;

static int stats_show(struct seq_file *s, void *unused)
{
	char text[VFIO_CXX_STATS_TEXT_MAX];

	/* The core's counters, then what the build proved (scripts/kconf.sh). */
	seq_write(s, text, vfio_cxx_format_stats(text, sizeof(text)));
	seq_printf(s, "ops_layout %s\n", VFIO_CXX_OPS_LAYOUT_NAME);
	seq_printf(s, "abi_proof %s\n", VFIO_CXX_ABI_PROOF);
	seq_printf(s, "type1_wrap_errno %d (%s)\n", kapi_type1_wrap_errno(), VFIO_CXX_TYPE1_WRAP_PROOF);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int __init vfio_iommu_cxx_init(void)
{
	int ret;

	ret = kapi_base_init();
	if (ret)
		return ret;
	ret = kapi_mm_init();
	if (ret) {
		kapi_base_exit();
		return ret;
	}
	ret = kapi_netlink_init();
	if (ret) {
		pr_err("vfio_iommu_cxx: genl_register_family failed: %d\n", ret);
		kapi_mm_exit();
		kapi_base_exit();
		return ret;
	}
	ret = vfio_register_iommu_driver(&cxx_ops);
	if (ret) {
		pr_err("vfio_iommu_cxx: vfio_register_iommu_driver failed: %d\n", ret);
		kapi_netlink_exit();
		kapi_mm_exit();
		kapi_base_exit();
		return ret;
	}
	debug_dir = debugfs_create_dir("vfio_iommu_cxx", NULL);
	debugfs_create_file("stats", 0444, debug_dir, NULL, &stats_fops);
	pr_info("vfio_iommu_cxx: registered (VFIO ops layout %s, claim_type1=%d)\n",
		VFIO_CXX_OPS_LAYOUT_NAME, claim_type1);
	/*
	 * Say it where an admin looks: with claim_type1 the Type1 containers
	 * of this host are ours (we register after vfio_iommu_type1, and the
	 * VFIO core tries the newest backend first), and the options of
	 * vfio_iommu_type1 no longer apply to them; ours have the same names.
	 */
	if (claim_type1)
		pr_info("vfio_iommu_cxx: serving VFIO_TYPE1_IOMMU/VFIO_TYPE1v2_IOMMU containers; set dma_entry_limit, disable_hugepages and allow_unsafe_interrupts on vfio_iommu_cxx, not vfio_iommu_type1\n");
	return 0;
}

static void __exit vfio_iommu_cxx_exit(void)
{
	debugfs_remove_recursive(debug_dir);
	vfio_unregister_iommu_driver(&cxx_ops);
	kapi_netlink_exit();
	kapi_mm_exit();
	/* Module references pin us while any container exists. */
	WARN_ON(vfio_cxx_busy());
	kapi_base_exit();
}

#else /* !VFIO_CXX_HAVE_CONTAINER */

static int __init vfio_iommu_cxx_init(void)
{
	pr_err("vfio_iommu_cxx: this kernel's VFIO has no legacy container interface (CONFIG_VFIO_CONTAINER is off, iommufd provides /dev/vfio/vfio); nothing to register with\n");
	return -ENODEV;
}

static void __exit vfio_iommu_cxx_exit(void)
{
}

#endif

module_init(vfio_iommu_cxx_init);
module_exit(vfio_iommu_cxx_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vfio-cxx developers");
MODULE_DESCRIPTION("VFIO IOMMU backend (Type1v2 API) written in freestanding C++");
MODULE_SOFTDEP("pre: vfio");
MODULE_VERSION(VFIO_CXX_VERSION);
/* What the build proved (scripts/kconf.sh): modinfo -F vfio_cxx_abi_proof. */
MODULE_INFO(vfio_cxx_ops_layout, VFIO_CXX_OPS_LAYOUT_NAME);
MODULE_INFO(vfio_cxx_abi_proof, VFIO_CXX_ABI_PROOF);
MODULE_INFO(vfio_cxx_type1_wrap, "-" VFIO_CXX_TYPE1_WRAP_NAME " (" VFIO_CXX_TYPE1_WRAP_PROOF ")");
