/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * What every layer of the library shares, below all of them: the one lock,
 * which thread plays the control thread, and the set of fds that thread
 * watches. The device model (vhost_pci_dev.c) and the protocol handlers
 * (vhost_pci_msg.c) use it; they do not call the control layer
 * (vhost_pci_ctl.c) that drives them.
 *
 * The lock is a plain mutex, never recursive: application callbacks run
 * with it released (vhost_pci_unlocked_begin/end), so a callback that
 * calls the API takes it as any other thread does.
 */

#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>

#include <rte_log.h>
#include <rte_per_lcore.h>

#include "vhost_pci_private.h"

RTE_LOG_REGISTER_DEFAULT(vhost_pci_logtype, INFO);
RTE_LOG_REGISTER_SUFFIX(vhost_pci_logtype_msg, msg, INFO);
RTE_LOG_REGISTER_SUFFIX(vhost_pci_logtype_dev, dev, INFO);

static pthread_mutex_t vhost_pci_lock = PTHREAD_MUTEX_INITIALIZER;
/* A control thread serves the connections (else the caller drives them). */
static bool ctl_thread_running;
/* The epoll set of the control thread, or -1. */
static int vhost_pci_epfd = -1;
/* This thread is the control thread; the callbacks it is running now. */
static RTE_DEFINE_PER_LCORE(bool, vhost_pci_is_ctl);
static RTE_DEFINE_PER_LCORE(unsigned int, vhost_pci_cb_depth);

void
vhost_pci_lock_take(void)
{
	pthread_mutex_lock(&vhost_pci_lock);
}

void
vhost_pci_lock_release(void)
{
	pthread_mutex_unlock(&vhost_pci_lock);
}

void
vhost_pci_lock_wait(pthread_cond_t *cond)
{
	pthread_cond_wait(cond, &vhost_pci_lock);
}

void
vhost_pci_ctl_set(bool running, int epfd)
{
	ctl_thread_running = running;
	vhost_pci_epfd = epfd;
}

bool
vhost_pci_ctl_running(void)
{
	return ctl_thread_running;
}

void
vhost_pci_ctl_enter(void)
{
	RTE_PER_LCORE(vhost_pci_is_ctl) = true;
}

bool
vhost_pci_is_ctl_thread(void)
{
	return RTE_PER_LCORE(vhost_pci_is_ctl);
}

bool
vhost_pci_on_ctl(void)
{
	return !ctl_thread_running || RTE_PER_LCORE(vhost_pci_is_ctl);
}

bool
vhost_pci_in_callback(void)
{
	return RTE_PER_LCORE(vhost_pci_cb_depth) > 0;
}

void
vhost_pci_unlocked_begin(void)
{
	RTE_PER_LCORE(vhost_pci_cb_depth)++;
	vhost_pci_lock_release();
}

void
vhost_pci_unlocked_end(void)
{
	vhost_pci_lock_take();
	RTE_PER_LCORE(vhost_pci_cb_depth)--;
}

int
vhost_pci_watch(int fd, uint64_t token)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = token };

	if (vhost_pci_epfd < 0)
		return 0;	/* no thread: the caller drives the connection */
	return epoll_ctl(vhost_pci_epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ?
		-errno : 0;
}

void
vhost_pci_unwatch(int fd)
{
	if (vhost_pci_epfd >= 0)
		epoll_ctl(vhost_pci_epfd, EPOLL_CTL_DEL, fd, NULL);
}
