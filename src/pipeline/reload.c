#include "pipeline/reload.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "pipeline/engine.h"
#include "pipeline/server.h"
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

typedef struct watch {
    int wd;
    char *dir;
} watch_t;

static struct {
    const iisd_conf_opts_t *opts;
    iisd_module_t **tail;
    unsigned ntail;
    int ifd, efd;
    pthread_t thread;
    bool running;
    watch_t *w;
    unsigned nw;
    char apphost_dir[PATH_MAX];
    char apphost_name[256];
    /* what changed since the last reload, as configuration paths */
    char **changed;
    unsigned nchanged;
    void (*hook)(iisd_conf_t *conf);
    /* the generation whose folders are all watched (one reference held), and how many */
    iisd_conf_t *synced;
    unsigned nsynced;
    bool hup, recycle; /* why the eventfd was written (atomic) */
} R = {.ifd = -1, .efd = -1};

void iisd_reload_set_hook(void (*fn)(iisd_conf_t *conf))
{
    R.hook = fn;
}

/* Returns true when a new watch was added. */
static bool watch_dir(const char *dir)
{
    for (unsigned i = 0; i < R.nw; i++)
        if (strcmp(R.w[i].dir, dir) == 0)
            return false;
    int wd = inotify_add_watch(R.ifd, dir,
                               IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                   IN_ATTRIB | IN_DONT_FOLLOW | IN_ONLYDIR);
    if (wd < 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            iisd_log(IISD_LOG_WARN, "cannot watch %s for configuration changes: %s", dir, strerror(errno));
        return false;
    }
    R.w = iisd_xrealloc(R.w, (R.nw + 1) * sizeof(*R.w));
    R.w[R.nw].wd = wd;
    R.w[R.nw].dir = iisd_xstrdup(dir);
    R.nw++;
    return true;
}

static void note_change(const char *path);

/* Watches every folder the current generation looked in. Returns true when a
   folder's web.config changed between being read and being watched. */
static bool sync_watches(void)
{
    bool changed = false;
    if (R.apphost_dir[0])
        watch_dir(R.apphost_dir);
    iisd_conf_t *c = iisd_pipeline_acquire();
    unsigned nfolders = iisd_cfg_folder_count(c->cfg);
    if (c == R.synced && nfolders == R.nsynced) { /* nothing new: the common case */
        iisd_conf_unref(c);
        return false;
    }
    char **folders = iisd_cfg_folders(c->cfg);
    for (char **f = folders; *f; f++) {
        if (watch_dir(*f) && iisd_cfg_folder_stale(c->cfg, *f)) {
            char *cp = iisd_cfg_path_of_folder(c->cfg, *f);
            note_change(cp ? cp : "MACHINE/WEBROOT/APPHOST");
            free(cp);
            changed = true;
        }
    }
    iisd_cfg_list_free(folders);
    if (R.synced != c) { /* keep c, so that no later generation can be taken for it */
        iisd_conf_unref(R.synced);
        R.synced = c;
    } else {
        iisd_conf_unref(c);
    }
    R.nsynced = nfolders;
    return changed;
}

static void note_change(const char *path)
{
    for (unsigned i = 0; i < R.nchanged; i++)
        if (strcmp(R.changed[i], path) == 0)
            return;
    R.changed = iisd_xrealloc(R.changed, (R.nchanged + 1) * sizeof(*R.changed));
    R.changed[R.nchanged++] = iisd_xstrdup(path);
}

static bool same_global_modules(const iisd_conf_t *a, const iisd_conf_t *b)
{
    if (a->ngmods != b->ngmods)
        return false;
    for (unsigned i = 0; i < a->ngmods; i++)
        if (strcasecmp(a->gmods[i].name, b->gmods[i].name) != 0 ||
            strcmp(a->gmods[i].image ? a->gmods[i].image : "", b->gmods[i].image ? b->gmods[i].image : "") !=
                0)
            return false;
    return true;
}

static void reload(void)
{
    char err[2048];
    iisd_conf_t *c = iisd_conf_load(R.opts, err, sizeof(err));
    if (c == NULL) {
        iisd_log(IISD_LOG_ERROR,
                 "configuration change rejected, the previous configuration stays in force: %s", err);
        goto done;
    }
    iisd_conf_t *old = iisd_pipeline_acquire();
    if (!same_global_modules(old, c))
        iisd_log(IISD_LOG_WARN, "changes to <globalModules> take effect when the server is restarted");
    iisd_conf_unref(old);
    if (iisd_pipeline_prepare(c, R.tail, R.ntail, err, sizeof(err)) < 0) {
        iisd_log(IISD_LOG_ERROR,
                 "configuration change rejected, the previous configuration stays in force: %s", err);
        iisd_conf_unref(c);
        goto done;
    }
    iisd_pipeline_set_conf(c);
    {
        iisd_conf_t *cur = iisd_pipeline_acquire();
        if (R.hook)
            R.hook(cur);
        iisd_pipeline_preload(cur);
        iisd_conf_unref(cur);
    }
    iisd_log(IISD_LOG_INFO, "configuration reloaded (%u change%s)", R.nchanged, R.nchanged == 1 ? "" : "s");
    IHttpServer *srv = iisd_http_server();
    for (unsigned i = 0; i < R.nchanged; i++) {
        size_t wl;
        size_t n = strlen(R.changed[i]);
        wchar_t *w = iisd_xmalloc((n + 1) * sizeof(wchar_t));
        wl = iisd_utf8_to_wcs(R.changed[i], n, w, n + 1);
        (void)wl;
        srv->lpVtbl->NotifyConfigurationChange(srv, w);
        free(w);
    }
done:
    for (unsigned i = 0; i < R.nchanged; i++)
        free(R.changed[i]);
    R.nchanged = 0;
}

