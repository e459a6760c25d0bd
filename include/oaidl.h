/*
 * oaidl.h - iisd compatibility header: IDispatch, VARIANT, SAFEARRAY, DISPPARAMS, EXCEPINFO live in
 * iisd_com.h.
 */
#ifndef IISD_OAIDL_H
#define IISD_OAIDL_H
#include "iisd_com.h"
#endif /* IISD_OAIDL_H */
