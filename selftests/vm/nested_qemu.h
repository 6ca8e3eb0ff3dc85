/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A nested QEMU driven through qtest and QMP, for the VM suites that run a
 * real VFIO client (qemu_client_test: x86 q35; pseries_test: ppc64
 * pseries): the process and its sockets (qemu_prepare, qemu_launch,
 * qemu_stop), the qtest protocol (docs/devel/qtest.rst: qt(), ram_read,
 * ram_write), QMP (qmp()), QEMU's log, the kernel log, and the
 * vfio-cxx-stat view of the containers (stat_scan).
 *
 * Include after kselftest_harness.h and vm_util.h.
 */
#ifndef VFIO_CXX_NESTED_QEMU_H
#define VFIO_CXX_NESTED_QEMU_H

#include <poll.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/wait.h>

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline long read_long(const char *path)
{
	char buf[64];

	if (read_str(path, buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

/* ------------------------------------------------------------------ */
/* the nested QEMU                                                      */

struct qemu {
	pid_t pid;
	int qt, qmp;		/* qtest and QMP connections */
	char dir[64];		/* sockets and qemu.log */
	char rbuf[32768];	/* qtest line buffer */
	size_t rlen;
	char mbuf[16384];	/* QMP line buffer */
	size_t mlen;
	int devfn;		/* the edu on nested bus 0 */
	uint64_t bar0;
};

static inline int listen_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1)) {
		close(s);
		return -1;
	}
	return s;
}

/* Accepts one connection within ms milliseconds, or -1 (QEMU died: child gone). */
static inline int accept_within(int s, pid_t pid, int ms)
{
	double end = now() + ms / 1000.0;

	while (now() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		int st;

		if (poll(&p, 1, 200) == 1)
			return accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
	}
	return -1;
}

/* One line from fd into buf/len (line without "\n" into out); 0, or -1 on EOF/timeout. */
static inline int read_line(int fd, char *buf, size_t cap, size_t *len, char *out, size_t outcap,
		     int ms)
{
	double end = now() + ms / 1000.0;

	for (;;) {
		char *nl = memchr(buf, '\n', *len);

		if (nl) {
			size_t n = nl - buf;

			if (n >= outcap)
				n = outcap - 1;
			memcpy(out, buf, n);
			out[n] = 0;
			*len -= nl + 1 - buf;
			memmove(buf, nl + 1, *len);
			return 0;
		}
		if (*len == cap)
			return -1;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((end - now()) * 1000);

		if (left <= 0 || poll(&p, 1, left) != 1)
			return -1;
		ssize_t r = read(fd, buf + *len, cap - *len);

		if (r <= 0)
			return -1;
		*len += r;
	}
}

static char qt_reply[32768];

/*
 * One qtest command (printf format, without the newline); the reply after
 * "OK" (possibly empty) in qt_reply.  0, or -1 if QEMU said FAIL or went away.
 */
static inline int qt(struct qemu *q, const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd) - 1)
		return -1;
	cmd[n++] = '\n';
	if (write(q->qt, cmd, n) != n)
		return -1;
	for (;;) {
		if (read_line(q->qt, q->rbuf, sizeof(q->rbuf), &q->rlen, qt_reply, sizeof(qt_reply),
			      30000))
			return -1;
		if (!strncmp(qt_reply, "IRQ", 3))
			continue;
		if (strncmp(qt_reply, "OK", 2)) {
			if (getenv("QCT_DEBUG"))
				fprintf(stderr, "qtest: %.60s -> %.200s\n", cmd, qt_reply);
			return -1;
		}
		memmove(qt_reply, qt_reply + 2 + (qt_reply[2] == ' '), strlen(qt_reply) - 1);
		return 0;
	}
}

static inline uint64_t qt_val(void)
{
	return strtoull(qt_reply, NULL, 0);
}

static char qmp_reply[16384];

