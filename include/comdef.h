/*
 * comdef.h - the C++ COM support classes of iisd (x86-64 Linux): _bstr_t,
 * _variant_t, _com_error, _com_ptr_t and _COM_SMARTPTR_TYPEDEF. comutil.h
 * and comip.h include this header.
 *
 * Header-only, like the rest of include/: every member function is inline
 * with hidden visibility, so a module that uses these classes exports
 * nothing new and imports only libc/libstdc++ symbols. Include it before or
 * after httpserv.h and ahadmin.h, in any order.
 *
 * Differences from the Windows classes:
 *   - Narrow strings are UTF-8 (Windows uses the ANSI code page):
 *     _bstr_t("..."), _variant_t("...") and _bstr_t's `operator const char *`
 *     convert between UTF-8 and the wchar_t (UTF-32) BSTR.
 *   - LONG is `int` and `long` is 64 bits on Linux. So _variant_t(int) and
 *     _variant_t(LONG) make VT_I4 (not VT_INT), _variant_t(unsigned int) and
 *     _variant_t(DWORD) VT_UI4, and _variant_t(long) VT_I4 when the value
 *     fits in 32 bits, VT_I8 otherwise (likewise unsigned long: VT_UI4 or
 *     VT_UI8). `operator long` accepts any value that fits in a Linux long.
 *   - _COM_SMARTPTR_TYPEDEF(I, iid) ignores iid: the IID comes from
 *     __uuidof(I) (IisdUuidOf<I>). _com_ptr_t<I> takes the interface type.
 *   - There is no COM runtime: _com_ptr_t::CreateInstance returns
 *     REGDB_E_CLASSNOTREG. _com_error carries no IErrorInfo; ErrorMessage()
 *     is "<symbolic name> (0x8007000E)" or "Unknown error 0x........", and
 *     Description()/Source() are empty.
 *   - Errors are thrown as _com_error (through _com_issue_error); when the
 *     module is built with -fno-exceptions they abort() instead.
 *   - _com_error has hidden type visibility (its typeinfo is not exported),
 *     so a class with a _com_error member or base draws a -Wattributes
 *     visibility warning.
 */
#ifndef IISD_COMDEF_H
#define IISD_COMDEF_H

#ifndef __cplusplus
#error "comdef.h is C++ only; C code uses the functions of oleauto.h (SysAllocString, VariantClear, ...)"
#endif

#include "iisd_com.h"

#include <new>

extern "C++" {

#define IISD_COMDEF_INLINE IISD_INLINE_HIDDEN inline

class _bstr_t;
class _variant_t;

/* ------------------------------------------------------------------------ */
/* _com_error                                                               */
/* ------------------------------------------------------------------------ */

/* The exception the COM support classes throw; carries the failing HRESULT. */
class __attribute__((visibility("hidden"))) _com_error
{
  public:
    explicit _com_error(HRESULT hr, void *perrinfo = NULL, bool fAddRef = false) : m_hresult(hr)
    {
        (void)perrinfo;
        (void)fAddRef;
        m_message[0] = 0;
    }
    _com_error(const _com_error &that) : m_hresult(that.m_hresult) { m_message[0] = 0; }
    virtual ~_com_error() {}
    _com_error &operator=(const _com_error &that)
    {
        m_hresult = that.m_hresult;
        m_message[0] = 0;
        return *this;
    }

    HRESULT Error() const { return m_hresult; }
    WORD WCode() const { return HRESULTToWCode(m_hresult); }
    /* No IErrorInfo in iisd: always NULL. */
    void *ErrorInfo() const { return NULL; }
    inline _bstr_t Description() const;
    inline _bstr_t Source() const;
    inline _bstr_t HelpFile() const;
    DWORD HelpContext() const { return 0; }
    ::GUID GUID() const
    {
        ::GUID g = {0, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0}};
        return g;
    }
    /* "E_OUTOFMEMORY (0x8007000E)", "IDispatch error #3" or "Unknown error 0x80041234". */
    const TCHAR *ErrorMessage() const
    {
        if (m_message[0] == 0) {
            char buf[sizeof m_message / sizeof m_message[0]];
            const char *name = Name(m_hresult);
            size_t i;
            if (name != NULL) {
                snprintf(buf, sizeof buf, "%s (0x%08X)", name, (unsigned)m_hresult);
            } else if (WCode() != 0) {
                snprintf(buf, sizeof buf, "IDispatch error #%u", (unsigned)WCode());
            } else {
                snprintf(buf, sizeof buf, "Unknown error 0x%08X", (unsigned)m_hresult);
            }
            for (i = 0; i < sizeof buf && buf[i] != 0; i++) {
                m_message[i] = (TCHAR)buf[i];
            }
            m_message[i < sizeof buf ? i : sizeof buf - 1] = 0;
        }
        return m_message;
    }

    static HRESULT WCodeToHRESULT(WORD wCode)
    {
        return wCode >= 0xFE00 ? (HRESULT)0x80040201u : (HRESULT)(0x80040200u + wCode);
    }
    static WORD HRESULTToWCode(HRESULT hr)
    {
        return ((DWORD)hr >= 0x80040200u && (DWORD)hr <= 0x8004FFFFu) ? (WORD)((DWORD)hr - 0x80040200u) : 0;
    }

  private:
    static const char *Name(HRESULT hr)
    {
        switch ((DWORD)hr) {
        case 0x80004001u:
            return "E_NOTIMPL";
        case 0x80004002u:
            return "E_NOINTERFACE";
        case 0x80004003u:
            return "E_POINTER";
        case 0x80004004u:
            return "E_ABORT";
        case 0x80004005u:
            return "E_FAIL";
        case 0x8000FFFFu:
            return "E_UNEXPECTED";
        case 0x80070005u:
            return "E_ACCESSDENIED";
        case 0x80070006u:
            return "E_HANDLE";
        case 0x8007000Eu:
            return "E_OUTOFMEMORY";
        case 0x80070057u:
            return "E_INVALIDARG";
        case 0x80020005u:
            return "DISP_E_TYPEMISMATCH";
        case 0x80020008u:
            return "DISP_E_BADVARTYPE";
        case 0x8002000Au:
            return "DISP_E_OVERFLOW";
        case 0x8002000Bu:
            return "DISP_E_BADINDEX";
        case 0x80040154u:
            return "REGDB_E_CLASSNOTREG";
        default:
            return NULL;
        }
    }

    HRESULT m_hresult;
    mutable TCHAR m_message[48];
};

