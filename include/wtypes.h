/*
 * wtypes.h - iisd compatibility header: BSTR, VARTYPE, VARIANT_BOOL, DECIMAL, CY live in iisd_com.h.
 */
#ifndef IISD_WTYPES_H
#define IISD_WTYPES_H
#include "iisd_com.h"
#endif /* IISD_WTYPES_H */
