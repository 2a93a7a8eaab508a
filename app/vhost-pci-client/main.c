/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * dpdk-vhost-pci-client: plays the client QEMU of the vhost-user extension
 * for vhost-pci.
 *
 * It accepts one stock vhost-user front-end (net_virtio_user, QEMU) over
 * version 0x01 and speaks version 0x02 to a vhost-pci server on its behalf:
 * every front-end message is relayed with the connection's conn_id, the
 * memory table gets this VM's UUID in front, and the extension messages
 * (DEV_TYPE, PVI sender UUID, RX queue GSIs, PEER_CONNECTION) are added.
 * Only the control path goes through here: the fds travel on, and packets
 * move between the front-end's memory and the server's PMD directly.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bitops.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_string_fns.h>
#include <rte_uuid.h>

#include <rte_vhost_pci.h>
#include <rte_vhost_pci_client.h>

#define VERSION_1		0x1u
#define F_REPLY			(1u << 2)
#define F_NEED_REPLY		(1u << 3)
#define PF_REPLY_ACK		3
#define PF_STATUS		16
#define PF_VHOST_PCI		4	/* v2 meaning; F_MTU in v1 */
#define GET_FEATURES		1u
#define SET_MEM_TABLE		5u
#define GET_VRING_BASE		11u
#define SET_VRING_KICK		12u
#define GET_PROTOCOL_FEATURES	15u
#define SET_PROTOCOL_FEATURES	16u
#define GET_QUEUE_NUM		17u
#define SET_VRING_ENABLE	18u
#define SET_STATUS		39u
#define GET_STATUS		40u
#define GET_BACKEND_SPECS	41u
/* v1 ids whose number means an extension message in v2 (the vhost-pci
 * extension).
 */
#define V2_EXT_FIRST		20u
#define V2_EXT_LAST		24u
#define STATUS_DRIVER_OK	0x4u
/* Host emulation of PVI: GSI base + q names RX queue q's call eventfd. */
#define GSI_BASE		100u
#define MAX_QP			16u

static volatile sig_atomic_t quit;

struct proxy {
	const char *frontend;	/* v1 socket path */
	const char *server;	/* vhost-pci server socket path */
	bool connect_fe;	/* the front-end listens (server=1) */
	bool once;		/* exit when the first front-end leaves */
	uint8_t uuid[16];
	int listen_fd;
	int fe;			/* front-end connection, -1 if none */
	struct rte_vhost_pci_client *c;
	uint64_t fe_pfeatures;	/* protocol features the front-end acked */
	uint32_t nqp;		/* queue pairs seen in SET_VRING_KICK */
	bool peer_up;		/* SET_PEER_CONNECTION(CONNECT) succeeded */
	bool server_gone;	/* the server asked to disconnect */
	bool unreachable;	/* the server was down at the last try */
};

static void
on_signal(int sig __rte_unused)
{
	quit = 1;
}

/* ---- server requests ---- */

static int
cb_sender_uuid(struct rte_vhost_pci_client *c, const uint8_t uuid[16],
		void *ctx __rte_unused)
{
	char s[RTE_UUID_STRLEN];

	rte_uuid_unparse(uuid, s, sizeof(s));
	printf("vhost-pci-client: conn %" PRIu64 ": server sender uuid %s\n",
		rte_vhost_pci_client_conn_id(c), s);
	return 0;
}

static int
cb_rx_queue_gsi(struct rte_vhost_pci_client *c, const uint32_t *gsi,
		uint16_t n, void *ctx __rte_unused)
{
	uint16_t i;

	printf("vhost-pci-client: conn %" PRIu64 ": server RX queue GSIs:",
		rte_vhost_pci_client_conn_id(c));
	for (i = 0; i < n; i++)
		printf(" %u", gsi[i]);
	printf("\n");
	return 0;
}

static int
cb_peer_disconnect(struct rte_vhost_pci_client *c, void *ctx)
{
	struct proxy *p = ctx;

	printf("vhost-pci-client: conn %" PRIu64 ": server sent SET_PEER_CONNECTION(DISCONNECT)\n",
		rte_vhost_pci_client_conn_id(c));
	p->server_gone = true;
	p->peer_up = false;
	return 0;
}