/* Throws _com_error(hr) (or aborts when exceptions are disabled). */
IISD_COMDEF_INLINE void _com_issue_error(HRESULT hr)
{
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
    throw _com_error(hr);
#else
    fprintf(stderr, "iisd: COM support error 0x%08X with exceptions disabled\n", (unsigned)hr);
    abort();
#endif
}

IISD_COMDEF_INLINE void _com_issue_errorex(HRESULT hr, IUnknown *punk, REFIID riid)
{
    (void)punk;
    (void)riid;
    _com_issue_error(hr);
}

/* ------------------------------------------------------------------------ */
/* UTF-8 <-> BSTR                                                           */
/* ------------------------------------------------------------------------ */

namespace _com_util
{
/* A new BSTR holding the UTF-8 string pSrc (NULL gives NULL); throws on bad input or no memory. */
IISD_COMDEF_INLINE BSTR ConvertStringToBSTR(const char *pSrc)
{
    int n;
    BSTR b;
    if (pSrc == NULL) {
        return NULL;
    }
    if (*pSrc == 0) {
        b = SysAllocStringLen(NULL, 0);
        if (b == NULL) {
            _com_issue_error(E_OUTOFMEMORY);
        }
        return b;
    }
    n = MultiByteToWideChar(CP_UTF8, 0, pSrc, -1, NULL, 0);
    if (n <= 0) {
        _com_issue_error(HRESULT_FROM_WIN32(GetLastError()));
        return NULL;
    }
    b = SysAllocStringLen(NULL, (UINT)(n - 1));
    if (b == NULL) {
        _com_issue_error(E_OUTOFMEMORY);
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, 0, pSrc, -1, b, n);
    return b;
}

/* A new char[] (free with delete[]) holding pSrc in UTF-8 (NULL gives NULL). */
IISD_COMDEF_INLINE char *ConvertBSTRToString(BSTR pSrc)
{
    UINT len;
    int n;
    char *out;
    if (pSrc == NULL) {
        return NULL;
    }
    len = SysStringLen(pSrc);
    n = len == 0 ? 0 : WideCharToMultiByte(CP_UTF8, 0, pSrc, (int)len, NULL, 0, NULL, NULL);
    if (n < 0 || (len != 0 && n == 0)) {
        _com_issue_error(HRESULT_FROM_WIN32(GetLastError()));
        return NULL;
    }
    out = new (std::nothrow) char[(size_t)n + 1];
    if (out == NULL) {
        _com_issue_error(E_OUTOFMEMORY);
        return NULL;
    }
    if (n != 0) {
        WideCharToMultiByte(CP_UTF8, 0, pSrc, (int)len, out, n, NULL, NULL);
    }
    out[n] = 0;
    return out;
}
} // namespace _com_util

/* ------------------------------------------------------------------------ */
/* _bstr_t                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A reference-counted BSTR: copies share the string (GetBSTR() is the same
 * pointer), assignment replaces it. `operator const char *` returns a UTF-8
 * copy cached with the string. A default-constructed _bstr_t is NULL, which
 * compares equal to "".
 */
class _bstr_t
{
  public:
    IISD_COMDEF_INLINE _bstr_t() : m_Data(NULL) {}
    IISD_COMDEF_INLINE _bstr_t(const _bstr_t &s) : m_Data(s.m_Data) { _AddRef(); }
    IISD_COMDEF_INLINE _bstr_t(const char *s) : m_Data(Data_t::Create(_com_util::ConvertStringToBSTR(s))) {}
    IISD_COMDEF_INLINE _bstr_t(const wchar_t *s) : m_Data(Data_t::Create(_CopyOrThrow(s))) {}
    /* fCopy false takes ownership of bstr (freed with the last copy). */
    IISD_COMDEF_INLINE _bstr_t(BSTR bstr, bool fCopy)
        : m_Data(Data_t::Create(fCopy ? _CopyBstrOrThrow(bstr) : bstr))
    {
    }
    IISD_COMDEF_INLINE ~_bstr_t() { _Free(); }

    IISD_COMDEF_INLINE _bstr_t &operator=(const _bstr_t &s)
    {
        if (m_Data != s.m_Data) {
            _Free();
            m_Data = s.m_Data;
            _AddRef();
        }
        return *this;
    }
    IISD_COMDEF_INLINE _bstr_t &operator=(const char *s)
    {
        Data_t *d = Data_t::Create(_com_util::ConvertStringToBSTR(s));
        _Free();
        m_Data = d;
        return *this;
    }
    IISD_COMDEF_INLINE _bstr_t &operator=(const wchar_t *s)
    {
        Data_t *d = Data_t::Create(_CopyOrThrow(s));
        _Free();
        m_Data = d;
        return *this;
    }
    IISD_COMDEF_INLINE _bstr_t &operator=(const _variant_t &var);

