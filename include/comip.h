/*
 * comip.h - iisd compatibility header: _com_ptr_t lives in comdef.h.
 */
#ifndef IISD_COMIP_H
#define IISD_COMIP_H
#include "comdef.h"
#endif /* IISD_COMIP_H */
