/*
 * guiddef.h - iisd compatibility header: everything lives in windows.h.
 */
#ifndef IISD_GUIDDEF_H
#define IISD_GUIDDEF_H
#include "windows.h"
#endif /* IISD_GUIDDEF_H */