    IISD_COMDEF_INLINE _bstr_t &operator+=(const _bstr_t &s)
    {
        _bstr_t sum = *this + s;
        return *this = sum;
    }
    IISD_COMDEF_INLINE _bstr_t operator+(const _bstr_t &s) const
    {
        UINT a = length(), b = s.length();
        BSTR r;
        if (a > IISD_BSTR_MAX_BYTES / sizeof(OLECHAR) - b) {
            _com_issue_error(E_OUTOFMEMORY);
        }
        r = SysAllocStringLen(NULL, a + b);
        if (r == NULL) {
            _com_issue_error(E_OUTOFMEMORY);
        }
        if (a != 0) {
            memcpy(r, _Wide(), a * sizeof(OLECHAR));
        }
        if (b != 0) {
            memcpy(r + a, s._Wide(), b * sizeof(OLECHAR));
        }
        return _bstr_t(r, false);
    }
    friend IISD_COMDEF_INLINE _bstr_t operator+(const char *s1, const _bstr_t &s2)
    {
        return _bstr_t(s1) + s2;
    }
    friend IISD_COMDEF_INLINE _bstr_t operator+(const wchar_t *s1, const _bstr_t &s2)
    {
        return _bstr_t(s1) + s2;
    }

    IISD_COMDEF_INLINE operator const wchar_t *() const { return _Wide(); }
    IISD_COMDEF_INLINE operator wchar_t *() const { return _Wide(); }
    /* UTF-8, converted on first use and kept until the string changes. */
    IISD_COMDEF_INLINE operator const char *() const { return _Narrow(); }
    IISD_COMDEF_INLINE operator char *() const { return _Narrow(); }

    /* True when the string is NULL (an allocated "" is not). */
    IISD_COMDEF_INLINE bool operator!() const { return _Wide() == NULL; }
    IISD_COMDEF_INLINE bool operator==(const _bstr_t &s) const { return _Compare(s) == 0; }
    IISD_COMDEF_INLINE bool operator!=(const _bstr_t &s) const { return _Compare(s) != 0; }
    IISD_COMDEF_INLINE bool operator<(const _bstr_t &s) const { return _Compare(s) < 0; }
    IISD_COMDEF_INLINE bool operator>(const _bstr_t &s) const { return _Compare(s) > 0; }
    IISD_COMDEF_INLINE bool operator<=(const _bstr_t &s) const { return _Compare(s) <= 0; }
    IISD_COMDEF_INLINE bool operator>=(const _bstr_t &s) const { return _Compare(s) >= 0; }
    IISD_COMDEF_INLINE bool operator==(const wchar_t *s) const { return _Compare(_bstr_t(s)) == 0; }
    IISD_COMDEF_INLINE bool operator!=(const wchar_t *s) const { return _Compare(_bstr_t(s)) != 0; }
    IISD_COMDEF_INLINE bool operator==(const char *s) const { return _Compare(_bstr_t(s)) == 0; }
    IISD_COMDEF_INLINE bool operator!=(const char *s) const { return _Compare(_bstr_t(s)) != 0; }

    /* A new copy of the BSTR (fCopy) or the BSTR itself (still owned by this object). */
    IISD_COMDEF_INLINE BSTR copy(bool fCopy = true) const
    {
        return fCopy ? _CopyBstrOrThrow(_Wide()) : _Wide();
    }
    /* Characters, terminator excluded. */
    IISD_COMDEF_INLINE unsigned int length() const { return SysStringLen(_Wide()); }
    /* Replaces the string by a copy of s. */
    IISD_COMDEF_INLINE void Assign(BSTR s) { *this = _bstr_t(s, true); }
    /* The BSTR itself; its storage is shared with the copies of this object. */
    IISD_COMDEF_INLINE BSTR &GetBSTR()
    {
        if (m_Data == NULL) {
            m_Data = Data_t::Create(NULL);
        }
        m_Data->Invalidate();
        return m_Data->m_wstr;
    }
    /* Frees the string and returns where an out-parameter BSTR may be stored. */
    IISD_COMDEF_INLINE BSTR *GetAddress()
    {
        Attach(NULL);
        return &m_Data->m_wstr;
    }
    /* Takes ownership of s (the previous string is released). */
    IISD_COMDEF_INLINE void Attach(BSTR s)
    {
        Data_t *d = Data_t::Create(s);
        _Free();
        m_Data = d;
    }
    /* Gives up the BSTR (the caller frees it); the object becomes NULL. */
    IISD_COMDEF_INLINE BSTR Detach()
    {
        BSTR b;
        if (m_Data == NULL) {
            return NULL;
        }
        if (m_Data->m_refs != 1) {
            b = _CopyBstrOrThrow(m_Data->m_wstr);
        } else {
            b = m_Data->m_wstr;
            m_Data->m_wstr = NULL;
        }
        _Free();
        return b;
    }

  private:
    class Data_t
    {
      public:
        BSTR m_wstr;
        char *m_str; /* cached UTF-8 */
        unsigned long m_refs;

        static IISD_COMDEF_INLINE Data_t *Create(BSTR owned)
        {
            Data_t *d = new (std::nothrow) Data_t;
            if (d == NULL) {
                SysFreeString(owned);
                _com_issue_error(E_OUTOFMEMORY);
                return NULL;
            }
            d->m_wstr = owned;
            d->m_str = NULL;
            d->m_refs = 1;
            return d;
        }
        IISD_COMDEF_INLINE void Invalidate()
        {
            delete[] m_str;
            m_str = NULL;
        }
        IISD_COMDEF_INLINE void AddRef() { __atomic_add_fetch(&m_refs, 1, __ATOMIC_RELAXED); }
        IISD_COMDEF_INLINE void Release()
        {
            if (__atomic_sub_fetch(&m_refs, 1, __ATOMIC_ACQ_REL) == 0) {
                SysFreeString(m_wstr);
                delete[] m_str;
                delete this;
            }
        }
    };

