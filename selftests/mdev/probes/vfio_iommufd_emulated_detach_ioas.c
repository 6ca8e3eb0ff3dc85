/* SPDX-License-Identifier: GPL-2.0 */
/* struct vfio_device_ops has detach_ioas: mtest_kapi.c */
#include <linux/vfio.h>

const struct vfio_device_ops vfio_cxx_probe = {
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};
