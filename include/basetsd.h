/*
 * basetsd.h - iisd compatibility header: everything lives in windows.h.
 */
#ifndef IISD_BASETSD_H
#define IISD_BASETSD_H
#include "windows.h"
#endif /* IISD_BASETSD_H */
