/*
 * Compressor streams for the compression modules: gzip and deflate (zlib), br
 * (libbrotlienc) and zstd (libzstd). zlib and zstd states are reset and kept in a
 * small per-thread pool, so a request does not allocate one; brotli encoders cannot
 * be reset and are made per stream.
 *
 * IIS levels (0-10) map to each library's range: zlib 1-9 (0 -> 1, 10 -> 9), brotli
 * quality level+1 (1-11), zstd about twice the level (0 -> 1, 10 -> 19).
 */
#include <brotli/encode.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include "modules/compression/compression.h"

#define OUT_CAP  16384
#define POOL_MAX 4

struct cmp_stream {
    cmp_codec_t codec;
    unsigned level; /* IIS level */
    bool pooled_ok; /* the state can be reused */
    z_stream z;
    BrotliEncoderState *br;
    ZSTD_CCtx *zs;
    unsigned char out[OUT_CAP];
};

static __thread cmp_stream_t *pool[POOL_MAX];
static __thread unsigned npool;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void stream_free(cmp_stream_t *s)
{
    if (s == NULL)
        return;
    if (s->codec == CMP_GZIP || s->codec == CMP_DEFLATE)
        deflateEnd(&s->z);
    if (s->br)
        BrotliEncoderDestroyInstance(s->br);
    if (s->zs)
        ZSTD_freeCCtx(s->zs);
    free(s);
}

static void pool_destroy(void *unused)
{
    (void)unused;
    while (npool > 0)
        stream_free(pool[--npool]);
}

static void pool_init(void)
{
    pthread_key_create(&pool_key, pool_destroy);
}

static int zlib_level(unsigned l)
{
    return l == 0 ? 1 : l > 9 ? 9 : (int)l;
}

static int zstd_level(unsigned l)
{
    int v = (int)(l * 19 + 5) / 10;
    return v < 1 ? 1 : v > 19 ? 19 : v;
}

static bool brotli_start(cmp_stream_t *s)
{
    s->br = BrotliEncoderCreateInstance(NULL, NULL, NULL);
    if (s->br == NULL)
        return false;
    unsigned q = s->level + 1 > BROTLI_MAX_QUALITY ? BROTLI_MAX_QUALITY : s->level + 1;
    BrotliEncoderSetParameter(s->br, BROTLI_PARAM_QUALITY, q);
    BrotliEncoderSetParameter(s->br, BROTLI_PARAM_LGWIN, 20);
    return true;
}

