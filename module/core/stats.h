/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module-wide counters (debugfs stats, netlink GET_STATS, and
 * vfio_cxx_busy() at module exit), and a container's own.  Locking: the
 * module-wide ones are atomics; a container's are written under its lock_
 * (ContainerSummary).
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

/*
 * A container's counters that netlink reads without its lock_: written
 * under lock_ beside the state they count (so a relaxed load and store, no
 * locked read-modify-write on the MAP/UNMAP path), read with relaxed loads.
 * The Tallies also feed the module-wide g_stats.  The Container owns them
 * (sum_) and lends them to the objects that keep the state.
 */
struct ContainerSummary {
	SerialCounter mappings;
	SerialCounter mapped_bytes;
	Tally pages_pinned{ g_stats.pages_pinned };
	Tally external_pages{ g_stats.external_pages };
	SerialCounter prereg_pages; /* regions referenced (g_stats counts each pinned region once) */
	SerialCounter locked_pages;
	SerialCounter orphaned; /* as of the last time lock_ was free */
};

} /* namespace vfio_cxx */

#endif
