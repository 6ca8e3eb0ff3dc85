/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface between the C shim of vfio_cxx_mtest (mtest_kapi.c, the only
 * file that includes kernel headers) and its freestanding C++ device model
 * (mtest_engine.cpp).  No kernel or libc headers here.
 *
 * The shim allocates the engine (mtest_engine_size() bytes, zeroed), and
 * serialises every mtest_engine_* call for one device with a mutex.  The
 * engine calls back into the shim through mtest_kapi_* with the opaque
 * context given to mtest_engine_init().
 */
#ifndef VFIO_CXX_MTEST_ENGINE_H
#define VFIO_CXX_MTEST_ENGINE_H

#include "mtest_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mtest_engine;

/* Engine, implemented in C++. */
unsigned long mtest_engine_size(void);
void mtest_engine_init(struct mtest_engine *e, void *ctx);
/* Registers: 4- or 8-byte naturally aligned; 0 or -errno. */
int mtest_engine_reg_read(struct mtest_engine *e, unsigned long long off,
			  unsigned int len, unsigned long long *val);
int mtest_engine_reg_write(struct mtest_engine *e, unsigned long long off,
			   unsigned int len, unsigned long long val);
/* The device buffer, MTEST_BUF_SIZE bytes. */
unsigned char *mtest_engine_buf(struct mtest_engine *e);
/* open_device: counters back to zero (the pin table is empty then). */
void mtest_engine_open(struct mtest_engine *e);
/* close_device: drops every pin. */
void mtest_engine_close(struct mtest_engine *e);
/* vfio_device_ops.dma_unmap: drops every pin in [iova, iova + length). */
void mtest_engine_dma_unmap(struct mtest_engine *e, unsigned long long iova,
			    unsigned long long length);
unsigned long long mtest_engine_pinned(const struct mtest_engine *e);

/* Kernel services, implemented by the C shim. */
int mtest_kapi_pin(void *ctx, unsigned long long iova, int npage, int prot,
		   void **pages);
void mtest_kapi_unpin(void *ctx, unsigned long long iova, int npage);
int mtest_kapi_dma_rw(void *ctx, unsigned long long iova, void *data,
		      unsigned long len, int write);
/* Copies len bytes between buf and page at offset off (kmap_local_page). */
void mtest_kapi_page_copy(void *page, unsigned int off, void *buf,
			  unsigned int len, int to_page);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_CXX_MTEST_ENGINE_H */