static const char *dir_of(int wd)
{
    for (unsigned i = 0; i < R.nw; i++)
        if (R.w[i].wd == wd)
            return R.w[i].dir;
    return NULL;
}

/* Reads inotify events; returns true when a configuration file changed. */
static bool read_events(void)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool relevant = false;
    for (;;) {
        ssize_t n = read(R.ifd, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof(*ev) + ev->len;
            const char *dir = dir_of(ev->wd);
            if (dir == NULL || ev->len == 0)
                continue;
            if (strcasecmp(ev->name, "web.config") == 0) {
                iisd_conf_t *c = iisd_pipeline_acquire();
                char *cp = iisd_cfg_path_of_folder(c->cfg, dir);
                iisd_conf_unref(c);
                note_change(cp ? cp : "MACHINE/WEBROOT/APPHOST");
                free(cp);
                relevant = true;
            } else if (R.apphost_name[0] && strcmp(dir, R.apphost_dir) == 0 &&
                       strcmp(ev->name, R.apphost_name) == 0) {
                note_change("MACHINE/WEBROOT/APPHOST");
                relevant = true;
            }
        }
    }
    return relevant;
}

static void *watcher_main(void *arg)
{
    (void)arg;
    bool pending = false;
    while (__atomic_load_n(&R.running, __ATOMIC_ACQUIRE)) {
        if (sync_watches())
            pending = true;
        struct pollfd p[2] = {{.fd = R.ifd, .events = POLLIN}, {.fd = R.efd, .events = POLLIN}};
        /* after a change, wait for 100 ms of quiet: editors write files in several steps */
        int rc = poll(p, 2, pending ? 100 : 250);
        if (rc < 0 && errno != EINTR)
            break;
        if (p[1].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(R.efd, &v, sizeof(v));
            (void)r;
            if (!__atomic_load_n(&R.running, __ATOMIC_ACQUIRE))
                break;
        }
        /* (also asked for before this thread started: no wake-up came then) */
        if (__atomic_exchange_n(&R.hup, false, __ATOMIC_ACQ_REL)) {
            note_change("MACHINE/WEBROOT/APPHOST");
            pending = true;
        }
        if (__atomic_exchange_n(&R.recycle, false, __ATOMIC_ACQ_REL))
            pending = true; /* a new generation, with no configuration change to announce */
        if (p[0].revents & POLLIN) {
            if (read_events())
                pending = true;
            continue;
        }
        if (rc == 0 && pending) {
            pending = false;
            reload();
        }
    }
    iisd_conf_unref(R.synced);
    R.synced = NULL;
    iisd_arena_thread_cleanup(); /* old generations were freed on this thread */
    return NULL;
}

int iisd_reload_start(const iisd_conf_opts_t *opts, iisd_module_t **tail, unsigned ntail)
{
    R.opts = opts;
    R.tail = tail;
    R.ntail = ntail;
    if (opts->file != NULL) {
        char abs[PATH_MAX];
        if (realpath(opts->file, abs) != NULL) {
            char *slash = strrchr(abs, '/');
            snprintf(R.apphost_name, sizeof(R.apphost_name), "%s", slash + 1);
            *slash = '\0';
            snprintf(R.apphost_dir, sizeof(R.apphost_dir), "%s", abs[0] ? abs : "/");
        }
    }
    R.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (R.ifd < 0)
        return -errno;
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0)
        return -errno;
    /* the workers already run: a module may have asked for a recycle before the descriptor was
       there (it sets the flag, then looks for the descriptor; this is the other way round) */
    __atomic_store_n(&R.efd, efd, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&R.recycle, __ATOMIC_SEQ_CST) || __atomic_load_n(&R.hup, __ATOMIC_SEQ_CST)) {
        uint64_t one = 1;
        ssize_t r = write(efd, &one, sizeof(one));
        (void)r;
    }
    R.running = true;
    int rc = pthread_create(&R.thread, NULL, watcher_main, NULL);
    if (rc != 0) {
        R.running = false;
        return -rc;
    }
    return 0;
}

/* Wakes the watcher thread; before it has started, it finds the request when it does. */
static void wake(void)
{
    int efd = __atomic_load_n(&R.efd, __ATOMIC_SEQ_CST); /* -1 until the watcher is set up */
    uint64_t one = 1;
    if (efd >= 0) {
        ssize_t r = write(efd, &one, sizeof(one));
        (void)r;
    }
}

void iisd_reload_recycle(void)
{
    __atomic_store_n(&R.recycle, true, __ATOMIC_SEQ_CST);
    wake();
}

void iisd_reload_request(void)
{
    __atomic_store_n(&R.hup, true, __ATOMIC_SEQ_CST);
    wake();
}

void iisd_reload_stop(void)
{
    if (!R.running)
        return;
    __atomic_store_n(&R.running, false, __ATOMIC_RELEASE);
    uint64_t one = 1;
    ssize_t r = write(R.efd, &one, sizeof(one));
    (void)r;
    pthread_join(R.thread, NULL);
    close(R.ifd);
    close(R.efd);
    for (unsigned i = 0; i < R.nw; i++)
        free(R.w[i].dir);
    free(R.w);
    R.w = NULL;
    R.nw = 0;
    for (unsigned i = 0; i < R.nchanged; i++)
        free(R.changed[i]);
    free(R.changed);
    R.changed = NULL;
    R.nchanged = 0;
}
