/*
 * ole2.h - iisd compatibility header: IUnknown, IDispatch, BSTR, VARIANT (no COM runtime: no
 * CoCreateInstance) live in iisd_com.h.
 */
#ifndef IISD_OLE2_H
#define IISD_OLE2_H
#include "iisd_com.h"
#endif /* IISD_OLE2_H */
