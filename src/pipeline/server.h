/* The process-wide IHttpServer (IHttpServer2/3) object handed to RegisterModule. */
#pragma once
#include <httpserv.h>

/* dwServerVersion passed to RegisterModule: the IIS major version we match. */
#define IISD_SERVER_VERSION 10

IHttpServer *iisd_http_server(void);
/* True once shutdown has begun (IHttpServer::GetFileInfo and friends then fail). */
void iisd_server_set_terminating(void);
/* The iisd extension IIisdUserFactory (user.c): the server's IHttpUser for authentication modules. */
IIisdUserFactory *iisd_user_factory(void);
/* The applicationHost.config file (absolute path) IHttpServer2::GetAppPoolConfigFile returns; NULL: none. */
void iisd_server_set_config_file(const char *path);
