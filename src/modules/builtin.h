/*
 * Built-in modules are ordinary IIS native modules. Linked into iisd, each
 * one's entry point is <Name>_RegisterModule and sits in the table in
 * builtin.c; built alone as a .so (-DIISD_MODULE_SO) it is RegisterModule.
 */
#pragma once
#include <stdbool.h>

#ifdef IISD_MODULE_SO
/* the image's one exported symbol (it is built with -fvisibility=hidden) */
#define IISD_MODULE_ENTRY(name) __attribute__((visibility("default"))) RegisterModule
#else
#define IISD_MODULE_ENTRY(name) name##_RegisterModule
#endif
