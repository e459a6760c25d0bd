/*
 * com_helpers.c - runtime checks of the static inline BSTR, VARIANT and
 * SAFEARRAY helpers of iisd_com.h (oleauto.h). Built as C and as C++; a
 * small reference-counted object (a C vtable in C, a C++ class in C++)
 * shows that VariantClear/VariantCopy/SafeArrayDestroy Release and AddRef
 * exactly once.
 */
#include <windows.h>
#include <oleauto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int g_failures;

static void check(int cond, const char *what)
{
    printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (!cond) {
        g_failures++;
    }
}

/* A counted object: AddRef/Release/QueryInterface calls are recorded. */
static int g_addrefs, g_releases, g_qis;

#ifdef __cplusplus
class Counted : public IDispatch
{
  public:
    ULONG refs;
    Counted() : refs(1) {}
    HRESULT QueryInterface(REFIID riid, void **ppv)
    {
        g_qis++;
        if (IsEqualGUID(riid, IID_IUnknown) || IsEqualGUID(riid, IID_IDispatch)) {
            *ppv = this;
            AddRef();
            return S_OK;
        }
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    ULONG AddRef()
    {
        g_addrefs++;
        return ++refs;
    }
    ULONG Release()
    {
        g_releases++;
        return --refs;
    }
    HRESULT GetTypeInfoCount(UINT *p)
    {
        *p = 0;
        return S_OK;
    }
    HRESULT GetTypeInfo(UINT, LCID, ITypeInfo **) { return E_NOTIMPL; }
    HRESULT GetIDsOfNames(REFIID, LPOLESTR *, UINT, LCID, DISPID *) { return E_NOTIMPL; }
    HRESULT Invoke(DISPID, REFIID, LCID, WORD, DISPPARAMS *, VARIANT *, EXCEPINFO *, UINT *)
    {
        return E_NOTIMPL;
    }
};
static Counted g_obj;
#define OBJ_REFS         (g_obj.refs)
#define OBJ_AS_UNKNOWN() (static_cast<IUnknown *>(&g_obj))
#else
typedef struct Counted {
    IDispatch iface;
    ULONG refs;
} Counted;
static Counted g_obj;
static HRESULT C_QueryInterface(IDispatch *This, REFIID riid, void **ppv)
{
    g_qis++;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IDispatch)) {
        *ppv = This;
        This->lpVtbl->AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG C_AddRef(IDispatch *This)
{
    g_addrefs++;
    return ++((Counted *)This)->refs;
}
static ULONG C_Release(IDispatch *This)
{
    g_releases++;
    return --((Counted *)This)->refs;
}
static const IDispatchVtbl g_counted_vtbl = {C_QueryInterface, C_AddRef, C_Release, NULL, NULL, NULL, NULL};
#define OBJ_REFS         (g_obj.refs)
#define OBJ_AS_UNKNOWN() ((IUnknown *)(void *)&g_obj)
#endif

static IDispatch *obj_dispatch(void)
{
    return (IDispatch *)(void *)OBJ_AS_UNKNOWN();
}

static int wide_is(BSTR b, const wchar_t *want)
{
    return b != NULL && SysStringLen(b) == wcslen(want) && wcscmp(b, want) == 0;
}

/* Converts src (which keeps its value) to vt and compares the result's text form. */
static HRESULT convert(VARIANT *src, VARTYPE vt, VARIANT *out)
{
    VariantInit(out);
    return VariantChangeType(out, src, 0, vt);
}

int main(void)
{
#ifndef __cplusplus
    g_obj.iface.lpVtbl = &g_counted_vtbl;
    g_obj.refs = 1;
#endif

    /* BSTR layout and allocation. */
    {
        BSTR b = SysAllocString(L"h\u00e9llo");
        UINT32 prefix;
        memcpy(&prefix, (char *)b - 4, 4);
        check(b != NULL && SysStringLen(b) == 5 && SysStringByteLen(b) == 5 * sizeof(wchar_t) &&
                  prefix == 5 * sizeof(wchar_t) && b[5] == 0 && wcscmp(b, L"h\u00e9llo") == 0,
              "SysAllocString: byte-length prefix before the characters, NUL-terminated");
        check(((uintptr_t)b % sizeof(wchar_t)) == 0, "BSTR characters are wchar_t-aligned");
        check(SysReAllocString(&b, b + 1) && wide_is(b, L"\u00e9llo"),
              "SysReAllocString from its own characters");
        check(SysReAllocStringLen(&b, L"abcdef", 3) && wide_is(b, L"abc"), "SysReAllocStringLen");
        /* The block comes from malloc: freeing it with free() at the prefix works, and vice versa. */
        free((char *)b - 4);
        {
            char *block = (char *)malloc(4 + 3 * sizeof(wchar_t));
            UINT32 len = 2 * sizeof(wchar_t);
            BSTR m;
            memcpy(block, &len, 4);
            m = (BSTR)(void *)(block + 4);
            m[0] = L'o';
            m[1] = L'k';
            m[2] = 0;
            check(SysStringLen(m) == 2, "a BSTR built by hand with malloc is understood");
            SysFreeString(m);
        }
        check(SysAllocString(NULL) == NULL && SysStringLen(NULL) == 0 && SysStringByteLen(NULL) == 0,
              "NULL BSTR is empty");
        SysFreeString(NULL);
        b = SysAllocStringLen(L"abcdef", 2);
        check(wide_is(b, L"ab"), "SysAllocStringLen copies ui characters and terminates");
        SysFreeString(b);
        b = SysAllocStringLen(NULL, 3);
        check(b != NULL && SysStringLen(b) == 3 && b[0] == 0 && b[3] == 0,
              "SysAllocStringLen(NULL, n) is zeroed");
        SysFreeString(b);
        b = SysAllocStringByteLen("abcde", 5);
        check(b != NULL && SysStringByteLen(b) == 5 && SysStringLen(b) == 1 && memcmp(b, "abcde", 5) == 0,
              "SysAllocStringByteLen keeps an odd byte length");
        SysFreeString(b);
        check(SysAllocStringLen(L"x", 0xFFFFFFF0u) == NULL, "oversized SysAllocStringLen fails");
    }

    /* VariantInit / VariantClear / VariantCopy. */
    {
        VARIANT v, w;
        memset(&v, 0xAB, sizeof v);
        VariantInit(&v);
        check(v.vt == VT_EMPTY, "VariantInit gives VT_EMPTY");
        v.vt = VT_BSTR;
        v.bstrVal = SysAllocString(L"value");
        VariantInit(&w);
        check(VariantCopy(&w, &v) == S_OK && w.vt == VT_BSTR && w.bstrVal != v.bstrVal &&
                  wide_is(w.bstrVal, L"value"),
              "VariantCopy duplicates a BSTR");
        check(VariantClear(&v) == S_OK && v.vt == VT_EMPTY && VariantClear(&w) == S_OK,
              "VariantClear frees BSTRs");

        g_addrefs = g_releases = 0;
        v.vt = VT_UNKNOWN;
        v.punkVal = OBJ_AS_UNKNOWN();
        check(VariantCopy(&w, &v) == S_OK && g_addrefs == 1 && OBJ_REFS == 2,
              "VariantCopy AddRefs VT_UNKNOWN");
        check(VariantClear(&w) == S_OK && g_releases == 1 && OBJ_REFS == 1 && w.vt == VT_EMPTY,
              "VariantClear Releases VT_UNKNOWN once");
        v.vt = VT_DISPATCH;
        v.pdispVal = obj_dispatch();
        OBJ_REFS++;
        check(VariantClear(&v) == S_OK && g_releases == 2 && OBJ_REFS == 1,
              "VariantClear Releases VT_DISPATCH once");
        v.vt = VT_UNKNOWN;
        v.punkVal = NULL;
        check(VariantClear(&v) == S_OK && g_releases == 2, "VariantClear of a NULL VT_UNKNOWN");

        {
            LONG target = 7;
            v.vt = VT_BYREF | VT_I4;
            v.plVal = &target;
            check(VariantCopy(&w, &v) == S_OK && w.vt == (VT_BYREF | VT_I4) && w.plVal == &target,
                  "VariantCopy of VT_BYREF copies the pointer");
            check(VariantCopyInd(&w, &v) == S_OK && w.vt == VT_I4 && w.lVal == 7,
                  "VariantCopyInd dereferences");
            check(VariantClear(&v) == S_OK && target == 7, "VariantClear leaves VT_BYREF targets alone");
        }
        v.vt = 15;
        check(VariantClear(&v) == DISP_E_BADVARTYPE && v.vt == 15, "VariantClear rejects an invalid VARTYPE");
        VariantInit(&v);
        check(VariantCopy(&v, &v) == S_OK, "VariantCopy onto itself");
    }

    /* VariantChangeType. */
    {
        VARIANT s, d;
        VariantInit(&s);
        s.vt = VT_I4;
        s.lVal = -42;
        check(convert(&s, VT_BSTR, &d) == S_OK && d.vt == VT_BSTR && wide_is(d.bstrVal, L"-42"),
              "VT_I4 -> \"-42\"");
        VariantClear(&d);
        s.vt = VT_UI8;
        s.ullVal = 18446744073709551615ull;
        check(convert(&s, VT_BSTR, &d) == S_OK && wide_is(d.bstrVal, L"18446744073709551615"),
              "VT_UI8 max -> text");
        VariantClear(&d);
        s.vt = VT_BOOL;
        s.boolVal = VARIANT_TRUE;
        check(convert(&s, VT_BSTR, &d) == S_OK && wide_is(d.bstrVal, L"-1"), "VT_BOOL -> \"-1\"");
        VariantClear(&d);
        check(VariantChangeType(&d, &s, VARIANT_ALPHABOOL, VT_BSTR) == S_OK && wide_is(d.bstrVal, L"True"),
              "VT_BOOL -> \"True\" with VARIANT_ALPHABOOL");
        VariantClear(&d);
        check(convert(&s, VT_I4, &d) == S_OK && d.vt == VT_I4 && d.lVal == -1, "VT_BOOL true -> VT_I4 -1");
        check(convert(&s, VT_UI4, &d) == S_OK && d.ulVal == 0xFFFFFFFFu, "VT_BOOL true -> VT_UI4 all bits");
        s.vt = VT_R8;
        s.dblVal = 2.5;
        check(convert(&s, VT_I4, &d) == S_OK && d.lVal == 2, "2.5 -> 2 (round half to even)");
        s.dblVal = 3.5;
        check(convert(&s, VT_I4, &d) == S_OK && d.lVal == 4, "3.5 -> 4");
        s.dblVal = -2.6;
        check(convert(&s, VT_I2, &d) == S_OK && d.iVal == -3, "-2.6 -> -3");
        s.dblVal = 1.5;
        check(convert(&s, VT_BSTR, &d) == S_OK && wide_is(d.bstrVal, L"1.5"), "1.5 -> \"1.5\"");
        VariantClear(&d);

        s.vt = VT_BSTR;
        s.bstrVal = SysAllocString(L" 1234 ");
        check(convert(&s, VT_I4, &d) == S_OK && d.vt == VT_I4 && d.lVal == 1234, "\" 1234 \" -> VT_I4");
        check(convert(&s, VT_UI4, &d) == S_OK && d.vt == VT_UI4 && d.ulVal == 1234u, "\" 1234 \" -> VT_UI4");
        check(convert(&s, VT_UI1, &d) == DISP_E_OVERFLOW, "\"1234\" -> VT_UI1 overflows");
        check(convert(&s, VT_BOOL, &d) == S_OK && d.boolVal == VARIANT_TRUE, "\"1234\" -> VT_BOOL true");
        check(convert(&s, VT_R8, &d) == S_OK && d.dblVal == 1234.0, "\"1234\" -> VT_R8");
        SysReAllocString(&s.bstrVal, L"-5");
        check(convert(&s, VT_UI4, &d) == DISP_E_OVERFLOW, "\"-5\" -> VT_UI4 overflows");
        check(convert(&s, VT_I8, &d) == S_OK && d.llVal == -5, "\"-5\" -> VT_I8");
        SysReAllocString(&s.bstrVal, L"&H1F");
        check(convert(&s, VT_I4, &d) == S_OK && d.lVal == 31, "\"&H1F\" -> 31");
        SysReAllocString(&s.bstrVal, L"TRUE");
        check(convert(&s, VT_BOOL, &d) == S_OK && d.boolVal == VARIANT_TRUE, "\"TRUE\" -> VT_BOOL");
        SysReAllocString(&s.bstrVal, L"false");
        check(convert(&s, VT_BOOL, &d) == S_OK && d.boolVal == VARIANT_FALSE, "\"false\" -> VT_BOOL");
        check(convert(&s, VT_I4, &d) == DISP_E_TYPEMISMATCH, "\"false\" -> VT_I4 is a type mismatch");
        SysReAllocString(&s.bstrVal, L"12abc");
        check(convert(&s, VT_I4, &d) == DISP_E_TYPEMISMATCH, "\"12abc\" -> VT_I4 is a type mismatch");
        SysReAllocString(&s.bstrVal, L"");
        check(convert(&s, VT_UI4, &d) == DISP_E_TYPEMISMATCH, "\"\" -> VT_UI4 is a type mismatch");
        SysReAllocString(&s.bstrVal, L"2147483648");
        check(convert(&s, VT_I4, &d) == DISP_E_OVERFLOW, "2^31 -> VT_I4 overflows");
        check(convert(&s, VT_UI4, &d) == S_OK && d.ulVal == 2147483648u, "2^31 -> VT_UI4");
        SysReAllocString(&s.bstrVal, L"1e3");
        check(convert(&s, VT_I4, &d) == S_OK && d.lVal == 1000, "\"1e3\" -> 1000");
        VariantClear(&s);

        s.vt = VT_I4;
        s.lVal = 70000;
        check(convert(&s, VT_I2, &d) == DISP_E_OVERFLOW, "70000 -> VT_I2 overflows");
        check(convert(&s, VT_UI4, &d) == S_OK && d.ulVal == 70000u, "VT_I4 -> VT_UI4");
        s.lVal = -1;
        check(convert(&s, VT_UI2, &d) == DISP_E_OVERFLOW, "-1 -> VT_UI2 overflows");
        s.vt = VT_UI4;
        s.ulVal = 0xFFFFFFFFu;
        check(convert(&s, VT_I4, &d) == DISP_E_OVERFLOW, "0xFFFFFFFF -> VT_I4 overflows");
        check(convert(&s, VT_I8, &d) == S_OK && d.llVal == 0xFFFFFFFFll, "VT_UI4 -> VT_I8");
        VariantInit(&s);
        check(convert(&s, VT_I4, &d) == S_OK && d.lVal == 0, "VT_EMPTY -> 0");
        check(convert(&s, VT_BSTR, &d) == S_OK && d.vt == VT_BSTR && SysStringLen(d.bstrVal) == 0,
              "VT_EMPTY -> \"\"");
        VariantClear(&d);
        s.vt = VT_NULL;
        check(convert(&s, VT_I4, &d) == DISP_E_TYPEMISMATCH && d.vt == VT_EMPTY, "VT_NULL -> VT_I4 mismatch");
        s.vt = VT_DATE;
        s.date = 0;
        check(convert(&s, VT_BSTR, &d) == DISP_E_TYPEMISMATCH, "VT_DATE -> VT_BSTR is not supported");

        /* In place, and through VT_BYREF. */
        s.vt = VT_BSTR;
        s.bstrVal = SysAllocString(L"77");
        check(VariantChangeType(&s, &s, 0, VT_I4) == S_OK && s.vt == VT_I4 && s.lVal == 77,
              "in-place conversion");
        {
            BSTR target = SysAllocString(L"9");
            VARIANT r;
            r.vt = VT_BYREF | VT_BSTR;
            r.pbstrVal = &target;
            check(convert(&r, VT_UI4, &d) == S_OK && d.ulVal == 9 && wide_is(target, L"9"),
                  "VT_BYREF|VT_BSTR source is read through");
            SysFreeString(target);
        }

        /* Interfaces: VT_DISPATCH -> VT_UNKNOWN through QueryInterface. */
        g_addrefs = g_releases = g_qis = 0;
        s.vt = VT_DISPATCH;
        s.pdispVal = obj_dispatch();
        check(convert(&s, VT_UNKNOWN, &d) == S_OK && d.vt == VT_UNKNOWN && g_qis == 1 && OBJ_REFS == 2,
              "VT_DISPATCH -> VT_UNKNOWN QueryInterfaces");
        VariantClear(&d);
        check(OBJ_REFS == 1, "and the result Releases");
    }

    /* SAFEARRAY. */
    {
        SAFEARRAY *psa = SafeArrayCreateVector(VT_BSTR, 1, 3), *copy = NULL;
        BSTR *data = NULL;
        LONG lb = 0, ub = 0;
        VARTYPE vt = 0;
        VARIANT v;
        check(psa != NULL && psa->cDims == 1 && psa->cbElements == 8 && (psa->fFeatures & FADF_BSTR),
              "SafeArrayCreateVector(VT_BSTR)");
        check(SafeArrayGetLBound(psa, 1, &lb) == S_OK && lb == 1 && SafeArrayGetUBound(psa, 1, &ub) == S_OK &&
                  ub == 3,
              "bounds");
        check(SafeArrayGetVartype(psa, &vt) == S_OK && vt == VT_BSTR, "SafeArrayGetVartype");
        SafeArrayAccessData(psa, (void **)&data);
        data[0] = SysAllocString(L"a");
        data[2] = SysAllocString(L"c");
        check(SafeArrayDestroy(psa) == DISP_E_ARRAYISLOCKED, "a locked array is not destroyed");
        SafeArrayUnaccessData(psa);
        check(SafeArrayCopy(psa, &copy) == S_OK && copy != NULL && ((BSTR *)copy->pvData)[0] != data[0] &&
                  wide_is(((BSTR *)copy->pvData)[2], L"c"),
              "SafeArrayCopy duplicates BSTRs");
        v.vt = VT_ARRAY | VT_BSTR;
        v.parray = copy;
        check(VariantClear(&v) == S_OK, "VariantClear destroys a VT_ARRAY");
        check(SafeArrayDestroy(psa) == S_OK, "SafeArrayDestroy frees the BSTRs");
        {
            SAFEARRAYBOUND b[2] = {{2, 0}, {3, 10}};
            SAFEARRAY *m = SafeArrayCreate(VT_VARIANT, 2, b);
            LONG l1 = -1, l2 = -1;
            check(m != NULL && m->cbElements == sizeof(VARIANT) && m->rgsabound[0].cElements == 3 &&
                      SafeArrayGetLBound(m, 1, &l1) == S_OK && l1 == 0 &&
                      SafeArrayGetLBound(m, 2, &l2) == S_OK && l2 == 10 &&
                      SafeArrayGetLBound(m, 3, &l2) == DISP_E_BADINDEX,
                  "two dimensions, stored last first");
            g_releases = 0;
            ((VARIANT *)m->pvData)[5].vt = VT_UNKNOWN;
            ((VARIANT *)m->pvData)[5].punkVal = OBJ_AS_UNKNOWN();
            OBJ_REFS++;
            check(SafeArrayDestroy(m) == S_OK && g_releases == 1 && OBJ_REFS == 1,
                  "SafeArrayDestroy clears VARIANT elements");
        }
    }

    printf("%d failure(s)\n", g_failures);
    return g_failures != 0;
}
