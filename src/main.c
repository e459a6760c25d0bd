/*
 * iisd: a Linux web server whose extension model is the IIS native module API.
 *
 *   iisd --port N [--path DIR] [--module NAME=PATH]... [--config FILE] [--workers N]
 */
#include "config/conf.h"
#include "core/arena.h"
#include "config/embedded.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "http/conn.h"
#include "net/worker.h"
#include "pipeline/engine.h"
#include "pipeline/adminapi.h"
#include "pipeline/cacheops.h"
#include "pipeline/globals.h"
#include "pipeline/module.h"
#include "pipeline/reload.h"
#include "pipeline/server.h"
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IISD_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f, "usage: iisd --port N [--path DIR] [--module NAME=PATH]... [--config FILE]\n"
               "            [--schema-dir DIR] [--workers N] [--log-level error|warn|info|debug]\n"
               "            [--takeover-ms MS] [--dump-pipeline] [--print-default-config]\n"
               "\n"
               "Serves DIR (default: the current folder) on 127.0.0.1:N through the IIS integrated\n"
               "pipeline, with the built-in default applicationHost.config. --config reads a full\n"
               "applicationHost.config instead (--port and --path then override the first site's\n"
               "binding and root). --module loads an IIS native module (.so exporting RegisterModule)\n"
               "and enables it in every application. --schema-dir adds configuration schema files\n"
               "(default: the schema folder beside the configuration file). A loop whose thread has\n"
               "been inside module code for --takeover-ms (default 30; 0: never) is handed to\n"
               "another thread.\n");
}

typedef struct {
    const char *name, *path;
} cli_module_t;

static void IISD_COLD die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    iisd_logv(IISD_LOG_ERROR, fmt, ap);
    va_end(ap);
    exit(1);
}

static iisd_hloop_t *hloops;
static unsigned nloops;

static void drain_loop(iisd_loop_t *loop, void *arg)
{
    (void)arg;
    iisd_hloop_drain((iisd_hloop_t *)loop);
}

static unsigned open_connections(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < nloops; i++)
        n += __atomic_load_n(&hloops[i].nconns, __ATOMIC_RELAXED);
    return n;
}

static void thread_exit(void)
{
    iisd_global_thread_cleanup();
    iisd_http_thread_cleanup();
}

static uint32_t parse_uint(const char *opt, const char *v, uint32_t max)
{
    char *end;
    errno = 0;
    unsigned long u = strtoul(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0 || u > max)
        die("%s: \"%s\" is not a whole number from 0 to %u", opt, v, max);
    return (uint32_t)u;
}

struct listen_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    char text[80];
};

static struct listen_addr *addrs;
static unsigned naddrs;

/* Every distinct address:port of the sites' http bindings. */
static void listen_addrs(const iisd_conf_t *conf, struct listen_addr **out, unsigned *nout)
{
    struct listen_addr *v = NULL;
    unsigned n = 0;
    for (unsigned i = 0; i < conf->sites.n; i++) {
        for (unsigned j = 0; j < conf->sites.v[i].nbindings; j++) {
            const iisd_binding_t *b = &conf->sites.v[i].bindings[j];
            if (strcasecmp(b->protocol, "http") != 0)
                continue;
            struct listen_addr la;
            memset(&la, 0, sizeof(la));
            const char *ip = strcmp(b->ip, "*") == 0 ? "0.0.0.0" : b->ip;
            struct sockaddr_in *s4 = (struct sockaddr_in *)&la.sa;
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&la.sa;
            if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                s4->sin_port = htons(b->port);
                la.len = sizeof(*s4);
                snprintf(la.text, sizeof(la.text), "%s:%u", ip, b->port);
            } else {
                char tmp[64];
                snprintf(tmp, sizeof(tmp), "%s", ip[0] == '[' ? ip + 1 : ip);
                char *br = strchr(tmp, ']');
                if (br)
                    *br = '\0';
                if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) != 1) {
                    iisd_log(IISD_LOG_ERROR, "site %s: binding address \"%s\" is not an IPv4 or IPv6 address",
                             conf->sites.v[i].name, ip);
                    continue;
                }
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons(b->port);
                la.len = sizeof(*s6);
                snprintf(la.text, sizeof(la.text), "[%s]:%u", tmp, b->port);
            }
            bool dup = false;
            for (unsigned k = 0; k < n; k++)
                dup |= v[k].len == la.len && memcmp(&v[k].sa, &la.sa, la.len) == 0;
            if (!dup) {
                v = iisd_xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = la;
            }
        }
    }
    *out = v;
    *nout = n;
}

static bool has_addr(const struct listen_addr *v, unsigned n, const struct listen_addr *a)
{
    for (unsigned i = 0; i < n; i++)
        if (v[i].len == a->len && memcmp(&v[i].sa, &a->sa, a->len) == 0)
            return true;
    return false;
}

