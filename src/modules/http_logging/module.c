/*
 * HttpLoggingModule: W3C extended log files per site (or one central file),
 * as IIS writes them.
 *
 * Configuration:
 *  - system.applicationHost/sites, <site><logFile> (values it does not set
 *    come from <siteDefaults><logFile>): enabled, logFormat (only W3C is
 *    written), directory (backslashes become '/'; files go to
 *    <directory>/W3SVC<site id>/), period, truncateSize, localTimeRollover,
 *    logExtFileFlags, logSiteId, maxLogLineLength.
 *  - system.applicationHost/log: centralLogFileMode Site (default) writes
 *    the per-site files; CentralW3C writes every site to
 *    <centralW3CLogFile directory>/W3SVC/ with centralW3CLogFile's settings;
 *    CentralBinary is not supported (nothing is logged, one warning).
 *    logInUTF8 (default true) gives file names their "u_" prefix.
 *  - system.webServer/httpLogging at the request's path: dontLog,
 *    selectiveLogging (LogAll, LogSuccessful 100-399, LogError 400-999).
 *
 * The values come from the request, unless a module replaced the request's
 * log record with ISendResponseProvider::SetLogData in RQ_SEND_RESPONSE: the
 * server then keeps the record set in the request's named context
 * IISD_LOG_DATA_CONTEXT_NAME, and the line takes every field the record has
 * (all but cs-version and the byte counts and time taken, which the server
 * measures) from it. Requests whose record nobody set cost one named-context
 * lookup.
 *
 * A line is formatted in RQ_LOG_REQUEST, after the response has been sent,
 * and appended to a buffer owned by the calling thread (one per thread and
 * log folder; its lock is only contended while a flush runs), numbered per
 * log folder. A flush takes a folder's lines from every thread's buffer and
 * writes them in that numbered order, whole lines under the file's lock. It
 * happens when a buffer is full, when the next line belongs to another
 * file (rollover) or another field set, once a second from a background
 * thread, when a thread exits, and at shutdown (factory Terminate, after
 * the last request).
 *
 * Written only against the public module API (include/httpserv.h, C binding).
 */
#include <windows.h>
#include <httpserv.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "modules/builtin.h"
#include "modules/modcfg.h"
#include "modules/http_logging/w3c.h"

#define BUF_CAP      (64 * 1024)
#define NSLOTS       8
#define LINE_MAX_CAP 65536
#define FLUSH_MS     1000

static IHttpServer *g_server;
static IHttpServer2 *g_server2;
static HTTP_MODULE_ID g_id;
static char g_computer[256];
static char g_software[64];
static int g_software_state; /* 0 unset, 1 being set, 2 set (atomic) */

/* The #Software value: SERVER_SOFTWARE, once a request has told it. */
static const char *software(void)
{
    return __atomic_load_n(&g_software_state, __ATOMIC_ACQUIRE) == 2 ? g_software : "iisd";
}

/* ---- log files ------------------------------------------------------- */

typedef struct writer {
    struct writer *next;
    pthread_mutex_t mu;
    char dir[PATH_MAX]; /* <directory>/W3SVC<id> */
    int fd;
    char name[64]; /* of the open file */
    uint64_t size;
    uint32_t hdr_flags; /* the #Fields of the open file's last header */
    bool hdr_done;
    unsigned seq;   /* MaxSize: the number of the current u_extendN.log, 0 before the first look */
    bool failed;    /* an error was reported and nothing has succeeded since */
    uint64_t seqno; /* numbers buffered lines (atomic) */
} writer_t;

static pthread_mutex_t g_writers_mu = PTHREAD_MUTEX_INITIALIZER;
static writer_t *g_writers;

static writer_t *writer_get(const char *dir)
{
    pthread_mutex_lock(&g_writers_mu);
    writer_t *w = g_writers;
    while (w != NULL && strcmp(w->dir, dir) != 0)
        w = w->next;
    if (w == NULL && (w = calloc(1, sizeof(*w))) != NULL) {
        pthread_mutex_init(&w->mu, NULL);
        snprintf(w->dir, sizeof(w->dir), "%s", dir);
        w->fd = -1;
        w->next = g_writers;
        g_writers = w;
    }
    pthread_mutex_unlock(&g_writers_mu);
    return w;
}

/* One line in the server's log format, written at once. */
static void report(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(const char *level, const char *fmt, ...)
{
    char line[PATH_MAX + 512], date[11], clock[9];
    w3c_date_time(time(NULL), date, clock);
    int n = snprintf(line, sizeof(line), "%sT%sZ [%s] HttpLoggingModule: ", date, clock, level);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    OutputDebugStringA(line);
}

static int mkdirs(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static void writer_fail(writer_t *w, const char *what, const char *path, int err)
{
    if (!w->failed)
        report("error", "cannot %s %s: %s; requests are not logged there until it works", what, path,
               strerror(err));
    w->failed = true;
}

/* Opens w->dir/name for appending (creating the folder); false after reporting. */
static bool writer_open(writer_t *w, const char *name)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->hdr_done = false;
    char path[PATH_MAX + 80];
    snprintf(path, sizeof(path), "%s/%s", w->dir, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        int rc = mkdirs(w->dir);
        if (rc < 0) {
            writer_fail(w, "create the log folder", w->dir, -rc);
            return false;
        }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        writer_fail(w, "open the log file", path, errno);
        return false;
    }
    struct stat st;
    w->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    w->fd = fd;
    snprintf(w->name, sizeof(w->name), "%s", name);
    return true;
}

/* MaxSize: the highest u_extendN.log already in the folder (0 if none). */
static unsigned highest_extend(const char *dir, bool utf8)
{
    DIR *d = opendir(dir);
    unsigned best = 0;
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned n = w3c_extend_seq(e->d_name, utf8);
        if (n > best)
            best = n;
    }
    closedir(d);
    return best;
}

