/*
 * unknwn.h - iisd compatibility header: IUnknown live in iisd_com.h.
 */
#ifndef IISD_UNKNWN_H
#define IISD_UNKNWN_H
#include "iisd_com.h"
#endif /* IISD_UNKNWN_H */