/*
 * One QMP command (a JSON object); its reply line in qmp_reply, events
 * skipped.  0 on {"return": ...}, -1 on an error or EOF.
 */
static inline int qmp(struct qemu *q, const char *json)
{
	size_t n = strlen(json);

	if (write(q->qmp, json, n) != (ssize_t)n || write(q->qmp, "\n", 1) != 1)
		return -1;
	for (;;) {
		if (read_line(q->qmp, q->mbuf, sizeof(q->mbuf), &q->mlen, qmp_reply,
			      sizeof(qmp_reply), 30000))
			return -1;
		if (strstr(qmp_reply, "\"event\""))
			continue;
		return strstr(qmp_reply, "\"return\"") ? 0 : -1;
	}
}

static inline void qemu_init(struct qemu *q)
{
	memset(q, 0, sizeof(*q));
	q->pid = -1;
	q->qt = q->qmp = -1;
	q->devfn = -1;
}

/* The tail of QEMU's log (for TH_LOG on failure). */
static inline const char *qemu_log(struct qemu *q)
{
	static char buf[2048];
	char path[96];
	int fd;
	ssize_t n;
	off_t sz;

	buf[0] = 0;
	snprintf(path, sizeof(path), "%s/qemu.log", q->dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	sz = lseek(fd, 0, SEEK_END);
	lseek(fd, sz > (off_t)sizeof(buf) - 1 ? sz - (off_t)sizeof(buf) + 1 : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* Whether QEMU's log has a line containing s: 1, 0, or -1 (no log). */
static inline int qemu_log_has(struct qemu *q, const char *s)
{
	char path[96], line[1024];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/qemu.log", q->dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, s))
			found = 1;
	fclose(f);
	return found;
}

/*
 * A fresh state and a private directory /tmp/<tag>.XXXXXX for the sockets,
 * qemu.log and whatever the caller puts there (a firmware).  0 or -1.
 */
static inline int qemu_prepare(struct qemu *q, const char *tag)
{
	qemu_init(q);
	snprintf(q->dir, sizeof(q->dir), "/tmp/%s.XXXXXX", tag);
	return mkdtemp(q->dir) ? 0 : -1;
}

/*
 * Starts bin with the qtest and QMP plumbing (sockets in q->dir, which
 * qemu_prepare made), -display none, -nodefaults, then args (NULL
 * terminated); stdout and stderr go to q->dir/qemu.log.  Connects qtest
 * and QMP.  0 or a negative step (-3 .. -8).
 */
static inline int qemu_launch(struct qemu *q, const char *bin, const char *const *args)
{
	char qts[96], qms[96], logp[96], qtarg[128], chr[160];
	const char *argv[64];
	int n = 0, ls_qt, ls_qmp, log;

	snprintf(qts, sizeof(qts), "%s/qtest.sock", q->dir);
	snprintf(qms, sizeof(qms), "%s/qmp.sock", q->dir);
	snprintf(logp, sizeof(logp), "%s/qemu.log", q->dir);
	ls_qt = listen_unix(qts);
	ls_qmp = listen_unix(qms);
	if (ls_qt < 0 || ls_qmp < 0)
		return -3;
	snprintf(qtarg, sizeof(qtarg), "unix:%s", qts);
	snprintf(chr, sizeof(chr), "socket,path=%s,id=qmp0", qms);
	argv[n++] = bin;
	argv[n++] = "-qtest";
	argv[n++] = qtarg;
	argv[n++] = "-qtest-log";
	argv[n++] = "/dev/null";
	argv[n++] = "-chardev";
	argv[n++] = chr;
	argv[n++] = "-mon";
	argv[n++] = "chardev=qmp0,mode=control";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-nodefaults";
	for (int i = 0; args && args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	log = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	q->pid = fork();
	if (q->pid < 0)
		return -4;
	if (!q->pid) {
		/* Never outlive the test (a timeout kills it). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	if (log >= 0)
		close(log);
	q->qt = accept_within(ls_qt, q->pid, 60000);
	close(ls_qt);
	if (q->qt < 0) {
		close(ls_qmp);
		return -5;
	}
	q->qmp = accept_within(ls_qmp, q->pid, 60000);
	close(ls_qmp);
	if (q->qmp < 0)
		return -6;
	if (read_line(q->qmp, q->mbuf, sizeof(q->mbuf), &q->mlen, qmp_reply, sizeof(qmp_reply),
		      30000) || !strstr(qmp_reply, "QMP"))
		return -7;
	if (qmp(q, "{\"execute\": \"qmp_capabilities\"}"))
		return -8;
	return 0;
}

/* Waits for QEMU to exit within ms; its wait status, or -1. */
static inline int qemu_wait(struct qemu *q, int ms)
{
	double end = now() + ms / 1000.0;
	int st;

	while (q->pid > 0 && now() < end) {
		if (waitpid(q->pid, &st, WNOHANG) == q->pid) {
			q->pid = -1;
			return st;
		}
		usleep(10000);
	}
	return -1;
}

static inline void qemu_close_fds(struct qemu *q)
{
	if (q->qt >= 0)
		close(q->qt);
	if (q->qmp >= 0)
		close(q->qmp);
	q->qt = q->qmp = -1;
}

/* Kills (if still running) and reaps QEMU, removes its directory and what is in it. */
static inline void qemu_stop(struct qemu *q)
{
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
		q->pid = -1;
	}
	qemu_close_fds(q);
	if (q->dir[0]) {
		DIR *d = opendir(q->dir);
		struct dirent *de;
		char path[384];

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", q->dir, de->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
		rmdir(q->dir);
		q->dir[0] = 0;
	}
}
/* Nested RAM: write/read len bytes at gpa (hex, through qtest). */
static inline int ram_write(struct qemu *q, uint64_t gpa, const unsigned char *p, size_t len)
{
	static char hex[2 * 8192 + 1];

	if (len > 8192)
		return -1;
	for (size_t i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", p[i]);
	return qt(q, "write 0x%llx 0x%zx 0x%s", (unsigned long long)gpa, len, hex);
}

static inline int ram_read(struct qemu *q, uint64_t gpa, unsigned char *p, size_t len)
{
	const char *h;

	if (qt(q, "read 0x%llx 0x%zx", (unsigned long long)gpa, len))
		return -1;
	h = qt_reply;
	if (h[0] != '0' || h[1] != 'x' || strlen(h) != 2 + 2 * len)
		return -1;
	h += 2;
	for (size_t i = 0; i < len; i++) {
		unsigned int b;

		if (sscanf(h + 2 * i, "%2x", &b) != 1)
			return -1;
		p[i] = (unsigned char)b;
	}
	return 0;
}

static inline void pattern(unsigned char *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

/* ------------------------------------------------------------------ */
/* vfio-cxx-stat                                                        */

/* `vfio-cxx-stat --json` as a stream (NULL: the tool is missing or failed to start). */
static inline FILE *stat_json_open(void)
{
	char tool[PATH_MAX], cmd[PATH_MAX + 32];

	if (!vfio_cxx_stat_path(tool, sizeof(tool)))
		return NULL;
	snprintf(cmd, sizeof(cmd), "%s --json", tool);
	return popen(cmd, "r");
}

/* 0 when the tool exited 0, else -1. */
static inline int stat_json_close(FILE *f)
{
	int rc = pclose(f);

	return WIFEXITED(rc) && !WEXITSTATUS(rc) ? 0 : -1;
}

/*
 * `vfio-cxx-stat --json`, one container per line.  Returns the number of
 * containers listed, or -1 (the tool failed or is missing).  With tgid > 0,
 * the figures of the one tgid owns go to *mappings, *locked, *groups and
 * *domains.
 */
static inline int stat_scan(pid_t tgid, int *owned, long *mappings, long *locked, long *groups,
		     long *domains)
{
	char line[1024], key[32];
	int n = 0;
	FILE *f = stat_json_open();

	if (!f)
		return -1;
	snprintf(key, sizeof(key), "\"owner_tgid\": %d,", (int)tgid);
	*owned = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (!strstr(line, "\"owner_tgid\""))
			continue;
		n++;
		if (tgid <= 0 || !strstr(line, key))
			continue;
		*owned = 1;
		p = strstr(line, "\"mappings\": ");
		*mappings = p ? atol(p + 12) : -1;
		p = strstr(line, "\"locked_pages\": ");
		*locked = p ? atol(p + 16) : -1;
		p = strstr(line, "\"groups\": ");
		*groups = p ? atol(p + 10) : -1;
		p = strstr(line, "\"domains\": ");
		*domains = p ? atol(p + 11) : -1;
	}
	return stat_json_close(f) ? -1 : n;
}

/* The container tgid owns: 1 (listed, figures set), 0 (not listed), -1. */
static inline int stat_container_of(pid_t tgid, long *mappings, long *locked, long *groups)
{
	long domains;
	int owned;

	if (stat_scan(tgid, &owned, mappings, locked, groups, &domains) < 0)
		return -1;
	return owned;
}

/* The number of IOMMU domains of the container tgid owns; -1 if not listed. */
static inline long stat_domains_of(pid_t tgid)
{
	long m, l, g, domains = -1;
	int owned;

	if (stat_scan(tgid, &owned, &m, &l, &g, &domains) < 0 || !owned)
		return -1;
	return domains;
}

/* The number of containers `vfio-cxx-stat --json` lists; -1 on failure. */
static inline int stat_containers(void)
{
	long unused;
	int owned;

	return stat_scan(0, &owned, &unused, &unused, &unused, &unused);
}

/*
 * The line of `vfio-cxx-stat --json` for the container tgid owns, into
 * line: 1, 0 (not listed) or -1 (the tool failed or is missing).
 */
static inline int stat_line_of(pid_t tgid, char *line, size_t len)
{
	char key[32], buf[1024];
	int found = 0;
	FILE *f = stat_json_open();

	if (!f)
		return -1;
	snprintf(key, sizeof(key), "\"owner_tgid\": %d,", (int)tgid);
	while (fgets(buf, sizeof(buf), f))
		if (!found && strstr(buf, key)) {
			snprintf(line, len, "%s", buf);
			found = 1;
		}
	return stat_json_close(f) ? -1 : found;
}

/* A number of that line ("mappings", "prereg_pages", ...); -1 when not listed. */
static inline long stat_field_of(pid_t tgid, const char *field)
{
	char line[1024], key[64];
	const char *p;

	if (stat_line_of(tgid, line, sizeof(line)) != 1)
		return -1;
	snprintf(key, sizeof(key), "\"%s\": ", field);
	p = strstr(line, key);
	return p ? atol(p + strlen(key)) : -1;
}

/* Whether that container's "type" is name: 1, 0, or -1 when not listed. */
static inline int stat_type_of(pid_t tgid, const char *name)
{
	char line[1024], key[64];

	if (stat_line_of(tgid, line, sizeof(line)) != 1)
		return -1;
	snprintf(key, sizeof(key), "\"type\": \"%s\"", name);
	return strstr(line, key) != NULL;
}

/* How many lines of the kernel log contain s (dmesg); -1 on failure. */
static inline int dmesg_count(const char *s)
{
	char line[512];
	int n = 0;
	FILE *f = popen("dmesg", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, s))
			n++;
	pclose(f);
	return n;
}

/* Whether the kernel log has a line containing s (dmesg): 1, 0 or -1. */
static inline int dmesg_has(const char *s)
{
	int n = dmesg_count(s);

	return n < 0 ? -1 : n > 0;
}

#endif
