/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dumpability and its user namespace live in task->exec_state (else in the
 * mm: get_dumpable(mm), mm->user_ns, task->user_dumpable): netlink.c
 */
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/exec_state.h>

int vfio_cxx_probe(struct task_struct *task)
{
	struct task_exec_state *es = rcu_dereference(task->exec_state);

	return es->dumpable == TASK_DUMPABLE_OWNER && es->user_ns;
}
