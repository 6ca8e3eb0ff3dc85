/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct vfio_device_ops has get_region_info_caps: the VFIO core answers
 * VFIO_DEVICE_GET_REGION_INFO through it, no longer through .ioctl (7.x):
 * mtest_kapi.c
 */
#include <linux/vfio.h>

static int region_info(struct vfio_device *vdev, struct vfio_region_info *info,
		       struct vfio_info_cap *caps)
{
	return 0;
}

const struct vfio_device_ops vfio_cxx_probe = {
	.get_region_info_caps = region_info,
};
