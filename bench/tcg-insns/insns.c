// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin for `make bench-insns`: guest instructions and guest
 * memory accesses executed, per translation block, between markers.
 *
 * Under TCG there is no PMU and no perf; time is noisy, and a function
 * tracer changes what it measures.  This counts exactly what ran: each
 * translated block gets an inline counter of its executions, and each of
 * its instructions an inline counter of memory accesses.  A marker is a
 * block at a fixed guest virtual address (vfio_bench's BENCH_MARK page, a
 * lone `ret`): each execution of it appends a snapshot of every block that
 * ran since the previous one to the output file, and clears the counts.
 * bench/insns.py names the blocks by the guest's /proc/kallsyms and sums
 * them per function and per marked segment.
 *
 * Arguments: out=<file> (the snapshots), marker=<guest vaddr, hex>.
 * Output lines: "M <seq>" opens a snapshot; "<vaddr hex> <insns> <execs>
 * <mem accesses>" per block that ran (mem accesses summed over its execs).
 *
 * Locking: translation may run on several vCPU threads at once (MTTCG), so
 * the block table is under one mutex; the inline counters are plain adds
 * (a count lost to a race between vCPUs is noise, not a bias).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_abi.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_ABI_VERSION;

struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t execs; /* inline: +1 a run */
	uint64_t mems;	/* inline: +1 a memory access */
};

/*
 * Blocks are never freed (a retranslation of the same code gets another
 * entry; insns.py sums by address).  Chunks keep their addresses fixed,
 * since the inline counters point into them.
 */
#define CHUNK 65536
static struct block **chunks;
static size_t nblocks, nchunks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
static uint64_t marker;
static uint64_t seq;

static struct block *new_block(uint64_t vaddr, uint64_t insns)
{
	struct block *b;

	pthread_mutex_lock(&lock);
	if (nblocks == nchunks * CHUNK) {
		struct block **c = realloc(chunks, (nchunks + 1) * sizeof(*c));

		if (!c || !(c[nchunks] = calloc(CHUNK, sizeof(struct block)))) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		chunks = c;
		nchunks++;
	}
	b = &chunks[nblocks / CHUNK][nblocks % CHUNK];
	b->vaddr = vaddr;
	b->insns = insns;
	nblocks++;
	pthread_mutex_unlock(&lock);
	return b;
}

static void snapshot(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	(void)udata;
	pthread_mutex_lock(&lock);
	fprintf(out, "M %" PRIu64 "\n", seq++);
	for (size_t i = 0; i < nblocks; i++) {
		struct block *b = &chunks[i / CHUNK][i % CHUNK];

		if (!b->execs)
			continue;
		fprintf(out, "%" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", b->vaddr, b->insns,
			b->execs, b->mems);
		b->execs = b->mems = 0;
	}
	fflush(out);
	pthread_mutex_unlock(&lock);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	const uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	const size_t n = qemu_plugin_tb_n_insns(tb);
	struct block *b;

	(void)id;
	if (vaddr == marker) {
		qemu_plugin_register_vcpu_tb_exec_cb(tb, snapshot, QEMU_PLUGIN_CB_NO_REGS, NULL);
		return;
	}
	b = new_block(vaddr, n);
	if (!b)
		return;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->execs, 1);
	for (size_t i = 0; i < n; i++)
		qemu_plugin_register_vcpu_mem_inline(qemu_plugin_tb_get_insn(tb, i), QEMU_PLUGIN_MEM_RW,
						     QEMU_PLUGIN_INLINE_ADD_U64, &b->mems, 1);
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	snapshot(0, udata);
	fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc,
					   char **argv)
{
	const char *path = NULL;

	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
		else if (!strncmp(argv[i], "marker=", 7))
			marker = strtoull(argv[i] + 7, NULL, 16);
	}
	if (!path || !marker) {
		fprintf(stderr, "insns plugin: needs out=<file> and marker=<hex vaddr>\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
