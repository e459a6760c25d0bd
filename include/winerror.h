/*
 * winerror.h - iisd compatibility header: everything lives in windows.h.
 */
#ifndef IISD_WINERROR_H
#define IISD_WINERROR_H
#include "windows.h"
#endif /* IISD_WINERROR_H */