    static IISD_COMDEF_INLINE BSTR _CopyOrThrow(const wchar_t *s)
    {
        BSTR b = SysAllocString(s);
        if (b == NULL && s != NULL) {
            _com_issue_error(E_OUTOFMEMORY);
        }
        return b;
    }
    static IISD_COMDEF_INLINE BSTR _CopyBstrOrThrow(BSTR s)
    {
        BSTR b;
        if (s == NULL) {
            return NULL;
        }
        b = SysAllocStringByteLen((LPCSTR)(void *)s, SysStringByteLen(s));
        if (b == NULL) {
            _com_issue_error(E_OUTOFMEMORY);
        }
        return b;
    }
    IISD_COMDEF_INLINE wchar_t *_Wide() const { return m_Data != NULL ? m_Data->m_wstr : NULL; }
    IISD_COMDEF_INLINE char *_Narrow() const
    {
        if (m_Data == NULL || m_Data->m_wstr == NULL) {
            return NULL;
        }
        if (m_Data->m_str == NULL) {
            m_Data->m_str = _com_util::ConvertBSTRToString(m_Data->m_wstr);
        }
        return m_Data->m_str;
    }
    IISD_COMDEF_INLINE int _Compare(const _bstr_t &s) const
    {
        UINT a = length(), b = s.length(), n = a < b ? a : b, i;
        const wchar_t *x = _Wide(), *y = s._Wide();
        for (i = 0; i < n; i++) {
            if (x[i] != y[i]) {
                return x[i] < y[i] ? -1 : 1;
            }
        }
        return a == b ? 0 : (a < b ? -1 : 1);
    }
    IISD_COMDEF_INLINE void _AddRef()
    {
        if (m_Data != NULL) {
            m_Data->AddRef();
        }
    }
    IISD_COMDEF_INLINE void _Free()
    {
        if (m_Data != NULL) {
            m_Data->Release();
            m_Data = NULL;
        }
    }

    Data_t *m_Data;
};

/* ------------------------------------------------------------------------ */
/* _variant_t                                                               */
/* ------------------------------------------------------------------------ */

/*
 * A VARIANT that owns its value: copies duplicate BSTRs and AddRef
 * interfaces, the destructor VariantClears. Being a VARIANT (public base),
 * it can be passed where a VARIANT or VARIANT * is expected. Conversion
 * operators use VariantChangeType and throw _com_error on failure.
 */
class _variant_t : public ::tagVARIANT
{
  public:
    IISD_COMDEF_INLINE _variant_t() { ::VariantInit(this); }
    IISD_COMDEF_INLINE _variant_t(const VARIANT &varSrc)
    {
        ::VariantInit(this);
        _Check(::VariantCopy(this, &varSrc));
    }
    IISD_COMDEF_INLINE _variant_t(const VARIANT *pSrc)
    {
        ::VariantInit(this);
        if (pSrc == NULL) {
            _com_issue_error(E_POINTER);
        }
        _Check(::VariantCopy(this, pSrc));
    }
    IISD_COMDEF_INLINE _variant_t(const _variant_t &varSrc) : ::tagVARIANT()
    {
        ::VariantInit(this);
        _Check(::VariantCopy(this, &varSrc));
    }
    /* fCopy false takes over varSrc's value and leaves varSrc VT_EMPTY. */
    IISD_COMDEF_INLINE _variant_t(VARIANT &varSrc, bool fCopy)
    {
        ::VariantInit(this);
        if (fCopy) {
            _Check(::VariantCopy(this, &varSrc));
        } else {
            _Take(varSrc);
        }
    }
    /* vtSrc: VT_I2 or VT_BOOL. */
    IISD_COMDEF_INLINE _variant_t(short sSrc, VARTYPE vtSrc = VT_I2)
    {
        ::VariantInit(this);
        _SetShort(sSrc, vtSrc);
    }
    /* vtSrc: VT_I4 (VT_I8 if the value needs 64 bits), VT_ERROR or VT_BOOL. */
    IISD_COMDEF_INLINE _variant_t(long lSrc, VARTYPE vtSrc = VT_I4)
    {
        ::VariantInit(this);
        _SetLong(lSrc, vtSrc);
    }
    IISD_COMDEF_INLINE _variant_t(float fltSrc)
    {
        ::VariantInit(this);
        vt = VT_R4;
        fltVal = fltSrc;
    }
    /* vtSrc: VT_R8 or VT_DATE. */
    IISD_COMDEF_INLINE _variant_t(double dblSrc, VARTYPE vtSrc = VT_R8)
    {
        ::VariantInit(this);
        if (vtSrc != VT_R8 && vtSrc != VT_DATE) {
            _com_issue_error(E_INVALIDARG);
        }
        vt = vtSrc;
        dblVal = dblSrc;
    }
    IISD_COMDEF_INLINE _variant_t(const CY &cySrc)
    {
        ::VariantInit(this);
        vt = VT_CY;
        cyVal = cySrc;
    }
    IISD_COMDEF_INLINE _variant_t(const _bstr_t &bstrSrc)
    {
        ::VariantInit(this);
        _SetBstr(bstrSrc.copy());
    }
    IISD_COMDEF_INLINE _variant_t(const wchar_t *pSrc)
    {
        ::VariantInit(this);
        _SetWide(pSrc);
    }
    /* UTF-8. */
    IISD_COMDEF_INLINE _variant_t(const char *pSrc)
    {
        ::VariantInit(this);
        _SetBstr(_com_util::ConvertStringToBSTR(pSrc));
    }
    IISD_COMDEF_INLINE _variant_t(IDispatch *pSrc, bool fAddRef = true)
    {
        ::VariantInit(this);
        vt = VT_DISPATCH;
        pdispVal = pSrc;
        if (fAddRef && pSrc != NULL) {
            pSrc->AddRef();
        }
    }
    IISD_COMDEF_INLINE _variant_t(bool boolSrc)
    {
        ::VariantInit(this);
        vt = VT_BOOL;
        boolVal = boolSrc ? VARIANT_TRUE : VARIANT_FALSE;
    }
    IISD_COMDEF_INLINE _variant_t(IUnknown *pSrc, bool fAddRef = true)
    {
        ::VariantInit(this);
        vt = VT_UNKNOWN;
        punkVal = pSrc;
        if (fAddRef && pSrc != NULL) {
            pSrc->AddRef();
        }
    }
    IISD_COMDEF_INLINE _variant_t(const DECIMAL &decSrc)
    {
        ::VariantInit(this);
        decVal = decSrc;
        vt = VT_DECIMAL;
    }
    IISD_COMDEF_INLINE _variant_t(BYTE bSrc)
    {
        ::VariantInit(this);
        vt = VT_UI1;
        bVal = bSrc;
    }
    IISD_COMDEF_INLINE _variant_t(char cSrc)
    {
        ::VariantInit(this);
        vt = VT_I1;
        cVal = cSrc;
    }
    IISD_COMDEF_INLINE _variant_t(unsigned short usSrc)
    {
        ::VariantInit(this);
        vt = VT_UI2;
        uiVal = usSrc;
    }
    /* VT_UI4 when the value fits in 32 bits, VT_UI8 otherwise. */
    IISD_COMDEF_INLINE _variant_t(unsigned long ulSrc)
    {
        ::VariantInit(this);
        _SetULong(ulSrc);
    }
    /* VT_I4 (LONG is int on Linux). */
    IISD_COMDEF_INLINE _variant_t(int iSrc)
    {
        ::VariantInit(this);
        vt = VT_I4;
        lVal = iSrc;
    }
    /* VT_UI4 (ULONG and DWORD are unsigned int on Linux). */
    IISD_COMDEF_INLINE _variant_t(unsigned int uiSrc)
    {
        ::VariantInit(this);
        vt = VT_UI4;
        ulVal = uiSrc;
    }
    IISD_COMDEF_INLINE _variant_t(long long i8Src)
    {
        ::VariantInit(this);
        vt = VT_I8;
        llVal = i8Src;
    }
    IISD_COMDEF_INLINE _variant_t(unsigned long long ui8Src)
    {
        ::VariantInit(this);
        vt = VT_UI8;
        ullVal = ui8Src;
    }
    IISD_COMDEF_INLINE ~_variant_t() { ::VariantClear(this); }

