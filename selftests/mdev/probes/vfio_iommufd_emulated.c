/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct vfio_device_ops has bind/unbind_iommufd and attach_ioas, and the
 * emulated helpers exist (iommufd's VFIO compat for mdev): mtest_kapi.c
 */
#include <linux/vfio.h>

const struct vfio_device_ops vfio_cxx_probe = {
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
};