static bool write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t r = writev(fd, iov, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        while (n > 0 && (size_t)r >= iov->iov_len) {
            r -= (ssize_t)iov->iov_len;
            iov++, n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + r;
            iov->iov_len -= (size_t)r;
        }
    }
    return true;
}

/* What a buffer's lines have in common: where they go and how the file starts. */
typedef struct {
    writer_t *w;
    uint32_t flags;
    int period;
    bool utf8;
    uint64_t truncate;
    char name[64]; /* for time periods; "" for MaxSize */
} target_t;

/* Appends whole lines to the target's current file, rolling over first when needed. */
static void writer_write(const target_t *t, const char *data, size_t len)
{
    writer_t *w = t->w;
    pthread_mutex_lock(&w->mu);
    bool ok = true;
    if (t->period == W3C_MAXSIZE) {
        char name[64];
        if (w->seq == 0) {
            w->seq = highest_extend(w->dir, t->utf8);
            if (w->seq == 0)
                w->seq = 1;
        }
        w3c_file_name(W3C_MAXSIZE, t->utf8, false, 0, w->seq, name, sizeof(name));
        if (w->fd < 0 || strcmp(w->name, name) != 0)
            ok = writer_open(w, name);
        /* a full file (beyond a lone header) rolls over to the next number */
        while (ok && w->size > 0 && w->size + len > t->truncate) {
            w->seq++;
            w3c_file_name(W3C_MAXSIZE, t->utf8, false, 0, w->seq, name, sizeof(name));
            ok = writer_open(w, name);
        }
    } else if (w->fd < 0 || strcmp(w->name, t->name) != 0) {
        ok = writer_open(w, t->name);
    }
    if (ok) {
        char hdr[2048];
        struct iovec iov[2];
        int n = 0;
        size_t hl = 0;
        if (!w->hdr_done || w->hdr_flags != t->flags) {
            hl = w3c_header(software(), t->flags, time(NULL), hdr, sizeof(hdr));
            iov[n].iov_base = hdr;
            iov[n++].iov_len = hl;
        }
        iov[n].iov_base = (void *)data;
        iov[n++].iov_len = len;
        if (write_all(w->fd, iov, n)) {
            w->size += hl + len;
            w->hdr_done = true;
            w->hdr_flags = t->flags;
            w->failed = false;
        } else {
            char path[PATH_MAX + 80];
            snprintf(path, sizeof(path), "%s/%s", w->dir, w->name);
            writer_fail(w, "write to the log file", path, errno);
            close(w->fd);
            w->fd = -1;
        }
    }
    pthread_mutex_unlock(&w->mu);
}

/* ---- per-thread buffers ---------------------------------------------- */

/*
 * A buffer holds records {uint64_t seq; uint32_t len; bytes}: seq numbers the
 * lines of one writer in the order their requests were logged, so that a
 * flush, which takes the writer's lines from every thread's buffer at once,
 * writes them in that order.
 */
#define REC_HDR 12

typedef struct {
    pthread_mutex_t mu; /* taken by the owner thread, and by a flush with g_tbufs_mu held */
    target_t t;
    char *buf;
    size_t len;
} slot_t;

typedef struct tbuf {
    struct tbuf *next, *prev;
    slot_t s[NSLOTS];
    unsigned victim;
} tbuf_t;

static pthread_mutex_t g_tbufs_mu = PTHREAD_MUTEX_INITIALIZER; /* before any slot lock */
static tbuf_t *g_tbufs;
static pthread_key_t g_key;
static bool g_key_made;
static __thread tbuf_t *t_buf;
static bool g_terminated; /* under g_tbufs_mu */

static bool same_target(const target_t *a, const target_t *b)
{
    return a->w == b->w && a->flags == b->flags && a->period == b->period && a->utf8 == b->utf8 &&
           a->truncate == b->truncate && strcmp(a->name, b->name) == 0;
}

