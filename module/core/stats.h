/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module-wide counters (debugfs stats, netlink GET_STATS, and
 * vfio_cxx_busy() at module exit).  Locking: none; each is an atomic.
 */
#ifndef VFIO_CXX_STATS_H
#define VFIO_CXX_STATS_H

#include <vfio_cxx/base.h>

namespace vfio_cxx {

struct Stats {
	Counter containers_live;
	Counter containers_opened;
	Counter groups_attached;
	Counter domains_live;
	Counter dmas_live;
	Counter pages_pinned;
	Counter external_pages;
	Counter devices_registered;
	Counter prereg_pages;
	Counter mm_exits;
};
extern constinit Stats g_stats;

} /* namespace vfio_cxx */

#endif
