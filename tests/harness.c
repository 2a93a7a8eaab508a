/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * The harness of the C unit tests (see harness.h).
 */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define REASON_MAX	512

static char reason[REASON_MAX];

/* ---- failure reason ---- */

int
fail(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(reason, sizeof(reason), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(reason + n, sizeof(reason) - n, fmt, ap);
	va_end(ap);
	return -1;
}

const char *
fail_reason(void)
{
	return reason;
}

void
fail_clear(void)
{
	reason[0] = '\0';
}

/* ---- reporting ---- */

int
tally_report(struct tally *t, const char *name, int rc, const char *why)
{
	if (rc == 0) {
		printf("ok - %s\n", name);
		t->passed++;
	} else {
		printf("not ok - %s\n# %s\n", name, why);
		t->failed++;
	}
	fflush(stdout);
	return rc == 0 ? 0 : -1;
}

int
tally_done(const struct tally *t)
{
	printf("# %u passed, %u failed\n", t->passed, t->failed);
	return t->failed != 0;
}

/* ---- one check in a child ---- */

/* Report @name failed because @what failed (errno). */
static int
report_errno(struct tally *t, const char *name, const char *what)
{
	char why[REASON_MAX];

	snprintf(why, sizeof(why), "%s: %s", what, strerror(errno));
	return tally_report(t, name, -1, why);
}

/* Read from @fd until EOF into @buf (at most @len - 1 bytes, then NUL). */
static void
read_reason(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
}

/* The child: run the check, hand a failure's reason to the parent on
 * @wfd, exit 0 if it passed, 1 if not.
 */
static void __attribute__((noreturn))
child_run(check_fn fn, const void *arg, int wfd)
{
	int rc;

	alarm(CHECK_TIMEOUT_S);
	rc = fn(arg);
	fflush(stdout);
	if (rc != 0 && write(wfd, reason, strlen(reason)) < 0)
		rc = 1;
	_exit(rc == 0 ? 0 : 1);
}

/* 0 if the child's wait @status says it passed; else -1 and, unless the
 * child sent one, a reason in @why.
 */
static int
child_result(int status, char *why, size_t len)
{
	if (WIFSIGNALED(status)) {
		snprintf(why, len, "killed by signal %d (%s)%s",
			WTERMSIG(status), strsignal(WTERMSIG(status)),
			WTERMSIG(status) == SIGALRM ? ": timeout" : "");
		return -1;
	}
	if (WEXITSTATUS(status) == 0)
		return 0;
	if (why[0] != '\0')
		return -1;
	if (WEXITSTATUS(status) == 1)
		snprintf(why, len, "failed without a reason");
	else
		snprintf(why, len, "exited with status %d",
			WEXITSTATUS(status));
	return -1;
}

int
run_check(struct tally *t, const char *name, check_fn fn, const void *arg)
{
	char why[REASON_MAX];
	int p[2], status;
	pid_t pid;

	if (pipe(p) < 0)
		return report_errno(t, name, "pipe");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child_run(fn, arg, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return report_errno(t, name, "fork");
	}
	read_reason(p[0], why, sizeof(why));
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return report_errno(t, name, "waitpid");
	return tally_report(t, name, child_result(status, why, sizeof(why)),
		why);
}

void
run_checks(struct tally *t, const struct check *c, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		run_check(t, c[i].name, c[i].fn, c[i].arg);
}

/* ---- fds ---- */

ssize_t
send_fds(int sock, const struct iovec *iov, unsigned int niov,
		const int *fds, unsigned int nfds)
{
	char control[CMSG_SPACE(HARNESS_MAX_FDS * sizeof(int))];
	struct msghdr mh = {
		.msg_iov = (struct iovec *)(uintptr_t)iov, .msg_iovlen = niov,
	};
	struct cmsghdr *cm;

	if (nfds > HARNESS_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

int
send_raw(int sock, const void *buf, size_t len, const int *fds,
		unsigned int nfds, bool close_fds)
{
	struct iovec iov = {
		.iov_base = (void *)(uintptr_t)buf, .iov_len = len,
	};
	unsigned int i;
	ssize_t ret;

	if (nfds > HARNESS_MAX_FDS)
		return FAIL("%u fds: test limit is %u", nfds, HARNESS_MAX_FDS);
	ret = send_fds(sock, &iov, 1, fds, nfds);
	for (i = 0; close_fds && i < nfds; i++)
		close(fds[i]);
	if (ret != (ssize_t)len)
		return FAIL("sendmsg: %s", ret < 0 ? strerror(errno) : "short");
	return 0;
}

int
new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	return fd < 0 ? FAIL("eventfd: %s", strerror(errno)) : fd;
}

int
make_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return FAIL("memfd_create: %s", strerror(errno));
	if (ftruncate(fd, size) < 0) {
		close(fd);
		return FAIL("ftruncate: %s", strerror(errno));
	}
	return fd;
}

int
map_memfd(const char *name, uint64_t size, uint8_t **mem)
{
	int fd = make_memfd(name, size);
	void *m;

	if (fd < 0)
		return -1;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return FAIL("mmap: %s", strerror(errno));
	}
	*mem = m;
	return fd;
}

int
new_socketpair(int type, int sv[2])
{
	if (socketpair(AF_UNIX, type, 0, sv) < 0)
		return FAIL("socketpair: %s", strerror(errno));
	return 0;
}

int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return FAIL("opendir /proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
