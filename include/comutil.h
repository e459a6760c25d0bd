/*
 * comutil.h - iisd compatibility header: _bstr_t and _variant_t live in comdef.h.
 */
#ifndef IISD_COMUTIL_H
#define IISD_COMUTIL_H
#include "comdef.h"
#endif /* IISD_COMUTIL_H */
