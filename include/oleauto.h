/*
 * oleauto.h - iisd compatibility header: SysAllocString, VariantClear, VariantChangeType, SafeArray* live in
 * iisd_com.h.
 */
#ifndef IISD_OLEAUTO_H
#define IISD_OLEAUTO_H
#include "iisd_com.h"
#endif /* IISD_OLEAUTO_H */
