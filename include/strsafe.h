/*
 * strsafe.h - the StringCch* and StringCb* functions of Windows' strsafe.h,
 * for iisd module sources.
 *
 * Provided, each with an A (char) and a W (WCHAR = wchar_t, 32-bit) form
 * and the unsuffixed name mapping to W when UNICODE is defined (else to A):
 *   StringCchCopy  StringCchCopyN  StringCchCat  StringCchCatN
 *   StringCchPrintf  StringCchVPrintf  StringCchLength
 *   StringCbCopy   StringCbCopyN   StringCbCat   StringCbCatN
 *   StringCbPrintf   StringCbVPrintf   StringCbLength
 * "Cch" sizes count characters, "Cb" sizes count bytes (for the W forms a
 * byte count is rounded down to whole WCHARs).
 *
 * Results (HRESULTs)
 *   S_OK                          everything fit.
 *   STRSAFE_E_INSUFFICIENT_BUFFER the destination holds the text truncated
 *                                 to fit, NUL-terminated.
 *   STRSAFE_E_INVALID_PARAMETER   size 0 or above STRSAFE_MAX_CCH, a NULL
 *                                 argument, a Cat destination that is not
 *                                 NUL-terminated within its size, or a
 *                                 format that cannot be formatted. When the
 *                                 destination can be written to it is left
 *                                 an empty string (for Cat with an
 *                                 unterminated destination: left alone).
 * StringCchLength/StringCbLength return STRSAFE_E_INVALID_PARAMETER (and 0)
 * when the string is NULL or longer than the maximum given.
 *
 * The Printf forms use Windows format semantics (see iisd_crt.h): in
 * StringCchPrintfW, %s is a wide string.
 *
 * Not provided: the Ex forms (StringCchCopyEx, ...), StringCchGets and the
 * deprecated-function diagnostics (STRSAFE_NO_DEPRECATE is accepted and
 * ignored).
 */
#ifndef IISD_STRSAFE_H
#define IISD_STRSAFE_H

#include "windows.h"
#include "iisd_crt.h"

#define STRSAFE_MAX_CCH    2147483647
#define STRSAFE_MAX_LENGTH (STRSAFE_MAX_CCH - 1)

#define STRSAFE_E_INSUFFICIENT_BUFFER ((HRESULT)0x8007007Au)
#define STRSAFE_E_INVALID_PARAMETER   ((HRESULT)0x80070057u)
#define STRSAFE_E_END_OF_FILE         ((HRESULT)0x80070026u)

typedef char *STRSAFE_LPSTR;
typedef const char *STRSAFE_LPCSTR;
typedef wchar_t *STRSAFE_LPWSTR;
typedef const wchar_t *STRSAFE_LPCWSTR;

/*
 * IISD_STRSAFE_FUNCS(CH, SFX, VFORMAT) defines the Cch functions for one
 * character type (SFX is A or W).
 */
