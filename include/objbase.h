/*
 * objbase.h - iisd compatibility header: IUnknown, IDispatch, BSTR, VARIANT (no COM runtime: no
 * CoCreateInstance) live in iisd_com.h.
 */
#ifndef IISD_OBJBASE_H
#define IISD_OBJBASE_H
#include "iisd_com.h"
#endif /* IISD_OBJBASE_H */