static const struct rte_vhost_pci_client_ops proxy_ops = {
	.sender_uuid = cb_sender_uuid,
	.rx_queue_gsi = cb_rx_queue_gsi,
	.peer_disconnect = cb_peer_disconnect,
};

/* ---- relay ---- */

static bool
has_own_reply(uint32_t request)
{
	return request == GET_FEATURES || request == GET_VRING_BASE ||
		request == GET_PROTOCOL_FEATURES || request == GET_QUEUE_NUM ||
		request == GET_STATUS || request == GET_BACKEND_SPECS;
}

static int
reply_fe(struct proxy *p, const struct rte_vhost_pci_msg *req,
		const void *payload, uint32_t size)
{
	struct rte_vhost_pci_msg r = {
		.request = req->request, .flags = VERSION_1 | F_REPLY,
		.size = size,
	};

	memcpy(r.payload, payload, size);
	return rte_vhost_pci_msg_send(p->fe, VERSION_1, &r);
}

/* The front-end gets a reply when the request has one, or when it asked
 * for an ack it negotiated. v1 rule, whatever the server side did.
 */
static int
answer_fe(struct proxy *p, const struct rte_vhost_pci_msg *req,
		uint32_t fe_flags, const struct rte_vhost_pci_msg *reply)
{
	bool ack = (fe_flags & F_NEED_REPLY) &&
		(p->fe_pfeatures & RTE_BIT64(PF_REPLY_ACK));

	if (has_own_reply(req->request) || ack)
		return reply_fe(p, req, reply->payload, reply->size);
	return 0;
}

/* Server-side REPLY_ACK value (0 success); own replies count as success. */
static uint64_t
reply_status(const struct rte_vhost_pci_msg *req,
		const struct rte_vhost_pci_msg *reply)
{
	uint64_t v = 0;

	if (!has_own_reply(req->request) && reply->size == sizeof(v))
		memcpy(&v, reply->payload, sizeof(v));
	return v;
}

/* Adjust a front-end request for v2 before it goes on. */
static int
translate(struct proxy *p, struct rte_vhost_pci_msg *m)
{
	uint64_t v;

	switch (m->request) {
	case SET_PROTOCOL_FEATURES:
		if (m->size != sizeof(v))
			return -EPROTO;
		memcpy(&v, m->payload, sizeof(v));
		p->fe_pfeatures = v;
		/* Ours to the server keeps F_VHOST_PCI and REPLY_ACK. */
		v |= rte_vhost_pci_client_protocol_features(p->c);
		memcpy(m->payload, &v, sizeof(v));
		return 0;
	case SET_MEM_TABLE:
		if (m->size + 16 > sizeof(m->payload))
			return -EPROTO;
		memmove(m->payload + 16, m->payload, m->size);
		memcpy(m->payload, p->uuid, 16);
		m->size += 16;
		return 0;
	case SET_VRING_KICK:
		if (m->size == sizeof(v)) {
			memcpy(&v, m->payload, sizeof(v));
			p->nqp = RTE_MAX(p->nqp, (uint32_t)(v & 0xff) / 2 + 1);
		}
		return 0;
	default:
		return 0;
	}
}

/* The front-end's view of what the server offers: bit 4 is F_VHOST_PCI
 * on the v2 side but would read F_MTU to a v1 front-end.
 */
static void
fix_reply(const struct rte_vhost_pci_msg *req, struct rte_vhost_pci_msg *r)
{
	uint64_t v;

	if (req->request != GET_PROTOCOL_FEATURES || r->size != sizeof(v))
		return;
	memcpy(&v, r->payload, sizeof(v));
	v &= ~RTE_BIT64(PF_VHOST_PCI);
	memcpy(r->payload, &v, sizeof(v));
}

