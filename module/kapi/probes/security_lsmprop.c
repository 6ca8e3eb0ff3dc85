/* SPDX-License-Identifier: GPL-2.0 */
/*
 * security_current_getlsmprop_subj()/security_task_getlsmprop_obj() with a
 * struct lsm_prop (else the u32 secid ..._getsecid_subj/_obj): netlink.c
 */
#include <linux/sched.h>
#include <linux/security.h>

void vfio_cxx_probe(struct task_struct *task)
{
	struct lsm_prop a, b;

	security_current_getlsmprop_subj(&a);
	security_task_getlsmprop_obj(task, &b);
}
