// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_cxx_mtest: a test mediated-device driver for vfio-cxx's VM lanes.
 *
 * The C shim: the only file of the driver that includes kernel headers.  It
 * registers a parent device (class and device "vfio_cxx_mtest") with one
 * mdev type, "vfio_cxx_mtest-dma":
 *   echo $uuid > /sys/class/mdev_bus/vfio_cxx_mtest/mdev_supported_types/vfio_cxx_mtest-dma/create
 *   echo 1 > /sys/bus/mdev/devices/$uuid/remove
 * Each mdev is a vfio_device on an emulated IOMMU
 * (vfio_register_emulated_iommu_dev), so the container's IOMMU backend
 * serves its vfio_pin_pages()/vfio_unpin_pages()/vfio_dma_rw() calls and
 * sends it dma_unmap.  The register model and DMA engine are C++
 * (mtest_engine.cpp); the register map is mtest_regs.h.
 */
#include <linux/device.h>
#include <linux/highmem.h>
#include <linux/mdev.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "vfio_cxx_kconf.h"
#include <linux/vfio.h>

#include "mtest_engine.h"

static_assert(PAGE_SIZE == 4096, "mtest_engine.cpp assumes 4 KiB pages");
static_assert(MTEST_PIN_MAX == VFIO_PIN_PAGES_MAX_ENTRIES, "pin batch");
static_assert(MTEST_PROT_READ == IOMMU_READ && MTEST_PROT_WRITE == IOMMU_WRITE, "prot");

#define MTEST_MAX_INSTANCES 16

struct mtest_state {
	struct vfio_device vdev;
	struct mutex lock;		/* serialises every engine call */
	struct mtest_engine *engine;
};

static struct mtest_state *to_state(struct vfio_device *vdev)
{
	return container_of(vdev, struct mtest_state, vdev);
}

/* ---- kernel services for the engine ------------------------------------- */

int mtest_kapi_pin(void *ctx, unsigned long long iova, int npage, int prot,
		   void **pages)
{
	struct mtest_state *s = ctx;

	return vfio_pin_pages(&s->vdev, iova, npage, prot, (struct page **)pages);
}

void mtest_kapi_unpin(void *ctx, unsigned long long iova, int npage)
{
	struct mtest_state *s = ctx;

	vfio_unpin_pages(&s->vdev, iova, npage);
}

int mtest_kapi_dma_rw(void *ctx, unsigned long long iova, void *data,
		      unsigned long len, int write)
{
	struct mtest_state *s = ctx;

	return vfio_dma_rw(&s->vdev, iova, data, len, write);
}

void mtest_kapi_page_copy(void *page, unsigned int off, void *buf,
			  unsigned int len, int to_page)
{
	char *va;

	if (WARN_ON_ONCE(off >= PAGE_SIZE || len > PAGE_SIZE - off))
		return;
	va = kmap_local_page(page);
	if (to_page) {
		memcpy(va + off, buf, len);
		flush_dcache_page(page);
	} else {
		memcpy(buf, va + off, len);
	}
	kunmap_local(va);
}

/* ---- vfio_device_ops ------------------------------------------------------ */

static int mtest_init_dev(struct vfio_device *vdev)
{
	struct mtest_state *s = to_state(vdev);

	mutex_init(&s->lock);
	s->engine = kvzalloc(mtest_engine_size(), GFP_KERNEL);
	if (!s->engine)
		return -ENOMEM;
	mtest_engine_init(s->engine, s);
	return 0;
}

static void mtest_release_dev(struct vfio_device *vdev)
{
	struct mtest_state *s = to_state(vdev);

	kvfree(s->engine);
	mutex_destroy(&s->lock);
}

static int mtest_open_device(struct vfio_device *vdev)
{
	struct mtest_state *s = to_state(vdev);

	mutex_lock(&s->lock);
	mtest_engine_open(s->engine);
	mutex_unlock(&s->lock);
	return 0;
}

static void mtest_close_device(struct vfio_device *vdev)
{
	struct mtest_state *s = to_state(vdev);

	mutex_lock(&s->lock);
	mtest_engine_close(s->engine);
	mutex_unlock(&s->lock);
}

static void mtest_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct mtest_state *s = to_state(vdev);

	mutex_lock(&s->lock);
	mtest_engine_dma_unmap(s->engine, iova, length);
	mutex_unlock(&s->lock);
}

/* One access: a register (4 or 8 bytes) or a piece of the buffer window. */
static ssize_t mtest_access(struct mtest_state *s, char __user *ubuf,
			    size_t count, loff_t *ppos, bool write)
{
	u64 off = *ppos, val = 0;
	int ret;

	if (*ppos < 0 || off >= MTEST_REGION_SIZE || !count)
		return -EINVAL;
	if (off >= MTEST_BUF_OFF) {
		size_t n = min_t(u64, count, MTEST_REGION_SIZE - off);
		unsigned char *b;

		mutex_lock(&s->lock);
		b = mtest_engine_buf(s->engine) + (off - MTEST_BUF_OFF);
		ret = write ? copy_from_user(b, ubuf, n) : copy_to_user(ubuf, b, n);
		mutex_unlock(&s->lock);
		if (ret)
			return -EFAULT;
		*ppos += n;
		return n;
	}
	if (count != 4 && count != 8)
		return -EINVAL;
	if (write && copy_from_user(&val, ubuf, count))
		return -EFAULT;
	mutex_lock(&s->lock);
	if (write)
		ret = mtest_engine_reg_write(s->engine, off, count, le64_to_cpu(val));
	else
		ret = mtest_engine_reg_read(s->engine, off, count, &val);
	mutex_unlock(&s->lock);
	if (ret)
		return ret;
	if (!write) {
		val = cpu_to_le64(val);
		if (copy_to_user(ubuf, &val, count))
			return -EFAULT;
	}
	*ppos += count;
	return count;
}

