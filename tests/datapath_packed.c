/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#include <rte_common.h>

#include "datapath.h"

const struct dp_check phase_packed[] = {
	{ NULL, NULL },
};
const size_t phase_packed_len = 0;
