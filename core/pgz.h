/*
 * Parallel gzip (after pigz), the tarball writer's compressor: the stream
 * is cut into 1 MiB blocks, each deflated by a worker thread with the
 * previous 32 KiB as its dictionary and ended by a sync flush (the last
 * by Z_FINISH), so the concatenation is one ordinary gzip member whose
 * CRC32 is combined from the blocks'. Blocks are emitted in order by the
 * caller's thread, so the output does not depend on timing.
 */
#ifndef CORE_PGZ_H
#define CORE_PGZ_H

#include <stddef.h>

struct pgz;

/* Receives compressed bytes in order; nonzero fails the stream. */
typedef int (*pgz_emit_fn)(void *ud, const void *buf, size_t len);

/* A compressor at zlib `level` emitting through emit(ud, ...), or NULL
 * on allocation failure. Free with pgz_free. */
struct pgz *pgz_new(int level, pgz_emit_fn emit, void *ud);
/* Compress `len` bytes. 0 or CORE_E* (the stream is failed then). */
int pgz_write(struct pgz *g, const void *buf, size_t len);
/* Flush the last block and the gzip trailer. 0 or CORE_E*. */
int pgz_finish(struct pgz *g);
/* Stop the workers and free. NULL-safe. */
void pgz_free(struct pgz *g);

#endif
