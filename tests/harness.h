/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

/**
 * @file
 * The small harness the C unit tests share: the reason the running check
 * failed and the macros that record it, the "ok - <name>" / "not ok -
 * <name>" + "# <reason>" lines and their tally, running one check in a
 * child process under an alarm, and fd helpers (sendmsg with SCM_RIGHTS,
 * eventfds, memfds, socketpairs, counting open fds).
 *
 * Helpers that can fail record why with FAIL() and return -1.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/** Seconds a check run by run_check() may take before SIGALRM ends it. */
#define CHECK_TIMEOUT_S		20
/** Most fds send_fds() and send_raw() attach to one message. */
#define HARNESS_MAX_FDS		16u

/** Record "line @line: <message>" as the reason of the check; always -1. */
int fail(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** The reason last recorded, "" if none. */
const char *fail_reason(void);
/** Forget the recorded reason. */
void fail_clear(void);

#define FAIL(...)	fail(__LINE__, __VA_ARGS__)
/* In checks with cleanup: leave through the "out" label. */
#define EXPECT(cond, ...) do { \
	if (!(cond)) { \
		FAIL(__VA_ARGS__); \
		goto out; \
	} \
} while (0)
#define TRY(expr) do { if ((expr) < 0) goto out; } while (0)
/* In helpers and checks without cleanup: return -1 at once. */
#define EXPECTR(cond, ...) do { \
	if (!(cond)) \
		return FAIL(__VA_ARGS__); \
} while (0)
/* The reason is already recorded. */
#define TRYR(expr) do { if ((expr) < 0) return -1; } while (0)

/** Checks passed and failed so far. */
struct tally {
	unsigned int passed;
	unsigned int failed;
};

/** A check: 0 if it passed, -1 with a reason recorded if not. */
typedef int (*check_fn)(const void *arg);

struct check {
	const char *name;
	check_fn fn;
	const void *arg;
};

/** Print "ok - @name", or "not ok - @name" + "# @why"; count it; 0 if ok. */
int tally_report(struct tally *t, const char *name, int rc, const char *why);
/** Print "# <n> passed, <m> failed"; the exit status, 1 if any failed. */
int tally_done(const struct tally *t);
/** Run @fn(@arg) in a child under an alarm, report it in @t; 0 if passed. */
int run_check(struct tally *t, const char *name, check_fn fn,
	const void *arg);
/** run_check() each of the @n checks of @c in turn. */
void run_checks(struct tally *t, const struct check *c, unsigned int n);

/** sendmsg() of @iov with @fds as SCM_RIGHTS (left open); its result. */
ssize_t send_fds(int sock, const struct iovec *iov, unsigned int niov,
	const int *fds, unsigned int nfds);
/** Send @buf with @fds; with @close_fds, close them after in any case. */
int send_raw(int sock, const void *buf, size_t len, const int *fds,
	unsigned int nfds, bool close_fds);

/** A non-blocking, close-on-exec eventfd, or -1. */
int new_eventfd(void);
/** A memfd called @name of @size bytes, or -1. */
int make_memfd(const char *name, uint64_t size);
/** make_memfd(), also mapped shared read-write for the test in *@mem. */
int map_memfd(const char *name, uint64_t size, uint8_t **mem);
/** An AF_UNIX socketpair of @type (SOCK_* and flags) in @sv; 0 or -1. */
int new_socketpair(int type, int sv[2]);
/** How many fds the process has open, or -1. */
int count_fds(void);

#endif /* TEST_HARNESS_H */