    /* Conversions (VariantChangeType; _com_error on failure). */
    IISD_COMDEF_INLINE operator short() const { return _As(VT_I2).iVal; }
    IISD_COMDEF_INLINE operator unsigned short() const { return _As(VT_UI2).uiVal; }
    IISD_COMDEF_INLINE operator int() const { return _As(VT_I4).lVal; }
    IISD_COMDEF_INLINE operator unsigned int() const { return _As(VT_UI4).ulVal; }
    IISD_COMDEF_INLINE operator long() const { return (long)_As(VT_I8).llVal; }
    IISD_COMDEF_INLINE operator unsigned long() const { return (unsigned long)_As(VT_UI8).ullVal; }
    IISD_COMDEF_INLINE operator long long() const { return _As(VT_I8).llVal; }
    IISD_COMDEF_INLINE operator unsigned long long() const { return _As(VT_UI8).ullVal; }
    IISD_COMDEF_INLINE operator float() const { return _As(VT_R4).fltVal; }
    IISD_COMDEF_INLINE operator double() const { return _As(VT_R8).dblVal; }
    IISD_COMDEF_INLINE operator bool() const { return _As(VT_BOOL).boolVal != VARIANT_FALSE; }
    IISD_COMDEF_INLINE operator char() const { return _As(VT_I1).cVal; }
    IISD_COMDEF_INLINE operator BYTE() const { return _As(VT_UI1).bVal; }
    IISD_COMDEF_INLINE operator CY() const
    {
        if (vt != VT_CY) {
            _com_issue_error(DISP_E_TYPEMISMATCH);
        }
        return cyVal;
    }
    IISD_COMDEF_INLINE operator DECIMAL() const
    {
        if (vt != VT_DECIMAL) {
            _com_issue_error(DISP_E_TYPEMISMATCH);
        }
        DECIMAL d = decVal;
        d.wReserved = 0;
        return d;
    }
    IISD_COMDEF_INLINE operator _bstr_t() const
    {
        if (vt == VT_BSTR) {
            return _bstr_t(bstrVal, true);
        }
        _variant_t tmp;
        tmp.ChangeType(VT_BSTR, this);
        return _bstr_t(tmp.Detach().bstrVal, false);
    }
    /* An AddRef'ed pointer (the caller Releases it). */
    IISD_COMDEF_INLINE operator IDispatch *() const
    {
        _variant_t tmp;
        tmp.ChangeType(VT_DISPATCH, this);
        return tmp.Detach().pdispVal;
    }
    /* An AddRef'ed pointer (the caller Releases it). */
    IISD_COMDEF_INLINE operator IUnknown *() const
    {
        _variant_t tmp;
        tmp.ChangeType(VT_UNKNOWN, this);
        return tmp.Detach().punkVal;
    }

