/*
 * iisd: a Linux web server whose extension model is the IIS native module API.
 *
 *   iisd --port N [--path DIR] [--module NAME=PATH]... [--config FILE] [--workers N]
 */
#include "config/apphost.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "http/conn.h"
#include "net/worker.h"
#include "pipeline/engine.h"
#include "pipeline/module.h"
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
               "            [--workers N] [--log-level error|warn|info|debug] [--dump-pipeline]\n"
               "\n"
               "Serves DIR (default: the current folder) on 127.0.0.1:N through the IIS integrated\n"
               "pipeline. --module loads an IIS native module (.so exporting RegisterModule) and\n"
               "enables it after the configured ones; --config reads an applicationHost.config.\n");
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

int main(int argc, char **argv)
{
    const char *path = NULL, *config_file = NULL;
    int port = -1;
    unsigned workers = 0;
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
        } else if (strcmp(a, "--workers") == 0) {
            workers = parse_uint(a, v, 256);
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

    iisd_config_t cfg;
    iisd_config_defaults(&cfg);
    if (config_file != NULL) {
        char err[1024];
        if (iisd_config_load(&cfg, config_file, err, sizeof(err)) < 0)
            die("configuration error: %s", err);
    }
    if (path != NULL) {
        free(cfg.root);
        cfg.root = iisd_xstrdup(path);
    }
    if (cfg.root == NULL)
        cfg.root = iisd_xstrdup(".");
    if (port >= 0)
        cfg.port = (uint16_t)port;
    if (cfg.port == 0 && !dump) {
        usage(stderr);
        die("no port: give --port N or a <binding> in the configuration");
    }
    char root[PATH_MAX];
    if (realpath(cfg.root, root) == NULL)
        die("site root %s: %s", cfg.root, strerror(errno));

    /* Signals: the main thread waits for them; every other thread blocks them. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTRAP, SIG_IGN); /* DebugBreak() in module code: a no-op unless a debugger is attached */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    /* Modules: <globalModules>, then --module, each enabled in that order; then the built-in
       handlers that the configuration does not name, last, as the catch-all StaticFile mapping
       sits last in IIS's <handlers>. */
    char err[2048];
    iisd_module_t **enabled = NULL;
    unsigned nenabled = 0;
    for (unsigned i = 0; i < cfg.nglobal; i++) {
        iisd_module_t *m =
            iisd_module_load(cfg.global_modules[i].name, cfg.global_modules[i].image, err, sizeof(err));
        if (m == NULL)
            die("%s", err);
    }
    if (config_file != NULL) {
        if (cfg.modules_set) {
            for (unsigned i = 0; i < cfg.nmodules; i++) {
                iisd_module_t *m = iisd_module_find(cfg.modules[i]);
                if (m == NULL)
                    die("configuration error: %s: <modules> names %s, which is not in <globalModules>",
                        config_file, cfg.modules[i]);
                enabled = iisd_xrealloc(enabled, (nenabled + 1) * sizeof(*enabled));
                enabled[nenabled++] = m;
            }
        } else {
            for (unsigned i = 0; i < cfg.nglobal; i++) {
                enabled = iisd_xrealloc(enabled, (nenabled + 1) * sizeof(*enabled));
                enabled[nenabled++] = iisd_module_find(cfg.global_modules[i].name);
            }
        }
    }
    for (unsigned i = 0; i < ncli; i++) {
        iisd_module_t *m = iisd_module_load(cli_mods[i].name, cli_mods[i].path, err, sizeof(err));
        if (m == NULL)
            die("%s", err);
        enabled = iisd_xrealloc(enabled, (nenabled + 1) * sizeof(*enabled));
        enabled[nenabled++] = m;
    }

    for (const iisd_builtin_t *b = iisd_builtins; b->name != NULL; b++) {
        if (iisd_module_find(b->name) != NULL)
            continue;
        iisd_module_t *m = iisd_module_load(b->name, NULL, err, sizeof(err));
        if (m == NULL)
            die("%s", err);
        enabled = iisd_xrealloc(enabled, (nenabled + 1) * sizeof(*enabled));
        enabled[nenabled++] = m;
    }

    iisd_site_t site = {
        .id = cfg.site_id, .name = cfg.site_name, .root = root, .root_len = strlen(root), .port = cfg.port};
    size_t wl;
    site.wname = iisd_xmalloc((strlen(site.name) + 1) * sizeof(wchar_t));
    iisd_utf8_to_wcs(site.name, strlen(site.name), site.wname, strlen(site.name) + 1);
    wl = iisd_utf8_to_wcs(root, site.root_len, NULL, 0);
    site.wroot = iisd_xmalloc((wl + 1) * sizeof(wchar_t));
    iisd_utf8_to_wcs(root, site.root_len, site.wroot, wl + 1);
    iisd_pipeline.site = &site;
    iisd_pipeline.plan = iisd_plan_build(enabled, nenabled);
    if (dump) {
        char out[16384];
        iisd_plan_dump(iisd_pipeline.plan, out, sizeof(out));
        fputs(out, stdout);
        return 0;
    }

    iisd_http_cfg_t hcfg;
    iisd_http_cfg_defaults(&hcfg);
    hcfg.header_timeout_ms = cfg.header_timeout_ms ? cfg.header_timeout_ms : cfg.idle_timeout_ms;
    hcfg.idle_timeout_ms = cfg.idle_timeout_ms;
    hcfg.max_body = cfg.max_body;

    struct sockaddr_storage addr;
    socklen_t alen;
    memset(&addr, 0, sizeof(addr));
    const char *ip = cfg.bind_addr && *cfg.bind_addr ? cfg.bind_addr : "127.0.0.1";
    if (config_file == NULL)
        ip = "127.0.0.1";
    if (strcmp(ip, "*") == 0)
        ip = "0.0.0.0";
    struct sockaddr_in *s4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(cfg.port);
        alen = sizeof(*s4);
    } else {
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%s", ip[0] == '[' ? ip + 1 : ip);
        char *br = strchr(tmp, ']');
        if (br)
            *br = '\0';
        if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) != 1)
            die("binding address \"%s\" is not an IPv4 or IPv6 address", ip);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(cfg.port);
        alen = sizeof(*s6);
    }

    if (workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (unsigned)n : 1;
    }
    nloops = workers;
    hloops = iisd_xcalloc(nloops, sizeof(*hloops));
    iisd_loop_t **loops = iisd_xcalloc(nloops, sizeof(*loops));
    for (unsigned i = 0; i < nloops; i++) {
        int rc = iisd_hloop_init(&hloops[i], i, &hcfg, &iisd_pipeline_handler);
        if (rc == 0)
            rc = iisd_hloop_listen(&hloops[i], (struct sockaddr *)&addr, alen);
        if (rc < 0)
            die("cannot listen on %s:%u: %s", ip, cfg.port, strerror(-rc));
        loops[i] = &hloops[i].loop;
    }
    iisd_worker_opts_t wopts = {.takeover_ms = 30, .max_threads = 256, .on_thread_exit = thread_exit};
    int rc = iisd_workers_start(loops, nloops, &wopts);
    if (rc < 0)
        die("cannot start worker threads: %s", strerror(-rc));
    iisd_log(IISD_LOG_INFO, "iisd %s serving %s on http://%s:%u/ with %u worker%s and %u module%s",
             IISD_VERSION, root, ip, cfg.port, nloops, nloops == 1 ? "" : "s", nenabled,
             nenabled == 1 ? "" : "s");

    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
        iisd_log(IISD_LOG_INFO, "SIGHUP: configuration reload is not supported yet; still running");
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
    for (unsigned i = 0; i < nloops; i++)
        iisd_hloop_destroy(&hloops[i]);
    iisd_server_set_terminating();
    iisd_modules_terminate();
    iisd_plan_free(iisd_pipeline.plan);
    iisd_log(IISD_LOG_INFO, "stopped");
    free(hloops);
    free(loops);
    free(enabled);
    free(site.wname);
    free(site.wroot);
    for (unsigned i = 0; i < ncli; i++)
        free((char *)cli_mods[i].name);
    free(cli_mods);
    iisd_config_free(&cfg);
    return 0;
}