cmp_stream_t *cmp_stream_get(cmp_codec_t codec, unsigned level)
{
    if ((unsigned)codec >= CMP_NCODECS)
        return NULL;
    if (level > 10)
        level = 10;
    pthread_once(&pool_once, pool_init);
    for (unsigned i = 0; i < npool; i++) {
        cmp_stream_t *s = pool[i];
        if (s->codec == codec && s->level == level) {
            pool[i] = pool[--npool];
            return s;
        }
    }
    cmp_stream_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->codec = codec;
    s->level = level;
    switch (codec) {
    case CMP_GZIP:
    case CMP_DEFLATE:
        /* gzip: 15 window bits + 16 (gzip wrapper); deflate is the zlib format, as HTTP defines it */
        if (deflateInit2(&s->z, zlib_level(level), Z_DEFLATED, codec == CMP_GZIP ? 31 : 15, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            free(s);
            return NULL;
        }
        s->pooled_ok = true;
        break;
    case CMP_BR:
        if (!brotli_start(s)) {
            free(s);
            return NULL;
        }
        break;
    case CMP_ZSTD:
        s->zs = ZSTD_createCCtx();
        if (s->zs == NULL ||
            ZSTD_isError(ZSTD_CCtx_setParameter(s->zs, ZSTD_c_compressionLevel, zstd_level(level)))) {
            ZSTD_freeCCtx(s->zs);
            free(s);
            return NULL;
        }
        ZSTD_CCtx_setParameter(s->zs, ZSTD_c_checksumFlag, 1);
        s->pooled_ok = true;
        break;
    default:
        break;
    }
    return s;
}

void cmp_stream_put(cmp_stream_t *s)
{
    if (s == NULL)
        return;
    bool reusable = s->pooled_ok;
    if (s->codec == CMP_GZIP || s->codec == CMP_DEFLATE)
        reusable = reusable && deflateReset(&s->z) == Z_OK;
    else if (s->codec == CMP_ZSTD)
        reusable = reusable && !ZSTD_isError(ZSTD_CCtx_reset(s->zs, ZSTD_reset_session_only));
    if (!reusable || npool >= POOL_MAX) {
        stream_free(s);
        return;
    }
    pthread_once(&pool_once, pool_init);
    pool[npool++] = s;
    pthread_setspecific(pool_key, pool); /* so that the pool is freed when the thread ends */
}

static int write_zlib(cmp_stream_t *s, const void *in, size_t n, int op, cmp_emit_fn emit, void *ctx)
{
    int flush = op == CMP_FINISH ? Z_FINISH : op == CMP_FLUSH ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    const unsigned char *p = in;
    do {
        /* zlib counts input in uInt: feed at most 1 GiB at a time */
        size_t piece = n > (1u << 30) ? (1u << 30) : n;
        s->z.next_in = (Bytef *)p;
        s->z.avail_in = (uInt)piece;
        int f = piece == n ? flush : Z_NO_FLUSH;
        for (;;) {
            s->z.next_out = s->out;
            s->z.avail_out = OUT_CAP;
            int rc = deflate(&s->z, f);
            if (rc == Z_STREAM_ERROR)
                return -1;
            size_t have = OUT_CAP - s->z.avail_out;
            if (have > 0 && emit(ctx, s->out, have) < 0)
                return -1;
            if (f == Z_FINISH ? rc == Z_STREAM_END : (s->z.avail_in == 0 && s->z.avail_out != 0))
                break;
            if (rc == Z_BUF_ERROR && s->z.avail_in == 0 && f != Z_FINISH)
                break;
        }
        p += piece;
        n -= piece;
    } while (n > 0);
    return 0;
}

static int write_brotli(cmp_stream_t *s, const void *in, size_t n, int op, cmp_emit_fn emit, void *ctx)
{
    BrotliEncoderOperation bop = op == CMP_FINISH  ? BROTLI_OPERATION_FINISH
                                 : op == CMP_FLUSH ? BROTLI_OPERATION_FLUSH
                                                   : BROTLI_OPERATION_PROCESS;
    const uint8_t *next_in = in;
    size_t avail_in = n;
    for (;;) {
        uint8_t *next_out = s->out;
        size_t avail_out = OUT_CAP;
        if (!BrotliEncoderCompressStream(s->br, bop, &avail_in, &next_in, &avail_out, &next_out, NULL))
            return -1;
        size_t have = OUT_CAP - avail_out;
        if (have > 0 && emit(ctx, s->out, have) < 0)
            return -1;
        if (avail_in == 0 && !BrotliEncoderHasMoreOutput(s->br) &&
            (op == CMP_RUN || (op == CMP_FINISH ? BrotliEncoderIsFinished(s->br) : true)))
            break;
    }
    return 0;
}

static int write_zstd(cmp_stream_t *s, const void *in, size_t n, int op, cmp_emit_fn emit, void *ctx)
{
    ZSTD_EndDirective end = op == CMP_FINISH ? ZSTD_e_end : op == CMP_FLUSH ? ZSTD_e_flush : ZSTD_e_continue;
    ZSTD_inBuffer ib = {in, n, 0};
    for (;;) {
        ZSTD_outBuffer ob = {s->out, OUT_CAP, 0};
        size_t left = ZSTD_compressStream2(s->zs, &ob, &ib, end);
        if (ZSTD_isError(left))
            return -1;
        if (ob.pos > 0 && emit(ctx, s->out, ob.pos) < 0)
            return -1;
        if (end == ZSTD_e_continue ? ib.pos == ib.size : left == 0)
            break;
    }
    return 0;
}

int cmp_stream_write(cmp_stream_t *s, const void *in, size_t n, int op, cmp_emit_fn emit, void *ctx)
{
    if (s == NULL || (n > 0 && in == NULL))
        return -1;
    switch (s->codec) {
    case CMP_GZIP:
    case CMP_DEFLATE:
        return write_zlib(s, in, n, op, emit, ctx);
    case CMP_BR:
        return write_brotli(s, in, n, op, emit, ctx);
    case CMP_ZSTD:
        return write_zstd(s, in, n, op, emit, ctx);
    default:
        return -1;
    }
}
