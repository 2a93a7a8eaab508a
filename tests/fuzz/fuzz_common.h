/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef VPCI_FUZZ_COMMON_H
#define VPCI_FUZZ_COMMON_H

/*
 * What the libFuzzer harnesses share: a failed invariant aborts with a
 * message (libFuzzer saves the input as a crash), and the --write-seeds=DIR
 * mode that writes the seed corpus the harness knows how to build.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: a finding, not a harness error. */
#define FUZZ_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", \
			__FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* A seed being built, at most FUZZ_SEED_MAX bytes. */
#define FUZZ_SEED_MAX	16384

struct fuzz_seed {
	uint8_t buf[FUZZ_SEED_MAX];
	size_t len;
};

static inline void
seed_put(struct fuzz_seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf)) {
		fprintf(stderr, "seed too long\n");
		exit(1);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static inline void
seed_u8(struct fuzz_seed *s, uint8_t v)
{
	seed_put(s, &v, 1);
}

static inline void
seed_u16(struct fuzz_seed *s, uint16_t v)
{
	seed_put(s, &v, 2);
}

static inline void
seed_u32(struct fuzz_seed *s, uint32_t v)
{
	seed_put(s, &v, 4);
}

static inline void
seed_u64(struct fuzz_seed *s, uint64_t v)
{
	seed_put(s, &v, 8);
}

/* Write @s as DIR/NAME; exits on error (seed mode only). */
static inline void
seed_write(const char *dir, const char *name, const struct fuzz_seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(s->buf, 1, s->len, f) != s->len ||
			fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	printf("wrote %s (%zu bytes)\n", path, s->len);
}

/* The DIR of a --write-seeds=DIR argument, or NULL. */
static inline const char *
seed_dir_arg(int argc, char **argv)
{
	static const char opt[] = "--write-seeds=";
	int i;

	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], opt, sizeof(opt) - 1) == 0)
			return argv[i] + sizeof(opt) - 1;
	return NULL;
}

/* VPCI_FUZZ_VERBOSE set: keep the library's logs. */
static inline bool
fuzz_verbose(void)
{
	const char *v = getenv("VPCI_FUZZ_VERBOSE");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

#endif /* VPCI_FUZZ_COMMON_H */