/* Once the front-end has started its device: GSIs, then CONNECT. */
static void
try_connect(struct proxy *p, const struct rte_vhost_pci_msg *m)
{
	uint32_t gsi[MAX_QP], i, n = RTE_MIN(p->nqp, MAX_QP);
	uint64_t v = 0;
	bool started;

	if (m->size == sizeof(v))
		memcpy(&v, m->payload, sizeof(v));
	if (m->request == SET_STATUS)
		started = v & STATUS_DRIVER_OK;
	else
		started = m->request == SET_VRING_ENABLE &&
			!(p->fe_pfeatures & RTE_BIT64(PF_STATUS));
	if (p->peer_up || !started || n == 0)
		return;
	for (i = 0; i < n; i++)
		gsi[i] = GSI_BASE + i;
	if (rte_vhost_pci_client_set_rx_queue_gsi(p->c, gsi, n) < 0)
		fprintf(stderr, "vhost-pci-client: SET_RX_QUEUE_GSI refused\n");
	if (rte_vhost_pci_client_set_peer_connection(p->c, true) == 0) {
		p->peer_up = true;
		printf("vhost-pci-client: conn %" PRIu64 ": peer channel connected, %u queue pair(s)\n",
			rte_vhost_pci_client_conn_id(p->c), n);
		fflush(stdout);
	}
}

/*
 * v1 ids 20-24 (NET_SET_MTU .. GET_CONFIG) would read as extension
 * messages on the v2 side: never relay them; refuse as a back-end that
 * lacks them would (the protocol features we show never include them).
 */
static int
refuse_fe(struct proxy *p, struct rte_vhost_pci_msg *m)
{
	uint64_t nack = 1;

	fprintf(stderr, "vhost-pci-client: front-end request %u not relayed\n",
		m->request);
	rte_vhost_pci_msg_close_fds(m);
	if ((m->flags & F_NEED_REPLY) &&
			(p->fe_pfeatures & RTE_BIT64(PF_REPLY_ACK)))
		return reply_fe(p, m, &nack, sizeof(nack));
	return 0;
}

static int
relay(struct proxy *p, struct rte_vhost_pci_msg *m)
{
	/* The v2 request gets flags of its own; keep the front-end's. */
	uint32_t fe_flags = m->flags;
	struct rte_vhost_pci_msg reply;
	int ret;

	if ((m->flags & 0x3) != VERSION_1 || (m->flags & F_REPLY))
		return -EPROTO;
	if (m->request >= V2_EXT_FIRST && m->request <= V2_EXT_LAST)
		return refuse_fe(p, m);
	ret = translate(p, m);
	if (ret == 0)
		ret = rte_vhost_pci_client_request(p->c, m, &reply);
	rte_vhost_pci_msg_close_fds(m);	/* the server has its own copies */
	if (ret < 0)
		return ret;
	fix_reply(m, &reply);
	if (reply_status(m, &reply) != 0)
		fprintf(stderr, "vhost-pci-client: server refused request %u\n",
			m->request);
	if (m->request == GET_VRING_BASE ||
			(m->request == SET_STATUS && reply.size > 0 && m->size &&
				!(m->payload[0] & STATUS_DRIVER_OK)))
		p->peer_up = false;	/* the front-end stopped its device */
	ret = answer_fe(p, m, fe_flags, &reply);
	if (ret == 0)
		try_connect(p, m);
	return ret;
}

/* ---- sessions ---- */

static int
fe_open(struct proxy *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!p->connect_fe)
		return accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	strlcpy(sa.sun_path, p->frontend, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	sleep(1);
	return -1;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >=
			(size_t)sizeof(sa.sun_path))
		return -1;
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
			listen(fd, 1) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Connect to the server; 0, or -1 (logged once per outage). */
static int
server_open(struct proxy *p)
{
	p->c = rte_vhost_pci_client_connect(p->server, p->uuid, 0, &proxy_ops, p);
	if (p->c == NULL) {
		if (!p->unreachable)
			fprintf(stderr, "vhost-pci-client: cannot reach %s: %s\n",
				p->server, strerror(rte_errno));
		p->unreachable = true;
		return -1;
	}
	if (p->unreachable)
		printf("vhost-pci-client: %s is back\n", p->server);
	p->unreachable = false;
	return 0;
}

