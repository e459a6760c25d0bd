/*
 * atlbase.h - the two ATL helpers IIS modules use most, for iisd (C++ only):
 * CComPtr<T> (smart interface pointer) and CComBSTR (owning BSTR wrapper).
 *
 * Header-only with hidden inline members, like comdef.h. Differences from
 * ATL: narrow strings are UTF-8; there is no COM runtime, so
 * CComPtr::CoCreateInstance returns REGDB_E_CLASSNOTREG; CComBSTR methods
 * that allocate return E_OUTOFMEMORY (or leave m_str NULL) instead of
 * throwing.
 */
#ifndef IISD_ATLBASE_H
#define IISD_ATLBASE_H

#ifndef __cplusplus
#error "atlbase.h is C++ only"
#endif

#include "iisd_com.h"

#include <new>

extern "C++" {

#define IISD_ATL_INLINE IISD_INLINE_HIDDEN inline

/* Smart interface pointer with a public member p (ATL style). */
template <class T> class CComPtr
{
  public:
    T *p;

    IISD_ATL_INLINE CComPtr() : p(NULL) {}
    /* AddRefs lp. */
    IISD_ATL_INLINE CComPtr(T *lp) : p(lp)
    {
        if (p != NULL) {
            p->AddRef();
        }
    }
    IISD_ATL_INLINE CComPtr(const CComPtr &lp) : p(lp.p)
    {
        if (p != NULL) {
            p->AddRef();
        }
    }
    IISD_ATL_INLINE ~CComPtr() { Release(); }
    IISD_ATL_INLINE T *operator=(T *lp)
    {
        if (p != lp) {
            T *old = p;
            p = lp;
            if (p != NULL) {
                p->AddRef();
            }
            if (old != NULL) {
                old->Release();
            }
        }
        return p;
    }
    IISD_ATL_INLINE T *operator=(const CComPtr &lp) { return operator=(lp.p); }

    IISD_ATL_INLINE operator T *() const { return p; }
    IISD_ATL_INLINE T &operator*() const { return *p; }
    /* For out-parameters; the pointer must be NULL (as in ATL, which asserts it). */
    IISD_ATL_INLINE T **operator&() { return &p; }
    IISD_ATL_INLINE T *operator->() const { return p; }
    IISD_ATL_INLINE bool operator!() const { return p == NULL; }
    IISD_ATL_INLINE bool operator==(T *pT) const { return p == pT; }
    IISD_ATL_INLINE bool operator!=(T *pT) const { return p != pT; }

    /* Releases the interface and sets p to NULL (no-op when NULL). */
    IISD_ATL_INLINE void Release()
    {
        T *old = p;
        if (old != NULL) {
            p = NULL;
            old->Release();
        }
    }
    /* Takes over p2 without AddRef. */
    IISD_ATL_INLINE void Attach(T *p2)
    {
        Release();
        p = p2;
    }
    IISD_ATL_INLINE T *Detach()
    {
        T *pt = p;
        p = NULL;
        return pt;
    }
    /* *ppT = p, AddRef'ed. */
    IISD_ATL_INLINE HRESULT CopyTo(T **ppT) const
    {
        if (ppT == NULL) {
            return E_POINTER;
        }
        *ppT = p;
        if (p != NULL) {
            p->AddRef();
        }
        return S_OK;
    }
    template <class Q> IISD_ATL_INLINE HRESULT QueryInterface(Q **pp) const
    {
        if (p == NULL) {
            return E_POINTER;
        }
        return p->QueryInterface(IisdUuidOf<Q>::Value(), reinterpret_cast<void **>(pp));
    }
    IISD_ATL_INLINE bool IsEqualObject(IUnknown *pOther) const
    {
        IUnknown *a = NULL, *b = NULL;
        bool same;
        if (p == NULL || pOther == NULL) {
            return p == NULL && pOther == NULL;
        }
        p->QueryInterface(IisdUuidOf<IUnknown>::Value(), reinterpret_cast<void **>(&a));
        pOther->QueryInterface(IisdUuidOf<IUnknown>::Value(), reinterpret_cast<void **>(&b));
        same = a == b;
        if (a != NULL) {
            a->Release();
        }
        if (b != NULL) {
            b->Release();
        }
        return same;
    }
    /* No COM runtime in iisd. */
    IISD_ATL_INLINE HRESULT CoCreateInstance(REFCLSID rclsid, IUnknown *pUnkOuter = NULL,
                                             DWORD dwClsContext = 0)
    {
        (void)rclsid;
        (void)pUnkOuter;
        (void)dwClsContext;
        return REGDB_E_CLASSNOTREG;
    }
};

/* CComPtr that QueryInterfaces what it is given. */
template <class T> class CComQIPtr : public CComPtr<T>
{
  public:
    IISD_ATL_INLINE CComQIPtr() {}
    IISD_ATL_INLINE CComQIPtr(T *lp) : CComPtr<T>(lp) {}
    IISD_ATL_INLINE CComQIPtr(const CComQIPtr &lp) : CComPtr<T>(lp.p) {}
    IISD_ATL_INLINE CComQIPtr(IUnknown *lp)
    {
        if (lp != NULL) {
            lp->QueryInterface(IisdUuidOf<T>::Value(), reinterpret_cast<void **>(&this->p));
        }
    }
    IISD_ATL_INLINE T *operator=(T *lp) { return CComPtr<T>::operator=(lp); }
    IISD_ATL_INLINE T *operator=(const CComQIPtr &lp) { return CComPtr<T>::operator=(lp.p); }
};

/* Owning BSTR wrapper with a public member m_str. */
class CComBSTR
{
  public:
    BSTR m_str;

    IISD_ATL_INLINE CComBSTR() : m_str(NULL) {}
    /* nSize characters, copied from sz (or zeroed when sz is NULL). */
    IISD_ATL_INLINE CComBSTR(int nSize, LPCOLESTR sz = NULL) : m_str(SysAllocStringLen(sz, (UINT)nSize)) {}
    IISD_ATL_INLINE CComBSTR(LPCOLESTR pSrc) : m_str(SysAllocString(pSrc)) {}
    /* UTF-8. */
    IISD_ATL_INLINE CComBSTR(LPCSTR pSrc) : m_str(FromUtf8(pSrc)) {}
    IISD_ATL_INLINE CComBSTR(const CComBSTR &src) : m_str(src.Copy()) {}
    IISD_ATL_INLINE ~CComBSTR() { SysFreeString(m_str); }

    IISD_ATL_INLINE CComBSTR &operator=(const CComBSTR &src)
    {
        if (m_str != src.m_str) {
            BSTR b = src.Copy();
            SysFreeString(m_str);
            m_str = b;
        }
        return *this;
    }
    IISD_ATL_INLINE CComBSTR &operator=(LPCOLESTR pSrc)
    {
        if (pSrc != m_str) {
            BSTR b = SysAllocString(pSrc);
            SysFreeString(m_str);
            m_str = b;
        }
        return *this;
    }
    IISD_ATL_INLINE CComBSTR &operator=(LPCSTR pSrc)
    {
        BSTR b = FromUtf8(pSrc);
        SysFreeString(m_str);
        m_str = b;
        return *this;
    }

    IISD_ATL_INLINE operator BSTR() const { return m_str; }
    /* For out-parameters; m_str must be NULL (as in ATL, which asserts it). */
    IISD_ATL_INLINE BSTR *operator&() { return &m_str; }
    IISD_ATL_INLINE bool operator!() const { return m_str == NULL; }
    IISD_ATL_INLINE bool operator==(const CComBSTR &other) const { return Equal(m_str, other.m_str); }
    IISD_ATL_INLINE bool operator!=(const CComBSTR &other) const { return !Equal(m_str, other.m_str); }
    IISD_ATL_INLINE bool operator==(LPCOLESTR pszSrc) const
    {
        if (m_str == NULL || pszSrc == NULL) {
            return m_str == NULL && pszSrc == NULL;
        }
        return wcscmp(m_str, pszSrc) == 0;
    }
    IISD_ATL_INLINE bool operator!=(LPCOLESTR pszSrc) const { return !operator==(pszSrc); }
    IISD_ATL_INLINE CComBSTR &operator+=(const CComBSTR &src)
    {
        AppendBSTR(src.m_str);
        return *this;
    }
    IISD_ATL_INLINE CComBSTR &operator+=(LPCOLESTR pszSrc)
    {
        Append(pszSrc);
        return *this;
    }

    IISD_ATL_INLINE unsigned int Length() const { return SysStringLen(m_str); }
    IISD_ATL_INLINE unsigned int ByteLength() const { return SysStringByteLen(m_str); }
    /* A new copy (the caller frees it). */
    IISD_ATL_INLINE BSTR Copy() const
    {
        return m_str == NULL ? NULL : SysAllocStringByteLen((LPCSTR)(void *)m_str, SysStringByteLen(m_str));
    }
    IISD_ATL_INLINE HRESULT CopyTo(BSTR *pbstr) const
    {
        if (pbstr == NULL) {
            return E_POINTER;
        }
        *pbstr = Copy();
        return (*pbstr == NULL && m_str != NULL) ? E_OUTOFMEMORY : S_OK;
    }
    IISD_ATL_INLINE void Attach(BSTR src)
    {
        if (m_str != src) {
            SysFreeString(m_str);
            m_str = src;
        }
    }
    IISD_ATL_INLINE BSTR Detach()
    {
        BSTR b = m_str;
        m_str = NULL;
        return b;
    }
    IISD_ATL_INLINE void Empty()
    {
        SysFreeString(m_str);
        m_str = NULL;
    }
    IISD_ATL_INLINE HRESULT Append(LPCOLESTR lpsz, int nLen)
    {
        UINT cur = Length();
        BSTR b;
        if (lpsz == NULL || nLen <= 0) {
            return S_OK;
        }
        b = SysAllocStringLen(NULL, cur + (UINT)nLen);
        if (b == NULL) {
            return E_OUTOFMEMORY;
        }
        if (cur != 0) {
            memcpy(b, m_str, cur * sizeof(OLECHAR));
        }
        memcpy(b + cur, lpsz, (size_t)nLen * sizeof(OLECHAR));
        SysFreeString(m_str);
        m_str = b;
        return S_OK;
    }
    IISD_ATL_INLINE HRESULT Append(LPCOLESTR lpsz)
    {
        return lpsz == NULL ? S_OK : Append(lpsz, (int)wcslen(lpsz));
    }
    IISD_ATL_INLINE HRESULT Append(const CComBSTR &bstrSrc) { return AppendBSTR(bstrSrc.m_str); }
    IISD_ATL_INLINE HRESULT Append(LPCSTR lpsz)
    {
        CComBSTR tmp(lpsz);
        if (lpsz != NULL && tmp.m_str == NULL) {
            return E_OUTOFMEMORY;
        }
        return AppendBSTR(tmp.m_str);
    }
    IISD_ATL_INLINE HRESULT AppendBSTR(BSTR p) { return p == NULL ? S_OK : Append(p, (int)SysStringLen(p)); }

  private:
    static IISD_ATL_INLINE BSTR FromUtf8(LPCSTR s)
    {
        int n;
        BSTR b;
        if (s == NULL) {
            return NULL;
        }
        n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
        if (n <= 0) {
            return NULL;
        }
        b = SysAllocStringLen(NULL, (UINT)(n - 1));
        if (b != NULL) {
            MultiByteToWideChar(CP_UTF8, 0, s, -1, b, n);
        }
        return b;
    }
    static IISD_ATL_INLINE bool Equal(BSTR a, BSTR b)
    {
        UINT n = SysStringByteLen(a);
        if (a == NULL || b == NULL) {
            return a == b;
        }
        return n == SysStringByteLen(b) && memcmp(a, b, n) == 0;
    }
};

} /* extern "C++" */

#endif /* IISD_ATLBASE_H */
