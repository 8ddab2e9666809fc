/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A whole buffer to a descriptor: write(2) may take part of it, or be interrupted. One helper for
 * the control socket's answers, provisioning files and the files gkctl init writes.
 */
#ifndef GATEKEY_FDIO_H
#define GATEKEY_FDIO_H

#include <stddef.h>

/* Writes all n bytes at p to fd, retrying after EINTR and short writes: 0, or -errno (-EIO when
 * write(2) takes nothing without saying why). */
int gk_write_all(int fd, const void *p, size_t n);

#endif
