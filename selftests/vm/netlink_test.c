// SPDX-License-Identifier: GPL-2.0
/*
 * VM tests of the vfio_cxx generic netlink family through vfio-cxx-stat
 * (issue 7): every command and event, the visibility rules as an
 * unprivileged user, the JSON output (parsed by python3's json), the
 * message when the module is not loaded, and the DKMS-installed module
 * (modprobe from /lib/modules/<kver>/updates/dkms) when there is one.
 *
 * Environment (selftests/vm/guest-run.sh): VFIO_CXX_GROUP, the edu device's
 * IOMMU group; VFIO_CXX_KO, the module the lane loaded (reloaded after the
 * unload tests).  The tool is $OUT/tool/vfio-cxx-stat, found next to this
 * binary ($OUT/vm/), or $VFIO_CXX_STAT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "../../uapi/linux/vfio_cxx.h"

#define NOBODY 65534

static char tool[PATH_MAX];

static const char *tool_path(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (getenv("VFIO_CXX_STAT"))
		return getenv("VFIO_CXX_STAT");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	snprintf(tool, sizeof(tool), "%s/../tool/vfio-cxx-stat", dirname(exe));
	return access(tool, X_OK) ? NULL : tool;
}

/* Runs a shell command; its stdout (trimmed) in out; returns the exit status. */
static int sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *f;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out && len) {
		n = fread(out, 1, len - 1, f);
		out[n] = 0;
		while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
			out[--n] = 0;
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/*
 * python3 over the tool's JSON (--json plus args): prints the expression
 * evaluated with d = the parsed document and me = this process's tgid.
 */
static int pyjson(char *out, size_t len, const char *args, const char *expr)
{
	return sh(out, len,
		  "%s --json %s | python3 -c 'import json,sys; d=json.load(sys.stdin); me=%d; print(%s)'",
		  tool, args, getpid(), expr);
}

struct ctr {
	int container, group;
	void *buf;
	size_t size;
};

static int open_container(struct ctr *c, unsigned long type)
{
	char path[64];
	const char *g = getenv("VFIO_CXX_GROUP");

	memset(c, 0, sizeof(*c));
	c->container = c->group = -1;
	if (!g)
		return -1;
	c->container = open("/dev/vfio/vfio", O_RDWR);
	snprintf(path, sizeof(path), "/dev/vfio/%s", g);
	c->group = open(path, O_RDWR);
	if (c->container < 0 || c->group < 0)
		return -1;
	if (ioctl(c->group, VFIO_GROUP_SET_CONTAINER, &c->container))
		return -1;
	return ioctl(c->container, VFIO_SET_IOMMU, type);
}

static int map(struct ctr *c, unsigned long iova, unsigned long off, unsigned long size,
	       unsigned int flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags,
		.vaddr = (unsigned long)c->buf + off, .iova = iova, .size = size,
	};

	return ioctl(c->container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

static void close_container(struct ctr *c)
{
	if (c->group >= 0)
		close(c->group);
	if (c->container >= 0)
		close(c->container);
	if (c->buf)
		munmap(c->buf, c->size);
	c->group = c->container = -1;
	c->buf = NULL;
}

/* The id of the newest container this process owns, from the JSON dump; 0 if none. */
static unsigned long my_container(void)
{
	char out[64];

	if (pyjson(out, sizeof(out), "",
		   "max([c[\"id\"] for c in d[\"containers\"] if c[\"owner_tgid\"] == me] or [0])"))
		return 0;
	return strtoul(out, NULL, 10);
}

FIXTURE(nl) {
	struct ctr c;
};

FIXTURE_SETUP(nl)
{
	self->c.container = self->c.group = -1;
	self->c.buf = NULL;
	if (!tool_path())
		SKIP(return, "vfio-cxx-stat not built (make tool)");
	ASSERT_EQ(0, sh(NULL, 0, "python3 -c 'import json'")) TH_LOG("python3 is needed");
	ASSERT_NE(NULL, getenv("VFIO_CXX_GROUP"));
}

FIXTURE_TEARDOWN(nl)
{
	close_container(&self->c);
}

/* A container with a group and two mappings: 16 pages rw at 1 MiB, 4 pages r at 4 MiB. */
static int setup_mapped(struct ctr *c, unsigned long type)
{
	if (open_container(c, type))
		return -1;
	c->size = 32 * PG;
	c->buf = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->buf == MAP_FAILED) {
		c->buf = NULL;
		return -1;
	}
	memset(c->buf, 1, c->size);
	if (map(c, 0x100000, 0, 16 * PG, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -1;
	return map(c, 0x400000, 16 * PG, 4 * PG, VFIO_DMA_MAP_FLAG_READ);
}

TEST_F(nl, get_stats)
{
	char out[256], dbg[64];

	ASSERT_EQ(0, pyjson(out, sizeof(out), "--stats",
			    "d[\"version\"], sorted(d[\"stats\"]).count(\"containers_live\"), "
			    "d[\"stats\"][\"containers_live\"]"));
	ASSERT_EQ(0, sh(dbg, sizeof(dbg),
			"awk '$1==\"containers_live\"{print $2}' /sys/kernel/debug/vfio_iommu_cxx/stats"));
	char want[128];
	snprintf(want, sizeof(want), "1 1 %s", dbg);
	ASSERT_STREQ(want, out);
	/* The human form too. */
	ASSERT_EQ(0, sh(out, sizeof(out), "%s --stats | grep -c '^containers_opened '", tool));
	ASSERT_STREQ("1", out);
}

TEST_F(nl, get_stats_counts_live_mappings)
{
	char out[128];

	ASSERT_EQ(0, setup_mapped(&self->c, VFIO_CXX_IOMMU));
	ASSERT_EQ(0, pyjson(out, sizeof(out), "--stats",
			    "d[\"stats\"][\"dmas_live\"] >= 2, d[\"stats\"][\"pages_pinned\"] >= 20"));
	ASSERT_STREQ("True True", out);
}

/* GET_CONTAINER dump: the numbers are what this process did. */
static void check_dump(struct __test_metadata *_metadata, struct ctr *c, const char *type)
{
	char out[512], want[512];
	unsigned long id = my_container();

	ASSERT_NE(0UL, id);
	ASSERT_EQ(0, pyjson(out, sizeof(out), "",
			    "[(c[\"type\"], c[\"owner_uid\"], c[\"groups\"], c[\"group_ids\"], c[\"domains\"], "
			    "c[\"mappings\"], c[\"mapped_bytes\"], c[\"pages_pinned\"], c[\"locked_pages\"], "
			    "c[\"external_pages\"], c[\"orphaned_mappings\"], len(c[\"mm_id\"])) "
			    "for c in d[\"containers\"] if c[\"owner_tgid\"] == me][-1]"));
	snprintf(want, sizeof(want), "('%s', 0, 1, [%s], 1, 2, %lu, 20, 20, 0, 0, 16)", type,
		 getenv("VFIO_CXX_GROUP"), 20 * PG);
	ASSERT_STREQ(want, out);
}

TEST_F(nl, get_container_dump_cxx)
{
	ASSERT_EQ(0, setup_mapped(&self->c, VFIO_CXX_IOMMU));
	check_dump(_metadata, &self->c, "cxx");
}

TEST_F(nl, get_container_dump_type1v2)
{
	ASSERT_EQ(0, setup_mapped(&self->c, VFIO_TYPE1v2_IOMMU));
	check_dump(_metadata, &self->c, "type1v2");
}

/* GET_CONTAINER by id and GET_MAPPINGS: each mapping as mapped. */
TEST_F(nl, get_container_and_mappings)
{
	char args[64], out[1024], want[1024];
	unsigned long id;

	ASSERT_EQ(0, setup_mapped(&self->c, VFIO_CXX_IOMMU));
	id = my_container();
	ASSERT_NE(0UL, id);
	snprintf(args, sizeof(args), "-c %lu", id);
	ASSERT_EQ(0, pyjson(out, sizeof(out), args,
			    "d[\"container\"][\"id\"], [(m[\"iova\"], m[\"size\"], m[\"vaddr\"], m[\"prot\"], "
			    "m[\"pages_pinned\"], m[\"locked_pages\"], m[\"iommu_mapped\"], "
			    "m[\"mm_id\"] == d[\"container\"][\"mm_id\"]) for m in d[\"mappings\"]]"));
	snprintf(want, sizeof(want),
		 "%lu [(1048576, 65536, %lu, 'rw', 16, 16, True, True), "
		 "(4194304, 16384, %lu, 'r-', 4, 4, True, True)]",
		 id, (unsigned long)self->c.buf, (unsigned long)self->c.buf + 16 * PG);
	ASSERT_STREQ(want, out);
	/* The human forms name the container and its mappings. */
	ASSERT_EQ(0, sh(out, sizeof(out), "%s | awk '$1==%lu{print $2}'", tool, id));
	snprintf(want, sizeof(want), "%d", getpid());
	ASSERT_STREQ(want, out);
	ASSERT_EQ(0, sh(out, sizeof(out), "%s -c %lu | grep -c '^0x0000000000[14]00000 '", tool, id));
	ASSERT_STREQ("2", out);
}

TEST_F(nl, unmap_shows_in_the_dump)
{
	char out[64];
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = 0x100000, .size = 16 * PG };

	ASSERT_EQ(0, setup_mapped(&self->c, VFIO_CXX_IOMMU));
	ASSERT_EQ(0, ioctl(self->c.container, VFIO_IOMMU_UNMAP_DMA, &u));
	ASSERT_EQ(0, pyjson(out, sizeof(out), "",
			    "[(c[\"mappings\"], c[\"pages_pinned\"], c[\"locked_pages\"]) "
			    "for c in d[\"containers\"] if c[\"owner_tgid\"] == me][-1]"));
	ASSERT_STREQ("(1, 4, 4)", out);
}

static int prereg(struct ctr *c, unsigned long off, unsigned long size, int reg)
{
	return prereg_ioctl(c->container, reg ? VFIO_CXX_REGISTER_MEMORY : VFIO_CXX_UNREGISTER_MEMORY,
			    (char *)c->buf + off, size, 0);
}

/*
 * GET_PREREGS through -c: two regions (registered out of vaddr order), one
 * with a mapping inside, in vaddr order with their sizes and users; then
 * one unregistered.
 */
TEST_F(nl, get_preregs)
{
	const char *expr =
		"[(p[\"vaddr\"], p[\"size\"], p[\"pages_pinned\"], p[\"users\"], "
		"p[\"mm_id\"] == d[\"container\"][\"mm_id\"]) for p in d[\"preregs\"]], "
		"d[\"container\"][\"prereg_pages\"], len(d[\"mappings\"])";
	char args[64], out[1024], want[1024];
	unsigned long id, va;

	ASSERT_EQ(0, open_container(&self->c, VFIO_CXX_IOMMU));
	self->c.size = 32 * PG;
	self->c.buf = mmap(NULL, self->c.size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->c.buf);
	memset(self->c.buf, 1, self->c.size);
	va = (unsigned long)self->c.buf;
	ASSERT_EQ(0, prereg(&self->c, 16 * PG, 4 * PG, 1));
	ASSERT_EQ(0, prereg(&self->c, 0, 8 * PG, 1));
	/* Inside the first region: backed by it. */
	ASSERT_EQ(0, map(&self->c, 0x100000, 2 * PG, 4 * PG,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	id = my_container();
	ASSERT_NE(0UL, id);
	snprintf(args, sizeof(args), "-c %lu", id);
	ASSERT_EQ(0, pyjson(out, sizeof(out), args, expr));
	snprintf(want, sizeof(want), "[(%lu, %lu, 8, 1, True), (%lu, %lu, 4, 0, True)] 12 1",
		 va, 8 * PG, va + 16 * PG, 4 * PG);
	ASSERT_STREQ(want, out);
	/* The human form lists them too. */
	ASSERT_EQ(0, sh(out, sizeof(out), "%s -c %lu | grep -c '^0x%016lx '", tool, id,
			va + 16 * PG));
	ASSERT_STREQ("1", out);
	ASSERT_EQ(0, sh(out, sizeof(out), "%s -c %lu | grep -c '^2 preregistered regions$'", tool,
			id));
	ASSERT_STREQ("1", out);

	/* The used region cannot go; the other one can, and leaves the listing. */
	ASSERT_EQ(-EBUSY, prereg(&self->c, 0, 8 * PG, 0));
	ASSERT_EQ(0, prereg(&self->c, 16 * PG, 4 * PG, 0));
	ASSERT_EQ(0, pyjson(out, sizeof(out), args, expr));
	snprintf(want, sizeof(want), "[(%lu, %lu, 8, 1, True)] 8 1", va, 8 * PG);
	ASSERT_STREQ(want, out);
}

TEST_F(nl, no_such_container)
{
	char out[256];

	ASSERT_EQ(4, sh(out, sizeof(out), "%s -c 999999999 2>&1", tool));
	ASSERT_NE(NULL, strstr(out, "no container 999999999")) TH_LOG("%s", out);
	ASSERT_EQ(4, sh(NULL, 0, "%s --json -c 999999999 2>/dev/null", tool));
}

/* Starts `tool --watch --json --count n --timeout 30` and waits until it listens. */
static pid_t start_watch(int n, const char *outfile)
{
	char errfile[PATH_MAX], cnt[16];
	pid_t pid;

	snprintf(errfile, sizeof(errfile), "%s.err", outfile);
	snprintf(cnt, sizeof(cnt), "%d", n);
	unlink(errfile);
	pid = fork();
	if (pid == 0) {
		int o = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(o, 1);
		dup2(e, 2);
		execl(tool, tool, "--watch", "--json", "--count", cnt, "--timeout", "30", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		char buf[256] = "";
		int fd = open(errfile, O_RDONLY);

		if (fd >= 0) {
			ssize_t r = read(fd, buf, sizeof(buf) - 1);

			close(fd);
			if (r > 0 && strstr(buf, "watching"))
				return pid;
			if (r > 0 && strstr(buf, "vfio-cxx-stat:"))
				break;
		}
		usleep(50000);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

TEST_F(nl, events_created_released)
{
	const char *f = "/tmp/vfio_cxx_nl_events.json";
	char out[512], want[512], py[512];
	pid_t w = start_watch(2, f);

	ASSERT_LT(0, w);
	ASSERT_EQ(0, open_container(&self->c, VFIO_CXX_IOMMU));
	close_container(&self->c);
	ASSERT_EQ(0, wait_status(w));
	snprintf(py, sizeof(py),
		 "python3 -c 'import json; e=[json.loads(l) for l in open(\"%s\")]; "
		 "print([x[\"event\"] for x in e], e[0][\"container\"] == e[1][\"container\"], "
		 "[x[\"owner_tgid\"] for x in e])'", f);
	ASSERT_EQ(0, sh(out, sizeof(out), "%s", py));
	snprintf(want, sizeof(want), "['container_created', 'container_released'] True [%d, %d]",
		 getpid(), getpid());
	ASSERT_STREQ(want, out);
}

TEST_F(nl, event_memlock_denied)
{
	const char *f = "/tmp/vfio_cxx_nl_memlock.json";
	char out[512], want[512], py[512];
	pid_t w = start_watch(3, f), child;

	ASSERT_LT(0, w);
	child = fork();
	if (child == 0) {
		struct rlimit rl = { 16 * PG, 16 * PG };
		struct ctr c;

		if (drop_cap_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		if (open_container(&c, VFIO_CXX_IOMMU))
			_exit(11);
		c.size = 64 * PG;
		c.buf = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c.buf == MAP_FAILED)
			_exit(12);
		if (map(&c, 0x100000, 0, 64 * PG, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) != -ENOMEM)
			_exit(13);
		close_container(&c);
		_exit(0);
	}
	ASSERT_EQ(0, wait_status(child));
	ASSERT_EQ(0, wait_status(w));
	snprintf(py, sizeof(py),
		 "python3 -c 'import json; e=[json.loads(l) for l in open(\"%s\")]; "
		 "print([x[\"event\"] for x in e], e[1][\"pages\"], e[1][\"limit_pages\"], "
		 "e[1][\"owner_tgid\"])'", f);
	ASSERT_EQ(0, sh(out, sizeof(out), "%s", py));
	snprintf(want, sizeof(want), "['container_created', 'memlock_denied', 'container_released'] 64 16 %d",
		 child);
	ASSERT_STREQ(want, out);
}

static int become_nobody(void)
{
	return setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY) ? -1 : 0;
}

/* A plain user sees none of root's containers, gets EPERM for one, cannot watch. */
TEST_F(nl, unprivileged_sees_no_root_container)
{
	char out[512];
	unsigned long id;
	pid_t child;

	ASSERT_EQ(0, setup_mapped(&self->c, VFIO_CXX_IOMMU));
	id = my_container();
	ASSERT_NE(0UL, id);
	child = fork();
	if (child == 0) {
		if (become_nobody())
			_exit(10);
		if (pyjson(out, sizeof(out), "", "len(d[\"containers\"])") || strcmp(out, "0"))
			_exit(11);
		if (sh(out, sizeof(out), "%s -c %lu 2>&1", tool, id) != 3 ||
		    !strstr(out, "permission denied"))
			_exit(12);
		if (sh(out, sizeof(out), "%s --watch --timeout 1 2>&1", tool) != 3 ||
		    !strstr(out, "permission denied"))
			_exit(13);
		if (sh(out, sizeof(out), "%s | head -1", tool) || !strstr(out, "no containers of yours"))
			_exit(14);
		/* GET_STATS is open to everyone. */
		if (pyjson(out, sizeof(out), "--stats", "d[\"stats\"][\"containers_live\"] >= 1") ||
		    strcmp(out, "True"))
			_exit(15);
		_exit(0);
	}
	ASSERT_EQ(0, wait_status(child));
}

/* A plain user's own container is visible to it, in full. */
TEST_F(nl, unprivileged_sees_own_container)
{
	char path[64];
	struct stat st;
	pid_t child;

	snprintf(path, sizeof(path), "/dev/vfio/%s", getenv("VFIO_CXX_GROUP"));
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(0, chown(path, NOBODY, NOBODY));
	child = fork();
	if (child == 0) {
		char out[512], args[64];
		struct ctr c;
		unsigned long id;
		/* An unprivileged user's RLIMIT_MEMLOCK may be small: 1 MiB. */
		struct rlimit rl = { 256 * PG, 256 * PG };

		if (setrlimit(RLIMIT_MEMLOCK, &rl) || become_nobody())
			_exit(10);
		if (setup_mapped(&c, VFIO_TYPE1v2_IOMMU))
			_exit(11);
		id = my_container();
		if (!id)
			_exit(12);
		if (pyjson(out, sizeof(out), "",
			   "[(c[\"owner_uid\"], c[\"mappings\"]) for c in d[\"containers\"]]") ||
		    strcmp(out, "[(65534, 2)]"))
			_exit(13);
		snprintf(args, sizeof(args), "-c %lu", id);
		if (pyjson(out, sizeof(out), args, "len(d[\"mappings\"])") || strcmp(out, "2"))
			_exit(14);
		close_container(&c);
		_exit(0);
	}
	int status = wait_status(child);

	if (chown(path, st.st_uid, st.st_gid))
		TH_LOG("cannot give %s back to %u", path, st.st_uid);
	ASSERT_EQ(0, status) TH_LOG("child step %d failed", status);
}

/*
 * With the module unloaded, the tool says so; then the DKMS-installed
 * module, if any, loads with modprobe and answers; last the lane's module
 * is loaded again for the rest of the boot.
 */
TEST_F(nl, module_unloaded_then_dkms)
{
	const char *ko = getenv("VFIO_CXX_KO");
	char out[512], kver[128], path[512];
	int dkms, r;

	if (!ko)
		SKIP(return, "VFIO_CXX_KO is not set: cannot reload the module");
	ASSERT_EQ(0, sh(NULL, 0, "rmmod vfio_iommu_cxx 2>/dev/null")) TH_LOG("rmmod failed (in use?)");
	ASSERT_FALSE(module_loaded());
	r = sh(out, sizeof(out), "%s 2>&1", tool);
	EXPECT_EQ(2, r);
	EXPECT_NE(NULL, strstr(out, "vfio_iommu_cxx is not loaded")) TH_LOG("%s", out);

	ASSERT_EQ(0, sh(kver, sizeof(kver), "uname -r"));
	snprintf(path, sizeof(path), "/lib/modules/%s/updates/dkms/vfio_iommu_cxx.ko", kver);
	dkms = access(path, F_OK) == 0;
	if (!dkms) {
		snprintf(path, sizeof(path), "/lib/modules/%s/updates/dkms/vfio_iommu_cxx.ko.xz", kver);
		dkms = access(path, F_OK) == 0;
	}
	if (dkms) {
		int fd;

		EXPECT_EQ(0, sh(out, sizeof(out), "modinfo -n vfio_iommu_cxx"));
		EXPECT_NE(NULL, strstr(out, "/updates/dkms/")) TH_LOG("modinfo -n: %s", out);
		EXPECT_EQ(0, sh(NULL, 0, "modprobe vfio_iommu_cxx"));
		EXPECT_TRUE(module_loaded());
		fd = open("/dev/vfio/vfio", O_RDWR);
		EXPECT_LE(0, fd);
		EXPECT_EQ(1, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_CXX_IOMMU));
		close(fd);
		EXPECT_EQ(0, pyjson(out, sizeof(out), "--stats", "d[\"stats\"][\"containers_live\"]"));
		EXPECT_STREQ("0", out);
		EXPECT_EQ(0, sh(NULL, 0, "rmmod vfio_iommu_cxx"));
	}
	ASSERT_EQ(0, sh(NULL, 0, "insmod %s", ko));
	ASSERT_TRUE(module_loaded());
	if (!dkms)
		SKIP(return, "no DKMS-installed vfio_iommu_cxx for %s (make dkms-install)", kver);
}

TEST_HARNESS_MAIN