static uint64_t rec_seq(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t rec_len(const char *p)
{
    uint32_t v;
    memcpy(&v, p + 8, sizeof(v));
    return v;
}

/* Writes every buffered line of w, from all threads, in seq order. g_tbufs_mu held. */
static void flush_writer_locked(writer_t *w)
{
    enum { MAXK = 512 };
    slot_t *k[MAXK];
    size_t pos[MAXK], nk = 0, total = 0;
    for (tbuf_t *b = g_tbufs; b != NULL; b = b->next)
        for (int i = 0; i < NSLOTS; i++) {
            slot_t *s = &b->s[i];
            pthread_mutex_lock(&s->mu);
            if (s->t.w == w && s->len > 0 && nk < MAXK) {
                pos[nk] = 0;
                k[nk++] = s; /* stays locked until written */
                total += s->len;
            } else {
                pthread_mutex_unlock(&s->mu);
            }
        }
    if (nk == 0)
        return;
    /* The merge buffer lives as long as the module and only grows: g_tbufs_mu guards it. */
    static char *merge;
    static size_t merge_cap;
    if (total > merge_cap) {
        size_t cap = merge_cap ? merge_cap : 65536;
        while (cap < total)
            cap *= 2;
        char *bigger = realloc(merge, cap);
        if (bigger != NULL) {
            merge = bigger;
            merge_cap = cap;
        }
    }
    char *out = total <= merge_cap ? merge : NULL;
    size_t olen = 0;
    const target_t *run = NULL;
    for (;;) {
        size_t best = nk;
        for (size_t i = 0; i < nk; i++)
            if (pos[i] < k[i]->len &&
                (best == nk || rec_seq(k[i]->buf + pos[i]) < rec_seq(k[best]->buf + pos[best])))
                best = i;
        if (best == nk || (run != NULL && !same_target(run, &k[best]->t))) {
            if (run != NULL && olen > 0)
                writer_write(run, out, olen);
            olen = 0;
            if (best == nk)
                break;
        }
        run = &k[best]->t;
        const char *r = k[best]->buf + pos[best];
        uint32_t len = rec_len(r);
        if (out != NULL) {
            memcpy(out + olen, r + REC_HDR, len);
            olen += len;
        } else {
            writer_write(run, r + REC_HDR, len); /* no memory for the merge: line by line */
        }
        pos[best] += REC_HDR + len;
    }
    for (size_t i = 0; i < nk; i++) {
        k[i]->len = 0;
        pthread_mutex_unlock(&k[i]->mu);
    }
}

static void flush_writer(writer_t *w)
{
    pthread_mutex_lock(&g_tbufs_mu);
    flush_writer_locked(w);
    pthread_mutex_unlock(&g_tbufs_mu);
}

static void flush_all(void)
{
    pthread_mutex_lock(&g_tbufs_mu);
    pthread_mutex_lock(&g_writers_mu);
    writer_t *ws = g_writers;
    pthread_mutex_unlock(&g_writers_mu);
    for (writer_t *w = ws; w != NULL; w = w->next) /* writers are only ever prepended */
        flush_writer_locked(w);
    pthread_mutex_unlock(&g_tbufs_mu);
}

static void tbuf_free(tbuf_t *b)
{
    for (int i = 0; i < NSLOTS; i++) {
        pthread_mutex_destroy(&b->s[i].mu);
        free(b->s[i].buf);
    }
    free(b);
}

/* At thread exit: the thread's lines (and the others' before them) go to their files. */
static void tbuf_thread_exit(void *p)
{
    tbuf_t *b = p;
    pthread_mutex_lock(&g_tbufs_mu);
    if (g_terminated) { /* Terminate has written and freed every buffer already */
        pthread_mutex_unlock(&g_tbufs_mu);
        t_buf = NULL;
        return;
    }
    for (int i = 0; i < NSLOTS; i++)
        if (b->s[i].t.w != NULL && b->s[i].len > 0)
            flush_writer_locked(b->s[i].t.w);
    if (b->prev)
        b->prev->next = b->next;
    else
        g_tbufs = b->next;
    if (b->next)
        b->next->prev = b->prev;
    pthread_mutex_unlock(&g_tbufs_mu);
    tbuf_free(b);
    t_buf = NULL;
}

static tbuf_t *tbuf_mine(void)
{
    if (t_buf != NULL)
        return t_buf;
    tbuf_t *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    for (int i = 0; i < NSLOTS; i++)
        pthread_mutex_init(&b->s[i].mu, NULL);
    pthread_mutex_lock(&g_tbufs_mu);
    b->next = g_tbufs;
    if (g_tbufs)
        g_tbufs->prev = b;
    g_tbufs = b;
    pthread_mutex_unlock(&g_tbufs_mu);
    if (g_key_made)
        pthread_setspecific(g_key, b);
    t_buf = b;
    return b;
}

/* Appends one line for target t to the calling thread's buffer. */
static void log_line(const target_t *t, const char *line, size_t len)
{
    writer_t *w = t->w;
    tbuf_t *b = tbuf_mine();
    if (b == NULL || len + REC_HDR > BUF_CAP) {
        flush_writer(w);
        writer_write(t, line, len);
        return;
    }
    slot_t *s = NULL;
    for (int i = 0; i < NSLOTS && s == NULL; i++)
        if (b->s[i].t.w == w)
            s = &b->s[i];
    for (int i = 0; i < NSLOTS && s == NULL; i++)
        if (b->s[i].t.w == NULL)
            s = &b->s[i];
    if (s == NULL)
        s = &b->s[b->victim++ % NSLOTS];
    pthread_mutex_lock(&s->mu);
    /* another writer, file (rollover) or field set, or a full buffer: what is buffered goes first */
    while (s->len > 0 && (!same_target(&s->t, t) || s->len + REC_HDR + len > BUF_CAP)) {
        writer_t *old = s->t.w;
        pthread_mutex_unlock(&s->mu);
        flush_writer(old);
        pthread_mutex_lock(&s->mu);
    }
    if (s->buf == NULL && (s->buf = malloc(BUF_CAP)) == NULL) {
        pthread_mutex_unlock(&s->mu);
        flush_writer(w);
        writer_write(t, line, len);
        return;
    }
    s->t = *t;
    uint64_t seq = __atomic_fetch_add(&w->seqno, 1, __ATOMIC_RELAXED);
    uint32_t l32 = (uint32_t)len;
    memcpy(s->buf + s->len, &seq, 8);
    memcpy(s->buf + s->len + 8, &l32, 4);
    memcpy(s->buf + s->len + REC_HDR, line, len);
    s->len += REC_HDR + len;
    pthread_mutex_unlock(&s->mu);
}

/* ---- the periodic flush ---------------------------------------------- */

static pthread_mutex_t g_flusher_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_flusher_cv;
static pthread_t g_flusher;
static bool g_flusher_on, g_stop;

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_flusher_mu);
    while (!g_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += FLUSH_MS / 1000;
        pthread_cond_timedwait(&g_flusher_cv, &g_flusher_mu, &ts);
        if (g_stop)
            break;
        pthread_mutex_unlock(&g_flusher_mu);
        flush_all();
        pthread_mutex_lock(&g_flusher_mu);
    }
    pthread_mutex_unlock(&g_flusher_mu);
    return NULL;
}