#define IISD_STRSAFE_FUNCS(CH, SFX, VFORMAT)                                                                 \
    static inline HRESULT StringCchCopyN##SFX(CH *pszDest, size_t cchDest, const CH *pszSrc,                 \
                                              size_t cchToCopy)                                              \
    {                                                                                                        \
        size_t i;                                                                                            \
        if (pszDest == NULL || cchDest == 0 || cchDest > STRSAFE_MAX_CCH) {                                  \
            if (pszDest != NULL && cchDest != 0) {                                                           \
                pszDest[0] = 0;                                                                              \
            }                                                                                                \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        if (pszSrc == NULL || cchToCopy > STRSAFE_MAX_CCH) {                                                 \
            pszDest[0] = 0;                                                                                  \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        for (i = 0; i < cchToCopy && pszSrc[i] != 0; i++) {                                                  \
            if (i + 1 == cchDest) {                                                                          \
                pszDest[i] = 0;                                                                              \
                return STRSAFE_E_INSUFFICIENT_BUFFER;                                                        \
            }                                                                                                \
            pszDest[i] = pszSrc[i];                                                                          \
        }                                                                                                    \
        pszDest[i] = 0;                                                                                      \
        return S_OK;                                                                                         \
    }                                                                                                        \
    static inline HRESULT StringCchCopy##SFX(CH *pszDest, size_t cchDest, const CH *pszSrc)                  \
    {                                                                                                        \
        return StringCchCopyN##SFX(pszDest, cchDest, pszSrc, STRSAFE_MAX_CCH);                               \
    }                                                                                                        \
    static inline HRESULT StringCchLength##SFX(const CH *psz, size_t cchMax, size_t *pcchLength)             \
    {                                                                                                        \
        size_t n = 0;                                                                                        \
        if (psz == NULL || cchMax > STRSAFE_MAX_CCH) {                                                       \
            if (pcchLength != NULL) {                                                                        \
                *pcchLength = 0;                                                                             \
            }                                                                                                \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        while (n < cchMax && psz[n] != 0) {                                                                  \
            n++;                                                                                             \
        }                                                                                                    \
        if (n == cchMax) { /* no NUL within cchMax characters */                                             \
            if (pcchLength != NULL) {                                                                        \
                *pcchLength = 0;                                                                             \
            }                                                                                                \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        if (pcchLength != NULL) {                                                                            \
            *pcchLength = n;                                                                                 \
        }                                                                                                    \
        return S_OK;                                                                                         \
    }                                                                                                        \
    static inline HRESULT StringCchCatN##SFX(CH *pszDest, size_t cchDest, const CH *pszSrc,                  \
                                             size_t cchToAppend)                                             \
    {                                                                                                        \
        size_t used;                                                                                         \
        if (pszDest == NULL || cchDest == 0 || cchDest > STRSAFE_MAX_CCH) {                                  \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        if (FAILED(StringCchLength##SFX(pszDest, cchDest, &used))) {                                         \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        if (pszSrc == NULL) {                                                                                \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        return StringCchCopyN##SFX(pszDest + used, cchDest - used, pszSrc, cchToAppend);                     \
    }                                                                                                        \
    static inline HRESULT StringCchCat##SFX(CH *pszDest, size_t cchDest, const CH *pszSrc)                   \
    {                                                                                                        \
        return StringCchCatN##SFX(pszDest, cchDest, pszSrc, STRSAFE_MAX_CCH);                                \
    }                                                                                                        \
    static inline HRESULT StringCchVPrintf##SFX(CH *pszDest, size_t cchDest, const CH *pszFormat,            \
                                                va_list argList)                                             \
    {                                                                                                        \
        size_t len;                                                                                          \
        int r;                                                                                               \
        if (pszDest == NULL || cchDest == 0 || cchDest > STRSAFE_MAX_CCH) {                                  \
            if (pszDest != NULL && cchDest != 0) {                                                           \
                pszDest[0] = 0;                                                                              \
            }                                                                                                \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        if (pszFormat == NULL) {                                                                             \
            pszDest[0] = 0;                                                                                  \
            return STRSAFE_E_INVALID_PARAMETER;                                                              \
        }                                                                                                    \
        r = VFORMAT(pszDest, cchDest, pszFormat, argList, &len);                                             \
        return r == 0 ? S_OK : r > 0 ? STRSAFE_E_INSUFFICIENT_BUFFER : STRSAFE_E_INVALID_PARAMETER;          \
    }                                                                                                        \
    static inline HRESULT StringCchPrintf##SFX(CH *pszDest, size_t cchDest, const CH *pszFormat, ...)        \
    {                                                                                                        \
        va_list ap;                                                                                          \
        HRESULT hr;                                                                                          \
        va_start(ap, pszFormat);                                                                             \
        hr = StringCchVPrintf##SFX(pszDest, cchDest, pszFormat, ap);                                         \
        va_end(ap);                                                                                          \
        return hr;                                                                                           \
    }                                                                                                        \
    /* Byte-count forms: the size in bytes, rounded down to whole characters. */                             \
    static inline HRESULT StringCbCopy##SFX(CH *pszDest, size_t cbDest, const CH *pszSrc)                    \
    {                                                                                                        \
        return StringCchCopy##SFX(pszDest, cbDest / sizeof(CH), pszSrc);                                     \
    }                                                                                                        \
    static inline HRESULT StringCbCopyN##SFX(CH *pszDest, size_t cbDest, const CH *pszSrc, size_t cbToCopy)  \
    {                                                                                                        \
        return StringCchCopyN##SFX(pszDest, cbDest / sizeof(CH), pszSrc, cbToCopy / sizeof(CH));             \
    }                                                                                                        \
    static inline HRESULT StringCbCat##SFX(CH *pszDest, size_t cbDest, const CH *pszSrc)                     \
    {                                                                                                        \
        return StringCchCat##SFX(pszDest, cbDest / sizeof(CH), pszSrc);                                      \
    }                                                                                                        \
    static inline HRESULT StringCbCatN##SFX(CH *pszDest, size_t cbDest, const CH *pszSrc, size_t cbToAppend) \
    {                                                                                                        \
        return StringCchCatN##SFX(pszDest, cbDest / sizeof(CH), pszSrc, cbToAppend / sizeof(CH));            \
    }                                                                                                        \
    static inline HRESULT StringCbVPrintf##SFX(CH *pszDest, size_t cbDest, const CH *pszFormat,              \
                                               va_list argList)                                              \
    {                                                                                                        \
        return StringCchVPrintf##SFX(pszDest, cbDest / sizeof(CH), pszFormat, argList);                      \
    }                                                                                                        \
    static inline HRESULT StringCbPrintf##SFX(CH *pszDest, size_t cbDest, const CH *pszFormat, ...)          \
    {                                                                                                        \
        va_list ap;                                                                                          \
        HRESULT hr;                                                                                          \
        va_start(ap, pszFormat);                                                                             \
        hr = StringCchVPrintf##SFX(pszDest, cbDest / sizeof(CH), pszFormat, ap);                             \
        va_end(ap);                                                                                          \
        return hr;                                                                                           \
    }                                                                                                        \
    /* Length in bytes (without the NUL); cbMax counts bytes. */                                             \
    static inline HRESULT StringCbLength##SFX(const CH *psz, size_t cbMax, size_t *pcbLength)                \
    {                                                                                                        \
        size_t cch = 0;                                                                                      \
        HRESULT hr = StringCchLength##SFX(psz, cbMax / sizeof(CH), &cch);                                    \
        if (pcbLength != NULL) {                                                                             \
            *pcbLength = cch * sizeof(CH);                                                                   \
        }                                                                                                    \
        return hr;                                                                                           \
    }

IISD_STRSAFE_FUNCS(char, A, IisdCrtVFormatA)
IISD_STRSAFE_FUNCS(wchar_t, W, IisdCrtVFormatW)

#if defined(UNICODE) || defined(_UNICODE)
#define StringCchCopy    StringCchCopyW
#define StringCchCopyN   StringCchCopyNW
#define StringCchCat     StringCchCatW
#define StringCchCatN    StringCchCatNW
#define StringCchPrintf  StringCchPrintfW
#define StringCchVPrintf StringCchVPrintfW
#define StringCchLength  StringCchLengthW
#define StringCbCopy     StringCbCopyW
#define StringCbCopyN    StringCbCopyNW
#define StringCbCat      StringCbCatW
#define StringCbCatN     StringCbCatNW
#define StringCbPrintf   StringCbPrintfW
#define StringCbVPrintf  StringCbVPrintfW
#define StringCbLength   StringCbLengthW
#else
#define StringCchCopy    StringCchCopyA
#define StringCchCopyN   StringCchCopyNA
#define StringCchCat     StringCchCatA
#define StringCchCatN    StringCchCatNA
#define StringCchPrintf  StringCchPrintfA
#define StringCchVPrintf StringCchVPrintfA
#define StringCchLength  StringCchLengthA
#define StringCbCopy     StringCbCopyA
#define StringCbCopyN    StringCbCopyNA
#define StringCbCat      StringCbCatA
#define StringCbCatN     StringCbCatNA
#define StringCbPrintf   StringCbPrintfA
#define StringCbVPrintf  StringCbVPrintfA
#define StringCbLength   StringCbLengthA
#endif

#endif /* IISD_STRSAFE_H */
