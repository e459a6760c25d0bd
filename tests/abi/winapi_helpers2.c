/*
 * winapi_helpers2.c - second translation unit for winapi_helpers.c: the
 * last-error value must be the same object in both.
 */
#include <windows.h>

#ifdef __cplusplus
extern "C" {
#endif
void helpers2_set_last_error(DWORD value);
DWORD helpers2_get_last_error(void);
#ifdef __cplusplus
}
#endif

void helpers2_set_last_error(DWORD value)
{
    SetLastError(value);
}

DWORD helpers2_get_last_error(void)
{
    return GetLastError();
}
