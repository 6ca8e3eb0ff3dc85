// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_cxx_floor: the least a MAP_DMA/UNMAP_DMA of a range can cost, for
 * make bench (issue 15, "the floor").  No VFIO, no bookkeeping: the raw
 * kernel work every backend has to do for the same range, timed by
 * bench/vfio_bench.c as it times the backends' ioctls.
 *
 *   open("/dev/vfio_cxx_floor")  a paging domain of its own, attached to
 *                                QEMU's edu device (1234:11e8), as a
 *                                container attaches its group's: not timed
 *   FLOOR_MAP {vaddr, iova, size}   pin_user_pages_fast(FOLL_WRITE |
 *                                FOLL_LONGTERM) of the whole range, then
 *                                its physically contiguous runs mapped by
 *                                one iommu_map_sgtable (one IOTLB sync)
 *   FLOOR_UNMAP {iova, size}     iommu_unmap of the range, unpin_user_pages
 *   close                        detached, freed
 *
 * What it keeps is the array of page pointers, which unpinning needs: 8
 * bytes a page, and for the map call a scatterlist, freed at once.  It charges no locked_vm (no backend's accounting is in the
 * floor) and serves root only.
 *
 * Locking: floor_lock serialises everything; the device has one user at a
 * time (-EBUSY for a second open).
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

struct floor_req {
	__u64 vaddr, iova, size;
};
#define FLOOR_MAP	_IOW('F', 1, struct floor_req)
#define FLOOR_UNMAP	_IOW('F', 2, struct floor_req)

static DEFINE_MUTEX(floor_lock);
static struct pci_dev *floor_edu;
static struct iommu_domain *floor_dom;	/* while the device is open */
static struct page **floor_pages;	/* the mapped range's pages */
static unsigned long floor_npages;
static u64 floor_iova;

static void floor_unpin_all(void)
{
	unpin_user_pages(floor_pages, floor_npages);
	kvfree(floor_pages);
	floor_pages = NULL;
	floor_npages = 0;
}

static long floor_map(const struct floor_req *q)
{
	unsigned long n = q->size >> PAGE_SHIFT, done = 0;
	struct sg_table sgt;
	ssize_t mapped;
	long ret;

	if (floor_pages)
		return -EBUSY;
	if (!q->size || ((q->size | q->vaddr | q->iova) & ~PAGE_MASK) || n > UINT_MAX)
		return -EINVAL;
	floor_pages = kvmalloc_array(n, sizeof(*floor_pages), GFP_KERNEL);
	if (!floor_pages)
		return -ENOMEM;
	floor_iova = q->iova;
	/* GUP-fast pins as much as it can per call; the rest is the slow path's. */
	while (done < n) {
		long got = pin_user_pages_fast(q->vaddr + (done << PAGE_SHIFT), n - done,
					       FOLL_WRITE | FOLL_LONGTERM, floor_pages + done);

		if (got <= 0) {
			floor_npages = done;
			floor_unpin_all();
			return got ? got : -EFAULT;
		}
		done += got;
	}
	floor_npages = n;
	/* One entry per physically contiguous run, one map call, one IOTLB sync. */
	ret = sg_alloc_table_from_pages(&sgt, floor_pages, n, 0, q->size, GFP_KERNEL);
	if (ret) {
		floor_unpin_all();
		return ret;
	}
	mapped = iommu_map_sgtable(floor_dom, q->iova, &sgt, IOMMU_READ | IOMMU_WRITE);
	sg_free_table(&sgt);
	if (mapped != (ssize_t)q->size) {
		if (mapped > 0)
			iommu_unmap(floor_dom, q->iova, mapped);
		floor_unpin_all();
		return mapped < 0 ? mapped : -ENOMEM;
	}
	return 0;
}

static long floor_unmap(const struct floor_req *q)
{
	if (!floor_pages || q->iova != floor_iova || q->size != (u64)floor_npages << PAGE_SHIFT)
		return -EINVAL;
	iommu_unmap(floor_dom, floor_iova, q->size);
	floor_unpin_all();
	return 0;
}

static long floor_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct floor_req q;
	long ret;

	if (cmd != FLOOR_MAP && cmd != FLOOR_UNMAP)
		return -ENOTTY;
	if (copy_from_user(&q, (void __user *)arg, sizeof(q)))
		return -EFAULT;
	mutex_lock(&floor_lock);
	ret = cmd == FLOOR_MAP ? floor_map(&q) : floor_unmap(&q);
	mutex_unlock(&floor_lock);
	return ret;
}

static int floor_attach(void)
{
	struct iommu_domain *dom;
	int ret;

	if (floor_dom)
		return -EBUSY;
	dom = iommu_paging_domain_alloc(&floor_edu->dev);
	if (IS_ERR(dom))
		return PTR_ERR(dom);
	ret = iommu_attach_device(dom, &floor_edu->dev);
	if (ret) {
		iommu_domain_free(dom);
		return ret;
	}
	floor_dom = dom;
	return 0;
}

static int floor_open(struct inode *inode, struct file *f)
{
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	mutex_lock(&floor_lock);
	ret = floor_attach();
	mutex_unlock(&floor_lock);
	return ret;
}

static int floor_release(struct inode *inode, struct file *f)
{
	mutex_lock(&floor_lock);
	if (floor_pages) {
		iommu_unmap(floor_dom, floor_iova, (size_t)floor_npages << PAGE_SHIFT);
		floor_unpin_all();
	}
	iommu_detach_device(floor_dom, &floor_edu->dev);
	iommu_domain_free(floor_dom);
	floor_dom = NULL;
	mutex_unlock(&floor_lock);
	return 0;
}

static const struct file_operations floor_fops = {
	.owner = THIS_MODULE,
	.open = floor_open,
	.release = floor_release,
	.unlocked_ioctl = floor_ioctl,
};

static struct miscdevice floor_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vfio_cxx_floor",
	.fops = &floor_fops,
	.mode = 0600,
};

static int __init floor_init(void)
{
	int ret;

	floor_edu = pci_get_device(0x1234, 0x11e8, NULL);
	if (!floor_edu)
		return -ENODEV;
	ret = misc_register(&floor_misc);
	if (ret)
		pci_dev_put(floor_edu);
	return ret;
}

static void __exit floor_exit(void)
{
	misc_deregister(&floor_misc);
	pci_dev_put(floor_edu);
}

module_init(floor_init);
module_exit(floor_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-cxx bench: pin_user_pages_fast + iommu_map_sg with no bookkeeping (the floor)");