    /* Assignment: same rules as the constructors. */
    IISD_COMDEF_INLINE _variant_t &operator=(const VARIANT &varSrc)
    {
        _Check(::VariantCopy(this, &varSrc));
        return *this;
    }
    IISD_COMDEF_INLINE _variant_t &operator=(const VARIANT *pSrc)
    {
        if (pSrc == NULL) {
            _com_issue_error(E_POINTER);
        }
        _Check(::VariantCopy(this, pSrc));
        return *this;
    }
    IISD_COMDEF_INLINE _variant_t &operator=(const _variant_t &varSrc)
    {
        _Check(::VariantCopy(this, &varSrc));
        return *this;
    }
    IISD_COMDEF_INLINE _variant_t &operator=(short sSrc)
    {
        Clear();
        _SetShort(sSrc, VT_I2);
        return *this;
    }
    IISD_COMDEF_INLINE _variant_t &operator=(long lSrc)
    {
        Clear();
        _SetLong(lSrc, VT_I4);
        return *this;
    }
    IISD_COMDEF_INLINE _variant_t &operator=(float fltSrc) { return _Replace(_variant_t(fltSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(double dblSrc) { return _Replace(_variant_t(dblSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(const CY &cySrc) { return _Replace(_variant_t(cySrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(const _bstr_t &bstrSrc) { return _Replace(_variant_t(bstrSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(const wchar_t *pSrc) { return _Replace(_variant_t(pSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(const char *pSrc) { return _Replace(_variant_t(pSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(IDispatch *pSrc) { return _Replace(_variant_t(pSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(bool boolSrc) { return _Replace(_variant_t(boolSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(IUnknown *pSrc) { return _Replace(_variant_t(pSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(const DECIMAL &decSrc) { return _Replace(_variant_t(decSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(BYTE bSrc) { return _Replace(_variant_t(bSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(char cSrc) { return _Replace(_variant_t(cSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(unsigned short usSrc) { return _Replace(_variant_t(usSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(unsigned long ulSrc) { return _Replace(_variant_t(ulSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(int iSrc) { return _Replace(_variant_t(iSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(unsigned int uiSrc) { return _Replace(_variant_t(uiSrc)); }
    IISD_COMDEF_INLINE _variant_t &operator=(long long i8Src) { return _Replace(_variant_t(i8Src)); }
    IISD_COMDEF_INLINE _variant_t &operator=(unsigned long long ui8Src)
    {
        return _Replace(_variant_t(ui8Src));
    }

    /* Same type and value (BSTRs by content, interfaces by pointer). */
    IISD_COMDEF_INLINE bool operator==(const VARIANT &varSrc) const { return _Equal(varSrc); }
    IISD_COMDEF_INLINE bool operator==(const VARIANT *pSrc) const { return pSrc != NULL && _Equal(*pSrc); }
    IISD_COMDEF_INLINE bool operator!=(const VARIANT &varSrc) const { return !_Equal(varSrc); }
    IISD_COMDEF_INLINE bool operator!=(const VARIANT *pSrc) const { return pSrc == NULL || !_Equal(*pSrc); }

    /* VariantClear: frees the value, leaves VT_EMPTY. */
    IISD_COMDEF_INLINE void Clear() { _Check(::VariantClear(this)); }
    /* Takes over varSrc's value (the previous value is cleared); varSrc becomes VT_EMPTY. */
    IISD_COMDEF_INLINE void Attach(VARIANT &varSrc)
    {
        Clear();
        _Take(varSrc);
    }
    /* Gives the value to the caller (who VariantClears it); this becomes VT_EMPTY. */
    IISD_COMDEF_INLINE VARIANT Detach()
    {
        VARIANT v = *static_cast<VARIANT *>(this);
        ::VariantInit(this);
        return v;
    }
    IISD_COMDEF_INLINE VARIANT &GetVARIANT() { return *this; }
    /* Clears the value and returns this VARIANT for use as an out-parameter. */
    IISD_COMDEF_INLINE VARIANT *GetAddress()
    {
        Clear();
        return this;
    }
    /* Converts *pSrc (default: this) to vartype into this object; _com_error on failure. */
    IISD_COMDEF_INLINE void ChangeType(VARTYPE vartype, const _variant_t *pSrc = NULL)
    {
        if (pSrc == NULL) {
            pSrc = this;
        }
        if (pSrc != this || vartype != vt) {
            _Check(::VariantChangeType(this, pSrc, 0, vartype));
        }
    }
    /* Sets a VT_BSTR from UTF-8. */
    IISD_COMDEF_INLINE void SetString(const char *pSrc) { _Replace(_variant_t(pSrc)); }

  private:
    static IISD_COMDEF_INLINE void _Check(HRESULT hr)
    {
        if (FAILED(hr)) {
            _com_issue_error(hr);
        }
    }
    IISD_COMDEF_INLINE void _Take(VARIANT &varSrc)
    {
        *static_cast<VARIANT *>(this) = varSrc;
        ::VariantInit(&varSrc);
    }
    IISD_COMDEF_INLINE _variant_t &_Replace(_variant_t tmp)
    {
        Clear();
        _Take(tmp);
        return *this;
    }
    IISD_COMDEF_INLINE void _SetBstr(BSTR owned)
    {
        vt = VT_BSTR;
        bstrVal = owned;
    }
    IISD_COMDEF_INLINE void _SetWide(const wchar_t *s)
    {
        BSTR b = ::SysAllocString(s);
        if (b == NULL && s != NULL) {
            _com_issue_error(E_OUTOFMEMORY);
        }
        _SetBstr(b);
    }
    IISD_COMDEF_INLINE void _SetShort(short s, VARTYPE vtSrc)
    {
        if (vtSrc == VT_BOOL) {
            vt = VT_BOOL;
            boolVal = s ? VARIANT_TRUE : VARIANT_FALSE;
        } else if (vtSrc == VT_I2) {
            vt = VT_I2;
            iVal = s;
        } else {
            _com_issue_error(E_INVALIDARG);
        }
    }
    IISD_COMDEF_INLINE void _SetLong(long l, VARTYPE vtSrc)
    {
        if (vtSrc == VT_BOOL) {
            vt = VT_BOOL;
            boolVal = l ? VARIANT_TRUE : VARIANT_FALSE;
        } else if (vtSrc == VT_ERROR) {
            vt = VT_ERROR;
            scode = (SCODE)l;
        } else if (vtSrc == VT_I4) {
            if (l >= -2147483647L - 1 && l <= 2147483647L) {
                vt = VT_I4;
                lVal = (LONG)l;
            } else {
                vt = VT_I8;
                llVal = l;
            }
        } else {
            _com_issue_error(E_INVALIDARG);
        }
    }
    IISD_COMDEF_INLINE void _SetULong(unsigned long ul)
    {
        if (ul <= 0xFFFFFFFFul) {
            vt = VT_UI4;
            ulVal = (ULONG)ul;
        } else {
            vt = VT_UI8;
            ullVal = ul;
        }
    }
    /* This value as type t (a copy; no BSTR or interface types). */
    IISD_COMDEF_INLINE VARIANT _As(VARTYPE t) const
    {
        VARIANT v;
        ::VariantInit(&v);
        _Check(::VariantChangeType(&v, this, 0, t));
        return v;
    }
    IISD_COMDEF_INLINE bool _Equal(const VARIANT &o) const
    {
        if (vt != o.vt) {
            return false;
        }
        switch (vt) {
        case VT_EMPTY:
        case VT_NULL:
            return true;
        case VT_BSTR:
            return SysStringByteLen(bstrVal) == SysStringByteLen(o.bstrVal) &&
                   (SysStringByteLen(bstrVal) == 0 ||
                    memcmp(bstrVal, o.bstrVal, SysStringByteLen(bstrVal)) == 0);
        case VT_I1:
        case VT_UI1:
            return bVal == o.bVal;
        case VT_I2:
        case VT_UI2:
        case VT_BOOL:
            return uiVal == o.uiVal;
        case VT_I4:
        case VT_UI4:
        case VT_INT:
        case VT_UINT:
        case VT_ERROR:
            return ulVal == o.ulVal;
        case VT_R4:
            return fltVal == o.fltVal;
        case VT_R8:
        case VT_DATE:
            return dblVal == o.dblVal;
        case VT_DECIMAL:
            return memcmp((const char *)this + 2, (const char *)&o + 2, sizeof(DECIMAL) - 2) == 0;
        default:
            return ullVal == o.ullVal;
        }
    }
};

/* Members of _bstr_t and _com_error that need _variant_t or _bstr_t complete. */
inline _bstr_t &_bstr_t::operator=(const _variant_t &var)
{
    _bstr_t tmp = static_cast<_bstr_t>(var);
    return *this = tmp;
}
inline _bstr_t _com_error::Description() const
{
    return _bstr_t();
}
inline _bstr_t _com_error::Source() const
{
    return _bstr_t();
}
inline _bstr_t _com_error::HelpFile() const
{
    return _bstr_t();
}

/* The empty _variant_t (VT_ERROR, DISP_E_PARAMNOTFOUND) used for optional arguments. */
#define vtMissing (_variant_t(static_cast<long>(DISP_E_PARAMNOTFOUND), VT_ERROR))

/* ------------------------------------------------------------------------ */
/* _com_ptr_t and _COM_SMARTPTR_TYPEDEF                                     */
/* ------------------------------------------------------------------------ */

/* Compile-time helpers of _com_ptr_t (C++98-compatible). */
template <bool B> struct IisdComBool {
};
template <class From, class To> struct IisdComConvertible {
    static char Test(To);
    static long Test(...);
    static From Make();
    enum { value = sizeof(Test(Make())) == sizeof(char) };
};

/*
 * Smart interface pointer: AddRef on copy, Release on destruction or
 * reassignment. operator& releases the current pointer and returns the
 * address for an out-parameter. Construction or assignment from a pointer
 * or _com_ptr_t of another interface type uses QueryInterface.
 */
template <class I> class _com_ptr_t
{
  public:
    typedef I Interface;

    static IISD_COMDEF_INLINE GUID GetIID() { return IisdUuidOf<I>::Value(); }

    IISD_COMDEF_INLINE _com_ptr_t() : m_pInterface(NULL) {}
    /* AddRefs p (pass fAddRef false to take over a reference). */
    IISD_COMDEF_INLINE _com_ptr_t(I *p) : m_pInterface(p) { _AddRef(); }
    IISD_COMDEF_INLINE _com_ptr_t(I *p, bool fAddRef) : m_pInterface(p)
    {
        if (fAddRef) {
            _AddRef();
        }
    }
    IISD_COMDEF_INLINE _com_ptr_t(const _com_ptr_t &cp) : m_pInterface(cp.m_pInterface) { _AddRef(); }
    /* From a pointer to another type: a static upcast (and AddRef) if Q derives from I, else QueryInterface.
     */
    template <class Q> IISD_COMDEF_INLINE _com_ptr_t(Q *p) : m_pInterface(NULL)
    {
        _FromPointer(p, IisdComBool<IisdComConvertible<Q *, I *>::value>());
    }
    template <class Q> IISD_COMDEF_INLINE _com_ptr_t(const _com_ptr_t<Q> &p) : m_pInterface(NULL)
    {
        _QueryFrom(p.GetInterfacePtr());
    }
    IISD_COMDEF_INLINE ~_com_ptr_t() { _Release(); }

    IISD_COMDEF_INLINE _com_ptr_t &operator=(I *p)
    {
        if (m_pInterface != p) {
            I *old = m_pInterface;
            m_pInterface = p;
            _AddRef();
            if (old != NULL) {
                old->Release();
            }
        }
        return *this;
    }
    IISD_COMDEF_INLINE _com_ptr_t &operator=(const _com_ptr_t &cp) { return operator=(cp.m_pInterface); }
    template <class Q> IISD_COMDEF_INLINE _com_ptr_t &operator=(Q *p)
    {
        _com_ptr_t tmp(p);
        return operator=(tmp.m_pInterface);
    }
    template <class Q> IISD_COMDEF_INLINE _com_ptr_t &operator=(const _com_ptr_t<Q> &p)
    {
        _com_ptr_t tmp(p);
        return operator=(tmp.m_pInterface);
    }

    /* Takes over p without AddRef (or with it if fAddRef). */
    IISD_COMDEF_INLINE void Attach(I *p)
    {
        _Release();
        m_pInterface = p;
    }
    IISD_COMDEF_INLINE void Attach(I *p, bool fAddRef)
    {
        _Release();
        m_pInterface = p;
        if (fAddRef) {
            _AddRef();
        }
    }
    /* Gives the reference to the caller; the smart pointer becomes NULL. */
    IISD_COMDEF_INLINE I *Detach()
    {
        I *p = m_pInterface;
        m_pInterface = NULL;
        return p;
    }
    /* Releases the interface (E_POINTER if there is none, as on Windows). */
    IISD_COMDEF_INLINE void Release()
    {
        if (m_pInterface == NULL) {
            _com_issue_error(E_POINTER);
            return;
        }
        m_pInterface->Release();
        m_pInterface = NULL;
    }
    IISD_COMDEF_INLINE void AddRef()
    {
        if (m_pInterface == NULL) {
            _com_issue_error(E_POINTER);
            return;
        }
        m_pInterface->AddRef();
    }
    IISD_COMDEF_INLINE I *GetInterfacePtr() const { return m_pInterface; }
    IISD_COMDEF_INLINE I *&GetInterfacePtr() { return m_pInterface; }

    IISD_COMDEF_INLINE operator I *() const { return m_pInterface; }
    IISD_COMDEF_INLINE I &operator*() const
    {
        if (m_pInterface == NULL) {
            _com_issue_error(E_POINTER);
        }
        return *m_pInterface;
    }
    /* Releases the current interface; for out-parameters: p->get_Item(i, &ptr). */
    IISD_COMDEF_INLINE I **operator&()
    {
        _Release();
        return &m_pInterface;
    }
    IISD_COMDEF_INLINE I *operator->() const
    {
        if (m_pInterface == NULL) {
            _com_issue_error(E_POINTER);
        }
        return m_pInterface;
    }
    IISD_COMDEF_INLINE bool operator!() const { return m_pInterface == NULL; }
    IISD_COMDEF_INLINE bool operator==(I *p) const { return m_pInterface == p; }
    IISD_COMDEF_INLINE bool operator!=(I *p) const { return m_pInterface != p; }
    IISD_COMDEF_INLINE bool operator==(const _com_ptr_t &p) const { return m_pInterface == p.m_pInterface; }
    IISD_COMDEF_INLINE bool operator!=(const _com_ptr_t &p) const { return m_pInterface != p.m_pInterface; }

    /* No COM runtime in iisd: always REGDB_E_CLASSNOTREG. */
    IISD_COMDEF_INLINE HRESULT CreateInstance(const CLSID &rclsid, IUnknown *pOuter = NULL,
                                              DWORD dwClsContext = 0)
    {
        (void)rclsid;
        (void)pOuter;
        (void)dwClsContext;
        _Release();
        return REGDB_E_CLASSNOTREG;
    }
    IISD_COMDEF_INLINE HRESULT CreateInstance(LPCWSTR clsidString, IUnknown *pOuter = NULL,
                                              DWORD dwClsContext = 0)
    {
        (void)clsidString;
        (void)pOuter;
        (void)dwClsContext;
        _Release();
        return REGDB_E_CLASSNOTREG;
    }

    template <class Q> IISD_COMDEF_INLINE HRESULT QueryInterface(const IID &iid, Q *&p)
    {
        if (m_pInterface == NULL) {
            return E_POINTER;
        }
        return m_pInterface->QueryInterface(iid, reinterpret_cast<void **>(&p));
    }
    template <class Q> IISD_COMDEF_INLINE HRESULT QueryInterface(const IID &iid, Q **p)
    {
        return QueryInterface(iid, *p);
    }

  private:
    IISD_COMDEF_INLINE void _AddRef()
    {
        if (m_pInterface != NULL) {
            m_pInterface->AddRef();
        }
    }
    IISD_COMDEF_INLINE void _Release()
    {
        if (m_pInterface != NULL) {
            I *p = m_pInterface;
            m_pInterface = NULL;
            p->Release();
        }
    }
    template <class Q> IISD_COMDEF_INLINE void _FromPointer(Q *p, IisdComBool<true>)
    {
        m_pInterface = static_cast<I *>(p);
        _AddRef();
    }
    template <class Q> IISD_COMDEF_INLINE void _FromPointer(Q *p, IisdComBool<false>) { _QueryFrom(p); }
    template <class Q> IISD_COMDEF_INLINE void _QueryFrom(Q *p)
    {
        void *out = NULL;
        if (p != NULL && SUCCEEDED(p->QueryInterface(GetIID(), &out))) {
            m_pInterface = static_cast<I *>(out);
        }
    }

    I *m_pInterface;
};

/* typedef _com_ptr_t<Interface> InterfacePtr (the IID argument is not used: __uuidof(Interface) is). */
#define _COM_SMARTPTR_TYPEDEF(Interface, IID) typedef _com_ptr_t<Interface> Interface##Ptr

_COM_SMARTPTR_TYPEDEF(IUnknown, __uuidof(IUnknown));
_COM_SMARTPTR_TYPEDEF(IDispatch, __uuidof(IDispatch));

} /* extern "C++" */

#endif /* IISD_COMDEF_H */