static void flusher_start(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_flusher_cv, &ca);
    pthread_condattr_destroy(&ca);
    g_stop = false;
    g_flusher_on = pthread_create(&g_flusher, NULL, flusher_main, NULL) == 0;
    if (!g_flusher_on)
        report("warn",
               "no background flush thread; log lines are written when a buffer fills and at shutdown");
}

/* ---- configuration --------------------------------------------------- */

typedef struct {
    bool on;
    bool dont_log;
    int selective; /* 0 LogAll, 1 LogSuccessful, 2 LogError */
    bool local;
    unsigned max_line;
    target_t t; /* name unused here */
    char sitename[256];
    size_t sitename_len;
} pcfg_t;

static void dir_of(IAppHostElement *e, char *out, size_t cap)
{
    modcfg_str(e, L"directory", out, cap, "logs");
    for (char *p = out; *p; p++)
        if (*p == '\\')
            *p = '/';
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
}

/* An int64 attribute as stored (modcfg_int reads VT_I8 as a timeSpan). */
static int64_t attr_int64(IAppHostElement *e, const wchar_t *name, int64_t def)
{
    if (e == NULL)
        return def;
    BSTR bn = SysAllocString(name);
    IAppHostProperty *p = NULL;
    HRESULT hr = e->lpVtbl->GetPropertyByName(e, bn, &p);
    SysFreeString(bn);
    if (FAILED(hr) || p == NULL)
        return def;
    VARIANT v;
    VariantInit(&v);
    int64_t r = def;
    if (SUCCEEDED(p->lpVtbl->get_Value(p, &v)))
        r = v.vt == VT_I8 ? v.llVal : v.vt == VT_UI8 ? (int64_t)v.ullVal : modcfg_int(e, name, def);
    VariantClear(&v);
    p->lpVtbl->Release(p);
    return r;
}

static bool g_warned_binary, g_warned_format;