/* One front-end, from accept to disconnect. */
static void
session(struct proxy *p)
{
	struct rte_vhost_pci_msg m;
	char s[RTE_UUID_STRLEN];
	int ret = 0;

	if (p->c == NULL && server_open(p) < 0)
		return;
	rte_uuid_unparse(p->uuid, s, sizeof(s));
	printf("vhost-pci-client: front-end on %s, server %s: conn_id %" PRIu64 ", sender uuid %s\n",
		p->frontend, p->server, rte_vhost_pci_client_conn_id(p->c), s);
	fflush(stdout);
	while (!quit && !p->server_gone && ret >= 0) {
		struct pollfd pf[2] = {
			{ .fd = p->fe, .events = POLLIN },
			{ .fd = rte_vhost_pci_client_fd(p->c), .events = POLLIN },
		};

		if (poll(pf, 2, 200) <= 0)
			continue;
		if (pf[1].revents)
			ret = rte_vhost_pci_client_poll(p->c);
		if (ret >= 0 && pf[0].revents) {
			ret = rte_vhost_pci_msg_recv(p->fe, VERSION_1, &m, 1000);
			if (ret == 0)
				ret = relay(p, &m);
		}
	}
	if (ret < 0 && ret != -EPIPE)
		fprintf(stderr, "vhost-pci-client: session ended: %s\n",
			strerror(-ret));
	if (p->peer_up)
		rte_vhost_pci_client_set_peer_connection(p->c, false);
	printf("vhost-pci-client: conn %" PRIu64 ": closed\n",
		rte_vhost_pci_client_conn_id(p->c));
	fflush(stdout);
	rte_vhost_pci_client_close(p->c);
	p->c = NULL;
}

static void
usage(const char *prg)
{
	fprintf(stderr,
		"usage: %s --frontend PATH --server PATH [--frontend-is-server]\n"
		"          [--uuid UUID] [--once]\n"
		"  --frontend PATH       vhost-user (v1) socket of the front-end\n"
		"  --server PATH         vhost-pci (v2) server socket\n"
		"  --frontend-is-server  connect to PATH (virtio-user server=1)\n"
		"  --uuid UUID           this VM's sender UUID (random by default)\n"
		"  --once                exit when the first front-end leaves\n",
		prg);
}

static int
parse_args(struct proxy *p, int argc, char **argv)
{
	static const struct option o[] = {
		{ "frontend", required_argument, NULL, 'f' },
		{ "server", required_argument, NULL, 's' },
		{ "frontend-is-server", no_argument, NULL, 'c' },
		{ "uuid", required_argument, NULL, 'u' },
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	/* The library's random version 4 UUID of this process. */
	rte_vhost_pci_local_uuid(p->uuid);
	while ((opt = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (opt) {
		case 'f': p->frontend = optarg; break;
		case 's': p->server = optarg; break;
		case 'c': p->connect_fe = true; break;
		case 'o': p->once = true; break;
		case 'u':
			if (rte_uuid_parse(optarg, p->uuid) != 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return p->frontend && p->server && optind == argc ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct proxy p = { .listen_fd = -1, .fe = -1 };
	struct sigaction sa = { .sa_handler = on_signal };

	if (parse_args(&p, argc, argv) < 0) {
		usage(argv[0]);
		return 2;
	}

	/* No SA_RESTART: a blocked accept() must see the signal. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!p.connect_fe && (p.listen_fd = listen_on(p.frontend)) < 0) {
		fprintf(stderr, "vhost-pci-client: cannot listen on %s: %s\n",
			p.frontend, strerror(errno));
		return 1;
	}
	while (!quit) {
		/*
		 * A listening front-end (virtio-user server=1) is only
		 * connected once the server is there: one connection closed
		 * unused makes DPDK 22.11's virtio-user stop accepting.
		 */
		if (p.connect_fe && p.c == NULL && server_open(&p) < 0) {
			sleep(1);
			continue;
		}
		p.fe = fe_open(&p);
		if (p.fe < 0)
			continue;
		p.nqp = 0;
		p.fe_pfeatures = 0;
		p.peer_up = p.server_gone = false;
		session(&p);
		close(p.fe);
		p.fe = -1;
		if (p.once)
			break;
	}
	if (p.c != NULL)
		rte_vhost_pci_client_close(p.c);
	if (p.listen_fd >= 0) {
		close(p.listen_fd);
		unlink(p.frontend);
	}
	return 0;
}