static ssize_t mtest_read(struct vfio_device *vdev, char __user *buf,
			  size_t count, loff_t *ppos)
{
	return mtest_access(to_state(vdev), buf, count, ppos, false);
}

static ssize_t mtest_write(struct vfio_device *vdev, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	return mtest_access(to_state(vdev), (char __user *)buf, count, ppos, true);
}

/* The one region: the register file, read and written through read()/write(). */
static int mtest_region_info(struct vfio_region_info *info)
{
	if (info->index != 0)
		return -EINVAL;
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	info->cap_offset = 0;
	info->size = MTEST_REGION_SIZE;
	info->offset = 0;
	return 0;
}

#if VFIO_CXX_HAVE_VFIO_GET_REGION_INFO_CAPS
/* Where the VFIO core answers VFIO_DEVICE_GET_REGION_INFO itself (7.x). */
static int mtest_get_region_info_caps(struct vfio_device *vdev, struct vfio_region_info *info,
				      struct vfio_info_cap *caps)
{
	return mtest_region_info(info);
}
#endif

static long mtest_ioctl(struct vfio_device *vdev, unsigned int cmd,
			unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	unsigned long minsz;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PLATFORM;
		info.num_regions = 1;
		info.num_irqs = 0;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info info;
		int ret;

		minsz = offsetofend(struct vfio_region_info, offset);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		ret = mtest_region_info(&info);
		if (ret)
			return ret;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static const struct vfio_device_ops mtest_dev_ops = {
	.name = MTEST_NAME,
	.init = mtest_init_dev,
	.release = mtest_release_dev,
	.open_device = mtest_open_device,
	.close_device = mtest_close_device,
	.read = mtest_read,
	.write = mtest_write,
	.ioctl = mtest_ioctl,
#if VFIO_CXX_HAVE_VFIO_GET_REGION_INFO_CAPS
	.get_region_info_caps = mtest_get_region_info_caps,
#endif
	.dma_unmap = mtest_dma_unmap,
#if VFIO_CXX_HAVE_VFIO_IOMMUFD_EMULATED && IS_ENABLED(CONFIG_IOMMUFD)
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
#if VFIO_CXX_HAVE_VFIO_IOMMUFD_EMULATED_DETACH_IOAS
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
#endif
#endif
};

/* ---- mdev parent and driver ------------------------------------------------ */

static int mtest_probe(struct mdev_device *mdev)
{
	struct mtest_state *s;
	int ret;

	s = vfio_alloc_device(mtest_state, vdev, &mdev->dev, &mtest_dev_ops);
	if (IS_ERR(s))
		return PTR_ERR(s);
	ret = vfio_register_emulated_iommu_dev(&s->vdev);
	if (ret) {
		vfio_put_device(&s->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, s);
	return 0;
}

static void mtest_remove(struct mdev_device *mdev)
{
	struct mtest_state *s = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&s->vdev);
	vfio_put_device(&s->vdev);
}

static ssize_t mtest_show_description(struct mdev_type *mtype, char *buf)
{
	return sysfs_emit(buf, "DMA engine over vfio_pin_pages/vfio_dma_rw (vfio-cxx tests)\n");
}

static struct mdev_driver mtest_driver = {
	.device_api = VFIO_DEVICE_API_PLATFORM_STRING,
	.max_instances = MTEST_MAX_INSTANCES,
	.driver = {
		.name = MTEST_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = mtest_probe,
	.remove = mtest_remove,
	.show_description = mtest_show_description,
};

static struct mdev_type mtest_type = {
	.sysfs_name = "dma",
	.pretty_name = "vfio-cxx test DMA engine",
};

static struct mdev_type *mtest_types[] = { &mtest_type };

static struct class mtest_class = {
	.name = MTEST_NAME,
};

static struct {
	struct device dev;
	struct mdev_parent parent;
} mtest_parent;

static void mtest_parent_release(struct device *dev)
{
}

static int __init mtest_init(void)
{
	int ret;

	ret = mdev_register_driver(&mtest_driver);
	if (ret)
		return ret;
	ret = class_register(&mtest_class);
	if (ret)
		goto err_driver;
	device_initialize(&mtest_parent.dev);
	mtest_parent.dev.class = &mtest_class;
	mtest_parent.dev.release = mtest_parent_release;
	ret = dev_set_name(&mtest_parent.dev, "%s", MTEST_NAME);
	if (ret)
		goto err_put;
	ret = device_add(&mtest_parent.dev);
	if (ret)
		goto err_put;
	ret = mdev_register_parent(&mtest_parent.parent, &mtest_parent.dev,
				   &mtest_driver, mtest_types,
				   ARRAY_SIZE(mtest_types));
	if (ret)
		goto err_del;
	return 0;

err_del:
	device_del(&mtest_parent.dev);
err_put:
	put_device(&mtest_parent.dev);
	class_unregister(&mtest_class);
err_driver:
	mdev_unregister_driver(&mtest_driver);
	return ret;
}

static void __exit mtest_exit(void)
{
	mdev_unregister_parent(&mtest_parent.parent);
	device_unregister(&mtest_parent.dev);
	class_unregister(&mtest_class);
	mdev_unregister_driver(&mtest_driver);
}

module_init(mtest_init);
module_exit(mtest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-cxx test mediated device: a DMA engine over vfio_pin_pages/vfio_dma_rw");
MODULE_SOFTDEP("pre: mdev");