static void *load_cfg(IHttpServer *srv, IHttpContext *ctx)
{
    (void)srv;
    pcfg_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    PCSTR sw = NULL;
    DWORD swl = 0;
    int unset = 0;
    if (__atomic_load_n(&g_software_state, __ATOMIC_ACQUIRE) == 0 &&
        SUCCEEDED(ctx->lpVtbl->GetServerVariableA(ctx, "SERVER_SOFTWARE", &sw, &swl)) && sw != NULL &&
        swl > 0 && swl < sizeof(g_software) &&
        __atomic_compare_exchange_n(&g_software_state, &unset, 1, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        snprintf(g_software, sizeof(g_software), "%.*s", (int)swl, sw);
        __atomic_store_n(&g_software_state, 2, __ATOMIC_RELEASE);
    }

    IAppHostElement *hl = modcfg_section(g_server, ctx, L"system.webServer/httpLogging");
    c->dont_log = modcfg_bool(hl, L"dontLog", false);
    c->selective = (int)modcfg_int(hl, L"selectiveLogging", 0);
    modcfg_release(hl);

    IHttpSite *site = ctx->lpVtbl->GetSite(ctx);
    DWORD id = site ? site->lpVtbl->GetSiteId(site) : 0;
    IAppHostElement *log =
        modcfg_section_at(g_server, L"MACHINE/WEBROOT/APPHOST", L"system.applicationHost/log");
    int64_t mode = modcfg_int(log, L"centralLogFileMode", 0);
    c->t.utf8 = modcfg_bool(log, L"logInUTF8", true);
    IAppHostElement *lf = NULL, *se = NULL;
    char dir[PATH_MAX];
    bool log_site_id = true;
    if (mode == 2) {
        lf = modcfg_child(log, L"centralW3CLogFile");
        c->on = modcfg_bool(lf, L"enabled", true);
        dir_of(lf, dir, sizeof(dir) - 8);
        strcat(dir, "/W3SVC");
    } else if (mode == 1) {
        if (!__atomic_exchange_n(&g_warned_binary, true, __ATOMIC_RELAXED))
            report("warn", "centralLogFileMode=\"CentralBinary\" is not supported; nothing is logged");
    } else {
        se = modcfg_site(g_server, id);
        lf = modcfg_child(se, L"logFile");
        c->on = lf != NULL && modcfg_bool(lf, L"enabled", true);
        int64_t fmt = modcfg_int(lf, L"logFormat", 2);
        if (c->on && fmt != 2) {
            if (!__atomic_exchange_n(&g_warned_format, true, __ATOMIC_RELAXED))
                report("warn",
                       "only logFormat=\"W3C\" is supported; sites with another format are not logged");
            c->on = false;
        }
        dir_of(lf, dir, sizeof(dir) - 24);
        snprintf(dir + strlen(dir), 24, "/W3SVC%u", (unsigned)id);
        log_site_id = modcfg_bool(lf, L"logSiteId", true);
    }
    if (c->on) {
        c->t.flags = (uint32_t)modcfg_int(lf, L"logExtFileFlags", 0x2c7fcf);
        c->t.period = (int)modcfg_int(lf, L"period", W3C_DAILY);
        int64_t trunc = attr_int64(lf, L"truncateSize", 20971520);
        c->t.truncate = trunc > 0 ? (uint64_t)trunc : 20971520u;
        c->local = modcfg_bool(lf, L"localTimeRollover", false);
        int64_t ml = se != NULL ? modcfg_int(lf, L"maxLogLineLength", LINE_MAX_CAP) : LINE_MAX_CAP;
        c->max_line = ml >= 3 && ml <= LINE_MAX_CAP ? (unsigned)ml : LINE_MAX_CAP;
        c->t.w = writer_get(dir);
        c->on = c->t.w != NULL;
        if (log_site_id || site == NULL)
            snprintf(c->sitename, sizeof(c->sitename), "W3SVC%u", (unsigned)id);
        else if (modcfg_utf8(site->lpVtbl->GetSiteName(site), wcslen(site->lpVtbl->GetSiteName(site)),
                             c->sitename, sizeof(c->sitename)) == (size_t)-1)
            c->sitename[0] = '\0';
        c->sitename_len = strlen(c->sitename);
    }
    modcfg_release(lf);
    modcfg_release(se);
    modcfg_release(log);
    return c;
}

/* ---- RQ_LOG_REQUEST -------------------------------------------------- */

/* A decimal number at the end of buf (24 bytes). */
static w3c_str_t num(char *buf, unsigned long long v)
{
    char *p = buf + 24;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return (w3c_str_t){p, (size_t)(buf + 24 - p)};
}

static w3c_str_t svar(IHttpContext *ctx, const char *name)
{
    PCSTR v = NULL;
    DWORD n = 0;
    if (FAILED(ctx->lpVtbl->GetServerVariableA(ctx, name, &v, &n)) || v == NULL)
        return (w3c_str_t){NULL, 0};
    return (w3c_str_t){v, n};
}

/*
 * The columns that are also server variables read from the request itself: the addresses and
 * ports (formatted once per thread for each address seen), the method, the protocol version and
 * the headers. They are what the variables say as long as no module has set a variable of that
 * name with SetServerVariable (no_variables_set); otherwise variable_columns reads them all as
 * variables.
 */
typedef struct {
    struct sockaddr_in6 sa;
    char ip[INET6_ADDRSTRLEN];
    char port[6];
    uint8_t ip_len, port_len;
} addr_text_t;

static __thread addr_text_t t_addr[2]; /* local, remote */

static const addr_text_t *addr_text(addr_text_t *a, const SOCKADDR *sa)
{
    size_t n = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (memcmp(&a->sa, sa, n) == 0 && a->ip_len > 0)
        return a;
    memset(&a->sa, 0, sizeof(a->sa));
    memcpy(&a->sa, sa, n);
    if (sa->sa_family == AF_INET) {
        const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        char *p = a->ip;
        for (int i = 0; i < 4; i++) {
            unsigned d = b[i];
            if (d >= 100)
                *p++ = (char)('0' + d / 100);
            if (d >= 10)
                *p++ = (char)('0' + d / 10 % 10);
            *p++ = (char)('0' + d % 10);
            *p++ = '.';
        }
        a->ip_len = (uint8_t)(p - a->ip - 1);
    } else if (inet_ntop(AF_INET6, &a->sa.sin6_addr, a->ip, sizeof(a->ip)) != NULL) {
        a->ip_len = (uint8_t)strlen(a->ip);
    } else {
        a->ip_len = 0;
    }
    char digits[24];
    w3c_str_t port = num(digits, ntohs(a->sa.sin6_port)); /* the same offset for AF_INET */
    memcpy(a->port, port.s, port.n);
    a->port_len = (uint8_t)port.n;
    return a;
}

/* True when no module has set a server variable for this request. */
static bool no_variables_set(IHttpContext *ctx)
{
    DWORD change = 0, count = 0, diffed = 0, *idx = NULL;
    PCSTR *names = NULL;
    PCWSTR *values = NULL;
    return SUCCEEDED(
               ctx->lpVtbl->GetServerVarChanges(ctx, 0, &change, &count, &names, &values, &diffed, &idx)) &&
           count == 0;
}

static w3c_str_t header(IHttpRequest *req, HTTP_HEADER_ID id)
{
    USHORT n = 0;
    PCSTR s = req->lpVtbl->GetHeaderById(req, id, &n);
    return s != NULL ? (w3c_str_t){s, n} : (w3c_str_t){NULL, 0};
}

static void request_columns(IHttpContext *ctx, uint32_t f, w3c_str_t *v)
{
    IHttpRequest *req = ctx->lpVtbl->GetRequest(ctx);
    if (f & (W3C_SERVER_IP | W3C_SERVER_PORT)) {
        PSOCKADDR sa = req->lpVtbl->GetLocalAddress(req);
        if (sa != NULL) {
            const addr_text_t *a = addr_text(&t_addr[0], sa);
            if (a->ip_len > 0)
                v[W3C_COL_SERVER_IP] = (w3c_str_t){a->ip, a->ip_len};
            v[W3C_COL_SERVER_PORT] = (w3c_str_t){a->port, a->port_len};
        }
    }
    if (f & W3C_CLIENT_IP) {
        PSOCKADDR sa = req->lpVtbl->GetRemoteAddress(req);
        const addr_text_t *a = sa != NULL ? addr_text(&t_addr[1], sa) : NULL;
        if (a != NULL && a->ip_len > 0)
            v[W3C_COL_CLIENT_IP] = (w3c_str_t){a->ip, a->ip_len};
    }
    if (f & W3C_METHOD) {
        PCSTR m = req->lpVtbl->GetHttpMethod(req);
        if (m != NULL)
            v[W3C_COL_METHOD] = (w3c_str_t){m, strlen(m)};
    }
    if (f & W3C_PROTOCOL_VERSION) {
        static __thread char version[9] = "HTTP/1.1";
        USHORT major = 1, minor = 1;
        req->lpVtbl->GetHttpVersion(req, &major, &minor);
        version[5] = (char)('0' + major % 10);
        version[7] = (char)('0' + minor % 10);
        v[W3C_COL_PROTOCOL_VERSION] = (w3c_str_t){version, 8};
    }
    if (f & W3C_USER_AGENT)
        v[W3C_COL_USER_AGENT] = header(req, HttpHeaderUserAgent);
    if (f & W3C_COOKIE)
        v[W3C_COL_COOKIE] = header(req, HttpHeaderCookie);
    if (f & W3C_REFERER)
        v[W3C_COL_REFERER] = header(req, HttpHeaderReferer);
    if (f & W3C_HOST)
        v[W3C_COL_HOST] = header(req, HttpHeaderHost);
}

static void variable_columns(IHttpContext *ctx, uint32_t f, w3c_str_t *v)
{
    if (f & W3C_SERVER_IP)
        v[W3C_COL_SERVER_IP] = svar(ctx, "LOCAL_ADDR");
    if (f & W3C_SERVER_PORT)
        v[W3C_COL_SERVER_PORT] = svar(ctx, "SERVER_PORT");
    if (f & W3C_CLIENT_IP)
        v[W3C_COL_CLIENT_IP] = svar(ctx, "REMOTE_ADDR");
    if (f & W3C_METHOD)
        v[W3C_COL_METHOD] = svar(ctx, "REQUEST_METHOD");
    if (f & W3C_PROTOCOL_VERSION)
        v[W3C_COL_PROTOCOL_VERSION] = svar(ctx, "SERVER_PROTOCOL");
    if (f & W3C_USER_AGENT)
        v[W3C_COL_USER_AGENT] = svar(ctx, "HTTP_USER_AGENT");
    if (f & W3C_COOKIE)
        v[W3C_COL_COOKIE] = svar(ctx, "HTTP_COOKIE");
    if (f & W3C_REFERER)
        v[W3C_COL_REFERER] = svar(ctx, "HTTP_REFERER");
    if (f & W3C_HOST)
        v[W3C_COL_HOST] = svar(ctx, "HTTP_HOST");
}

/* Per thread: the date and time columns and the file name of the last second seen. */
static __thread struct {
    time_t sec;
    char date[11], clock[9];
} t_now;
static __thread struct {
    time_t sec;
    char name[64];
} t_names[5][2][2]; /* by period, local, utf8 */

/* ---- a log record set by a module ---------------------------------------- */

/* The record a module set with SetLogData for this request (the server's named context), or NULL. */
static const HTTP_LOG_FIELDS_DATA *set_record(IHttpContext4 *c4)
{
    INamedContextContainer *nc = c4 != NULL ? c4->lpVtbl->GetNamedContextContainer(c4) : NULL;
    IHttpStoredContext *sc = nc != NULL ? nc->lpVtbl->GetNamedContext(nc, IISD_LOG_DATA_CONTEXT_NAME) : NULL;
    const HTTP_LOG_DATA *d = sc != NULL ? ((const IISD_LOG_DATA_CONTEXT *)sc)->pLogData : NULL;
    return d != NULL && d->Type == HttpLogDataTypeFields ? (const HTTP_LOG_FIELDS_DATA *)d : NULL;
}

static w3c_str_t field(const char *s, USHORT len)
{
    return s != NULL ? (w3c_str_t){s, len} : (w3c_str_t){NULL, 0};
}

/* A wide field of len bytes as UTF-8 in out. */
static w3c_str_t wide_field(const WCHAR *s, USHORT len, char *out, size_t cap)
{
    size_t n = s != NULL ? modcfg_utf8(s, len / sizeof(WCHAR), out, cap) : (size_t)-1;
    return n != (size_t)-1 ? (w3c_str_t){out, n} : (w3c_str_t){NULL, 0};
}

static REQUEST_NOTIFICATION_STATUS on_log(CHttpModule *This, IHttpContext *ctx, IHttpEventProvider *p)
{
    (void)This;
    (void)p;
    pcfg_t *c = modcfg_cached(g_server, ctx, g_id, load_cfg, free);
    if (c == NULL || !c->on)
        return RQ_NOTIFICATION_CONTINUE;
    IHttpResponse *resp = ctx->lpVtbl->GetResponse(ctx);
    USHORT status = 0, sub = 0, rlen = 0;
    HRESULT hr = S_OK;
    DWORD notif = 0;
    BOOL skip = FALSE;
    resp->lpVtbl->GetStatus(resp, &status, &sub, NULL, &rlen, &hr, NULL, &notif, NULL, &skip);
    if (c->dont_log && status < 400)
        return RQ_NOTIFICATION_CONTINUE;
    if (c->selective == 1 && !(status >= 100 && status <= 399))
        return RQ_NOTIFICATION_CONTINUE;
    if (c->selective == 2 && !(status >= 400 && status <= 999))
        return RQ_NOTIFICATION_CONTINUE;

    time_t now = time(NULL);
    if (t_now.sec != now) {
        w3c_date_time(now, t_now.date, t_now.clock);
        t_now.sec = now;
    }
    uint32_t f = c->t.flags;
    w3c_str_t v[W3C_NCOLS];
    memset(v, 0, sizeof(v));
    v[W3C_COL_DATE] = (w3c_str_t){t_now.date, 10};
    v[W3C_COL_TIME] = (w3c_str_t){t_now.clock, 8};
    v[W3C_COL_SITE_NAME] = (w3c_str_t){c->sitename, c->sitename_len};
    v[W3C_COL_COMPUTER_NAME] = (w3c_str_t){g_computer, strlen(g_computer)};
    char user[512];
    if (f & W3C_USER_NAME) {
        IHttpUser *u = ctx->lpVtbl->GetUser(ctx);
        PCWSTR wn = u ? u->lpVtbl->GetUserName(u) : NULL;
        if (wn != NULL && modcfg_utf8(wn, wcslen(wn), user, sizeof(user)) != (size_t)-1)
            v[W3C_COL_USER_NAME] = (w3c_str_t){user, strlen(user)};
    }
    if (f & W3C_URI_STEM)
        v[W3C_COL_URI_STEM] = svar(ctx, "URL");
    if (f & W3C_URI_QUERY)
        v[W3C_COL_URI_QUERY] = svar(ctx, "QUERY_STRING");
    if (no_variables_set(ctx))
        request_columns(ctx, f, v);
    else
        variable_columns(ctx, f, v);
    char nums[5][24];
    v[W3C_COL_HTTP_STATUS] = num(nums[0], status);
    v[W3C_COL_HTTP_SUB_STATUS] = num(nums[1], sub);
    /* a Win32 error code for HRESULT_FROM_WIN32 values, the HRESULT itself for other failures */
    unsigned long w32 = HRESULT_FACILITY(hr) == FACILITY_WIN32 ? (unsigned long)HRESULT_CODE(hr)
                        : FAILED(hr)                           ? (unsigned long)(uint32_t)hr
                                                               : 0;
    v[W3C_COL_WIN32_STATUS] = num(nums[2], w32);
    if (f & W3C_BYTES_SENT)
        v[W3C_COL_BYTES_SENT] = svar(ctx, "IISD_BYTES_SENT");
    if (f & W3C_BYTES_RECV)
        v[W3C_COL_BYTES_RECV] = svar(ctx, "IISD_BYTES_RECEIVED");
    IHttpContext4 *c4 = NULL;
    if (g_server2 == NULL || FAILED(g_server2->lpVtbl->GetExtendedInterfaceByGuid(
                                 g_server2, &IID_IHttpContext, ctx, &IID_IHttpContext4, (PVOID *)&c4)))
        c4 = NULL;
    if (f & W3C_TIME_TAKEN)
        v[W3C_COL_TIME_TAKEN] = num(nums[3], c4 != NULL ? c4->lpVtbl->GetRequestElapsedTime(c4) : 0);

    const HTTP_LOG_FIELDS_DATA *rec = set_record(c4);
    static __thread char stem[LINE_MAX_CAP / 4];
    if (rec != NULL) {
        v[W3C_COL_SITE_NAME] = field(rec->ServiceName, rec->ServiceNameLength);
        v[W3C_COL_COMPUTER_NAME] = field(rec->ServerName, rec->ServerNameLength);
        v[W3C_COL_SERVER_IP] = field(rec->ServerIp, rec->ServerIpLength);
        v[W3C_COL_METHOD] = field(rec->Method, rec->MethodLength);
        v[W3C_COL_URI_STEM] = wide_field(rec->UriStem, rec->UriStemLength, stem, sizeof(stem));
        v[W3C_COL_URI_QUERY] = field(rec->UriQuery, rec->UriQueryLength);
        v[W3C_COL_SERVER_PORT] = num(nums[4], rec->ServerPort);
        v[W3C_COL_USER_NAME] = wide_field(rec->UserName, rec->UserNameLength, user, sizeof(user));
        v[W3C_COL_CLIENT_IP] = field(rec->ClientIp, rec->ClientIpLength);
        v[W3C_COL_USER_AGENT] = field(rec->UserAgent, rec->UserAgentLength);
        v[W3C_COL_COOKIE] = field(rec->Cookie, rec->CookieLength);
        v[W3C_COL_REFERER] = field(rec->Referrer, rec->ReferrerLength);
        v[W3C_COL_HOST] = field(rec->Host, rec->HostLength);
        v[W3C_COL_HTTP_STATUS] = num(nums[0], rec->ProtocolStatus);
        v[W3C_COL_HTTP_SUB_STATUS] = num(nums[1], rec->SubStatus);
        v[W3C_COL_WIN32_STATUS] = num(nums[2], rec->Win32Status);
    }

    static __thread char line[LINE_MAX_CAP];
    size_t len = w3c_format_line(f, v, line, c->max_line);

    target_t t = c->t;
    if (t.period == W3C_MAXSIZE) {
        t.name[0] = '\0';
    } else {
        int pi = t.period > W3C_MAXSIZE && t.period <= W3C_HOURLY ? t.period : W3C_DAILY;
        __typeof__(t_names[0][0][0]) *cn = &t_names[pi][c->local][t.utf8];
        if (cn->sec != now || cn->name[0] == '\0') {
            w3c_file_name(pi, t.utf8, c->local, now, 0, cn->name, sizeof(cn->name));
            cn->sec = now;
        }
        memcpy(t.name, cn->name, sizeof(t.name));
    }
    log_line(&t, line, len);
    return RQ_NOTIFICATION_CONTINUE;
}

/* ---- registration ---------------------------------------------------- */

static CHttpModuleVtbl log_vtbl;
static CHttpModule log_module = {&log_vtbl};

static HRESULT factory_GetHttpModule(IHttpModuleFactory *This, CHttpModule **pp, IModuleAllocator *alloc)
{
    (void)This;
    (void)alloc;
    *pp = &log_module; /* stateless: one shared object */
    return S_OK;
}

/* At shutdown, after the last request: every buffered line goes to its file. */
static VOID factory_Terminate(IHttpModuleFactory *This)
{
    (void)This;
    if (g_flusher_on) {
        pthread_mutex_lock(&g_flusher_mu);
        g_stop = true;
        pthread_cond_signal(&g_flusher_cv);
        pthread_mutex_unlock(&g_flusher_mu);
        pthread_join(g_flusher, NULL);
        g_flusher_on = false;
    }
    flush_all();
    pthread_mutex_lock(&g_tbufs_mu);
    g_terminated = true; /* a thread exiting from now on leaves its (freed) buffer alone */
    while (g_tbufs != NULL) {
        tbuf_t *b = g_tbufs;
        g_tbufs = b->next;
        tbuf_free(b);
    }
    pthread_mutex_unlock(&g_tbufs_mu);
    if (g_key_made) {
        pthread_key_delete(g_key);
        g_key_made = false;
    }
    t_buf = NULL;
    pthread_mutex_lock(&g_writers_mu);
    while (g_writers != NULL) {
        writer_t *w = g_writers;
        g_writers = w->next;
        if (w->fd >= 0)
            close(w->fd);
        pthread_mutex_destroy(&w->mu);
        free(w);
    }
    pthread_mutex_unlock(&g_writers_mu);
}

static const IHttpModuleFactoryVtbl factory_vtbl = {.GetHttpModule = factory_GetHttpModule,
                                                    .Terminate = factory_Terminate};
static IHttpModuleFactory factory = {&factory_vtbl};

HRESULT WINAPI IISD_MODULE_ENTRY(HttpLoggingModule)(DWORD, IHttpModuleRegistrationInfo *, IHttpServer *);
HRESULT WINAPI IISD_MODULE_ENTRY(HttpLoggingModule)(DWORD ver, IHttpModuleRegistrationInfo *info,
                                                    IHttpServer *srv)
{
    (void)ver;
    g_server = srv;
    g_id = info->lpVtbl->GetId(info);
    PVOID s2 = NULL;
    if (SUCCEEDED(srv->lpVtbl->GetExtendedInterface(srv, HTTP_SERVER_INTERFACE_V2, &s2)))
        g_server2 = s2;
    if (gethostname(g_computer, sizeof(g_computer) - 1) != 0)
        snprintf(g_computer, sizeof(g_computer), "localhost");
    if (!g_key_made)
        g_key_made = pthread_key_create(&g_key, tbuf_thread_exit) == 0;
    log_vtbl.OnLogRequest = on_log;
    log_vtbl.Dispose = iisd_module_dispose;
    HRESULT hr = info->lpVtbl->SetRequestNotifications(info, &factory, RQ_LOG_REQUEST, 0);
    if (SUCCEEDED(hr))
        flusher_start();
    return hr;
}