struct listen_change {
    const struct listen_addr *add, *del;
};

static void change_listener(iisd_loop_t *loop, void *arg)
{
    const struct listen_change *ch = arg;
    iisd_hloop_t *hl = (iisd_hloop_t *)loop;
    if (ch->add != NULL) {
        int rc = iisd_hloop_listen(hl, (const struct sockaddr *)&ch->add->sa, ch->add->len);
        if (rc < 0)
            iisd_log(IISD_LOG_ERROR, "cannot listen on %s: %s", ch->add->text, strerror(-rc));
    }
    if (ch->del != NULL)
        iisd_hloop_unlisten(hl, (const struct sockaddr *)&ch->del->sa, ch->del->len);
}

/* After a reload: listen on new binding addresses, stop listening on dropped ones. */
static void sync_listeners(iisd_conf_t *conf)
{
    struct listen_addr *now;
    unsigned nnow;
    listen_addrs(conf, &now, &nnow);
    for (unsigned i = 0; i < nnow; i++)
        if (!has_addr(addrs, naddrs, &now[i])) {
            struct listen_change ch = {.add = &now[i]};
            iisd_workers_broadcast(change_listener, &ch);
            iisd_log(IISD_LOG_INFO, "now listening on %s", now[i].text);
        }
    for (unsigned i = 0; i < naddrs; i++)
        if (!has_addr(now, nnow, &addrs[i])) {
            struct listen_change ch = {.del = &addrs[i]};
            iisd_workers_broadcast(change_listener, &ch);
            iisd_log(IISD_LOG_INFO, "no longer listening on %s", addrs[i].text);
        }
    free(addrs);
    addrs = now;
    naddrs = nnow;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *config_file = NULL, *schema_dir = NULL;
    int port = -1;
    unsigned workers = 0;
    unsigned takeover_ms = 30;
    bool dump = false;
    cli_module_t *cli_mods = iisd_xcalloc((size_t)argc, sizeof(*cli_mods));
    unsigned ncli = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("iisd %s\n", IISD_VERSION);
            return 0;
        } else if (strcmp(a, "--dump-pipeline") == 0) {
            dump = true;
            continue;
        } else if (strcmp(a, "--print-default-config") == 0) {
            fwrite(iisd_embedded_apphost, 1, iisd_embedded_apphost_len(), stdout);
            free(cli_mods);
            return 0;
        }
        if (v == NULL) {
            usage(stderr);
            die("%s needs a value", a);
        }
        i++;
        if (strcmp(a, "--port") == 0) {
            port = (int)parse_uint(a, v, 65535);
        } else if (strcmp(a, "--path") == 0) {
            path = v;
        } else if (strcmp(a, "--config") == 0) {
            config_file = v;
        } else if (strcmp(a, "--schema-dir") == 0) {
            schema_dir = v;
        } else if (strcmp(a, "--workers") == 0) {
            workers = parse_uint(a, v, 256);
        } else if (strcmp(a, "--takeover-ms") == 0) {
            takeover_ms = parse_uint(a, v, 60000);
        } else if (strcmp(a, "--log-level") == 0) {
            static const char *const lv[] = {"error", "warn", "info", "debug"};
            unsigned k = 0;
            while (k < 4 && strcmp(v, lv[k]) != 0)
                k++;
            if (k == 4)
                die("--log-level: \"%s\" is not one of error, warn, info, debug", v);
            iisd_log_threshold = (enum iisd_log_level)k;
        } else if (strcmp(a, "--module") == 0) {
            const char *eq = strchr(v, '=');
            if (eq == NULL || eq == v || eq[1] == '\0')
                die("--module: \"%s\" is not NAME=PATH", v);
            cli_mods[ncli].name = iisd_xstrndup(v, (size_t)(eq - v));
            cli_mods[ncli].path = eq + 1;
            ncli++;
        } else {
            usage(stderr);
            die("unknown option %s", a);
        }
    }

    if (config_file == NULL && port < 0 && !dump) {
        usage(stderr);
        die("no port: give --port N (or a configuration with --config)");
    }
    char root[PATH_MAX];
    const char *site_root = NULL;
    if (path != NULL || config_file == NULL) {
        if (realpath(path ? path : ".", root) == NULL)
            die("site root %s: %s", path ? path : ".", strerror(errno));
        site_root = root;
    }

    /* Signals: the main thread waits for them; every other thread blocks them. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTRAP, SIG_IGN); /* DebugBreak() in module code: a no-op unless a debugger is attached */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    /* The configuration: schema (built in, plus a schema folder), then the files. */
    char err[2048];
    static iisd_schema_t schema;
    char default_schema_dir[PATH_MAX];
    if (schema_dir == NULL && config_file != NULL) {
        snprintf(default_schema_dir, sizeof(default_schema_dir), "%s", config_file);
        char *slash = strrchr(default_schema_dir, '/');
        snprintf(slash ? slash + 1 : default_schema_dir,
                 sizeof(default_schema_dir) - (size_t)(slash ? slash + 1 - default_schema_dir : 0), "schema");
        schema_dir = default_schema_dir;
    }
    if (iisd_conf_load_schema(&schema, schema_dir, err, sizeof(err)) < 0)
        die("configuration schema error: %s", err);
    iisd_conf_opts_t copts = {.file = config_file, .site_root = site_root, .port = port, .schema = &schema};
    iisd_conf_t *conf = iisd_conf_load(&copts, err, sizeof(err));
    if (conf == NULL)
        die("configuration error: %s", err);
    if (config_file != NULL) {
        char abs[PATH_MAX];
        iisd_server_set_config_file(realpath(config_file, abs) ? abs : config_file);
    }

    /* Modules: <globalModules>, then --module (enabled after the configured ones in every
       application), then the built-in modules the configuration does not name (last, as the
       catch-all StaticFile mapping sits last in IIS's <handlers>). */
    /* modules may read their configuration in RegisterModule, before the pipeline runs */
    iisd_adminapi_set_fallback_conf(conf);
    char missing[1024] = "";
    for (unsigned i = 0; i < conf->ngmods; i++) {
        const iisd_gmodule_t *g = &conf->gmods[i];
        if (!iisd_precondition_holds(g->precondition)) {
            iisd_log(IISD_LOG_INFO, "module %s not loaded: its preCondition \"%s\" does not hold in iisd",
                     g->name, g->precondition);
            iisd_module_mark_unavailable(g->name);
            continue;
        }
        if (g->image == NULL && iisd_builtin_find(g->name) == NULL) {
            iisd_module_mark_unavailable(g->name);
            size_t k = strlen(missing);
            snprintf(missing + k, sizeof(missing) - k, "%s%s", k ? ", " : "", g->name);
            continue;
        }
        if (iisd_module_load(g->name, g->image, err, sizeof(err)) == NULL)
            die("%s", err);
    }
    if (missing[0])
        iisd_log(IISD_LOG_WARN,
                 "<globalModules> names built-in modules this build does not have; skipped: %s", missing);
    iisd_module_t **tail = iisd_xcalloc(ncli + 16, sizeof(*tail));
    unsigned ntail = 0;
    for (unsigned i = 0; i < ncli; i++) {
        iisd_module_t *m = iisd_module_load(cli_mods[i].name, cli_mods[i].path, err, sizeof(err));
        if (m == NULL)
            die("%s", err);
        tail = iisd_xrealloc(tail, (ntail + 1) * sizeof(*tail));
        tail[ntail++] = m;
    }
    for (const iisd_builtin_t *b = iisd_builtins; b->name != NULL; b++) {
        if (b->reg == NULL || iisd_module_find(b->name) != NULL || iisd_module_unavailable(b->name))
            continue;
        iisd_module_t *m = iisd_module_load(b->name, NULL, err, sizeof(err));
        if (m == NULL)
            die("%s", err);
        tail = iisd_xrealloc(tail, (ntail + 1) * sizeof(*tail));
        tail[ntail++] = m;
    }
    if (iisd_pipeline_prepare(conf, tail, ntail, err, sizeof(err)) < 0)
        die("configuration error: %s", err);
    iisd_pipeline.global = iisd_plan_build(iisd_modules.v, iisd_modules.n);
    iisd_pipeline.conf = conf;
    iisd_adminapi_set_fallback_conf(NULL);
    if (dump) {
        char out[16384];
        out[0] = '\0';
        if (conf->sites.n > 0) {
            const iisd_sitedef_t *s0 = &conf->sites.v[0];
            iisd_plan_t *p0 = *(iisd_plan_t **)s0->apps[s0->napps - 1].data;
            if (p0 != NULL)
                iisd_plan_dump(p0, out, sizeof(out));
            fputs(out, stdout);
        }
        return 0;
    }

    iisd_http_cfg_t hcfg;
    iisd_http_cfg_defaults(&hcfg);
    hcfg.header_timeout_ms = conf->header_timeout_ms;
    hcfg.idle_timeout_ms = conf->idle_timeout_ms;
    hcfg.min_send_rate = conf->min_send_rate;
    hcfg.max_body = conf->max_body;

    listen_addrs(conf, &addrs, &naddrs);
    if (naddrs == 0)
        die("no site has an http binding: nothing to listen on");

    if (workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (unsigned)n : 1;
    }
    nloops = workers;
    hloops = iisd_xcalloc(nloops, sizeof(*hloops));
    iisd_loop_t **loops = iisd_xcalloc(nloops, sizeof(*loops));
    for (unsigned i = 0; i < nloops; i++) {
        int rc = iisd_hloop_init(&hloops[i], i, &hcfg, &iisd_pipeline_handler);
        if (rc < 0)
            die("cannot create an event loop: %s", strerror(-rc));
        for (unsigned k = 0; k < naddrs; k++) {
            rc = iisd_hloop_listen(&hloops[i], (struct sockaddr *)&addrs[k].sa, addrs[k].len);
            if (rc < 0)
                die("cannot listen on %s: %s", addrs[k].text, strerror(-rc));
        }
        loops[i] = &hloops[i].loop;
    }
    /* applications with preloadEnabled start before the first request is taken */
    iisd_pipeline_preload(conf);
    iisd_worker_opts_t wopts = {.takeover_ms = takeover_ms,
                                .max_threads = 256,
                                .on_thread_exit = thread_exit,
                                .on_thread_spare = iisd_global_thread_cleanup};
    int rc = iisd_workers_start(loops, nloops, &wopts);
    if (rc < 0)
        die("cannot start worker threads: %s", strerror(-rc));
    for (unsigned i = 0; i < conf->sites.n; i++) {
        const iisd_sitedef_t *sd = &conf->sites.v[i];
        char *phys = iisd_site_map(sd, "/", 1);
        for (unsigned j = 0; j < sd->nbindings; j++)
            iisd_log(IISD_LOG_INFO, "site %s (%u): http://%s:%u/%s%s serves %s", sd->name, (unsigned)sd->id,
                     strcmp(sd->bindings[j].ip, "*") == 0 ? "*" : sd->bindings[j].ip, sd->bindings[j].port,
                     sd->bindings[j].host[0] ? " for host " : "", sd->bindings[j].host,
                     phys ? phys : "(nothing)");
        free(phys);
    }
    /* (an application's first request may already be adding the modules it registers) */
    unsigned nmods = __atomic_load_n(&iisd_modules.n, __ATOMIC_ACQUIRE);
    iisd_log(IISD_LOG_INFO, "iisd %s running with %u worker%s, %u module%s loaded, configuration %s",
             IISD_VERSION, nloops, nloops == 1 ? "" : "s", nmods, nmods == 1 ? "" : "s",
             config_file ? config_file : "(built-in default)");

    iisd_reload_set_hook(sync_listeners);
    rc = iisd_reload_start(&copts, tail, ntail);
    if (rc < 0)
        iisd_log(IISD_LOG_WARN, "configuration changes will not be picked up while running: %s",
                 strerror(-rc));
    rc = iisd_globals_start();
    if (rc < 0)
        iisd_log(IISD_LOG_WARN, "no file change monitors, cache cleanup or health checks: %s", strerror(-rc));
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && (sig == SIGHUP || sig == SIGUSR1)) {
        if (sig == SIGUSR1) {
            /* the run-time status query: GL_RSCA_QUERY on the server thread, answers in the log */
            iisd_globals_rsca_query("GetStatus", "");
            continue;
        }
        iisd_log(IISD_LOG_INFO, "SIGHUP: reloading the configuration");
        iisd_reload_request();
    }
    iisd_reload_stop();
    iisd_log(IISD_LOG_INFO, "%s: stopping: no new connections; finishing requests in flight",
             sig == SIGINT ? "SIGINT" : "SIGTERM");

    iisd_global_stop_listening(true);
    iisd_workers_broadcast(drain_loop, NULL);
    uint64_t deadline = iisd_now_ms() + 10000;
    while (open_connections() > 0 && iisd_now_ms() < deadline) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (open_connections() > 0)
        iisd_log(IISD_LOG_WARN, "%u connection(s) still open after 10 s; closing them", open_connections());
    iisd_workers_stop();
    iisd_globals_stop();
    for (unsigned i = 0; i < nloops; i++)
        iisd_hloop_destroy(&hloops[i]);
    iisd_server_set_terminating();
    iisd_cache_clear();
    iisd_conf_unref(iisd_pipeline.conf);
    iisd_pipeline.conf = NULL;
    iisd_modules_terminate();
    iisd_plan_free(iisd_pipeline.global);
    iisd_schema_free(&schema);
    iisd_server_set_config_file(NULL);
    iisd_site_gates_free();
    iisd_log(IISD_LOG_INFO, "stopped");
    free(hloops);
    free(loops);
    free(addrs);
    free(tail);
    for (unsigned i = 0; i < ncli; i++)
        free((char *)cli_mods[i].name);
    free(cli_mods);
    iisd_arena_thread_cleanup();
    return 0;
}
