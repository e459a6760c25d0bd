/*
 * com_layout.c - compile-time checks of the COM data layouts (Windows x64:
 * VARIANT, DECIMAL, CY, SAFEARRAY, DISPPARAMS, EXCEPINFO), the VARTYPE and
 * HRESULT values, and a sample of vtable slots of ahadmin.h taken from the
 * research (gen_ahadmin.spec lists the sources). Built as C (gnu11, c11) and
 * as C++ (c++11, gnu++17); at run time it checks a few IIDs and CLSIDs
 * against their text form. COBJMACROS is defined to compile its call macros.
 */
#define COBJMACROS
#include <windows.h>
#include <oaidl.h>
#include <oleauto.h>
#include <ahadmin.h>
#include <httpserv.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
#define STATIC_ASSERT(e) static_assert((e), #e)
#else
#define STATIC_ASSERT(e) _Static_assert((e), #e)
#endif

#define SIZE(t, n)   STATIC_ASSERT(sizeof(t) == (n))
#define ALIGN(t, n)  STATIC_ASSERT(_Alignof(t) == (n))
#define OFF(t, f, n) STATIC_ASSERT(offsetof(t, f) == (n))

#ifdef __cplusplus
#undef ALIGN
#define ALIGN(t, n) STATIC_ASSERT(alignof(t) == (n))
#endif

/* Scalar types. */
SIZE(OLECHAR, 4); /* wchar_t on Linux */
SIZE(BSTR, 8);
SIZE(VARTYPE, 2);
SIZE(VARIANT_BOOL, 2);
SIZE(SCODE, 4);
SIZE(DISPID, 4);
SIZE(DATE, 8);
SIZE(LCID, 4);
STATIC_ASSERT(VARIANT_TRUE == -1 && VARIANT_FALSE == 0);

/* VARIANT: 24 bytes, vt at 0, the value union at 8. */
SIZE(VARIANT, 24);
ALIGN(VARIANT, 8);
OFF(VARIANT, vt, 0);
OFF(VARIANT, wReserved1, 2);
OFF(VARIANT, wReserved2, 4);
OFF(VARIANT, wReserved3, 6);
OFF(VARIANT, llVal, 8);
OFF(VARIANT, lVal, 8);
OFF(VARIANT, bVal, 8);
OFF(VARIANT, iVal, 8);
OFF(VARIANT, fltVal, 8);
OFF(VARIANT, dblVal, 8);
OFF(VARIANT, boolVal, 8);
OFF(VARIANT, scode, 8);
OFF(VARIANT, cyVal, 8);
OFF(VARIANT, date, 8);
OFF(VARIANT, bstrVal, 8);
OFF(VARIANT, punkVal, 8);
OFF(VARIANT, pdispVal, 8);
OFF(VARIANT, parray, 8);
OFF(VARIANT, byref, 8);
OFF(VARIANT, cVal, 8);
OFF(VARIANT, uiVal, 8);
OFF(VARIANT, ulVal, 8);
OFF(VARIANT, ullVal, 8);
OFF(VARIANT, intVal, 8);
OFF(VARIANT, uintVal, 8);
OFF(VARIANT, pvarVal, 8);
OFF(VARIANT, pvRecord, 8);
OFF(VARIANT, pRecInfo, 16);
OFF(VARIANT, decVal, 0);
SIZE(VARIANTARG, 24);

/* DECIMAL overlays the whole VARIANT; its first word is where vt lives. */
SIZE(DECIMAL, 16);
OFF(DECIMAL, wReserved, 0);
OFF(DECIMAL, scale, 2);
OFF(DECIMAL, sign, 3);
OFF(DECIMAL, signscale, 2);
OFF(DECIMAL, Hi32, 4);
OFF(DECIMAL, Lo32, 8);
OFF(DECIMAL, Mid32, 12);
OFF(DECIMAL, Lo64, 8);

SIZE(CY, 8);
OFF(CY, Lo, 0);
OFF(CY, Hi, 4);
OFF(CY, int64, 0);

SIZE(SAFEARRAYBOUND, 8);
OFF(SAFEARRAYBOUND, cElements, 0);
OFF(SAFEARRAYBOUND, lLbound, 4);
SIZE(SAFEARRAY, 32);
OFF(SAFEARRAY, cDims, 0);
OFF(SAFEARRAY, fFeatures, 2);
OFF(SAFEARRAY, cbElements, 4);
OFF(SAFEARRAY, cLocks, 8);
OFF(SAFEARRAY, pvData, 16);
OFF(SAFEARRAY, rgsabound, 24);

SIZE(DISPPARAMS, 24);
OFF(DISPPARAMS, rgvarg, 0);
OFF(DISPPARAMS, rgdispidNamedArgs, 8);
OFF(DISPPARAMS, cArgs, 16);
OFF(DISPPARAMS, cNamedArgs, 20);

SIZE(EXCEPINFO, 64);
OFF(EXCEPINFO, wCode, 0);
OFF(EXCEPINFO, wReserved, 2);
OFF(EXCEPINFO, bstrSource, 8);
OFF(EXCEPINFO, bstrDescription, 16);
OFF(EXCEPINFO, bstrHelpFile, 24);
OFF(EXCEPINFO, dwHelpContext, 32);
OFF(EXCEPINFO, pvReserved, 40);
OFF(EXCEPINFO, pfnDeferredFillIn, 48);
OFF(EXCEPINFO, scode, 56);

/* VARTYPE values. */
STATIC_ASSERT(VT_EMPTY == 0 && VT_NULL == 1 && VT_I2 == 2 && VT_I4 == 3 && VT_R4 == 4 && VT_R8 == 5);
STATIC_ASSERT(VT_CY == 6 && VT_DATE == 7 && VT_BSTR == 8 && VT_DISPATCH == 9 && VT_ERROR == 10);
STATIC_ASSERT(VT_BOOL == 11 && VT_VARIANT == 12 && VT_UNKNOWN == 13 && VT_DECIMAL == 14);
STATIC_ASSERT(VT_I1 == 16 && VT_UI1 == 17 && VT_UI2 == 18 && VT_UI4 == 19 && VT_I8 == 20 && VT_UI8 == 21);
STATIC_ASSERT(VT_INT == 22 && VT_UINT == 23 && VT_VOID == 24 && VT_HRESULT == 25 && VT_RECORD == 36);
STATIC_ASSERT(VT_VECTOR == 0x1000 && VT_ARRAY == 0x2000 && VT_BYREF == 0x4000 && VT_TYPEMASK == 0xfff);

/* HRESULTs. */
STATIC_ASSERT(DISP_E_TYPEMISMATCH == (HRESULT)0x80020005u);
STATIC_ASSERT(DISP_E_OVERFLOW == (HRESULT)0x8002000Au);
STATIC_ASSERT(DISP_E_BADVARTYPE == (HRESULT)0x80020008u);
STATIC_ASSERT(DISP_E_BADINDEX == (HRESULT)0x8002000Bu);
STATIC_ASSERT(DISP_E_ARRAYISLOCKED == (HRESULT)0x8002000Du);
STATIC_ASSERT(DISP_E_PARAMNOTFOUND == (HRESULT)0x80020004u);
STATIC_ASSERT(DISP_E_MEMBERNOTFOUND == (HRESULT)0x80020003u);
STATIC_ASSERT(DISP_E_EXCEPTION == (HRESULT)0x80020009u);
STATIC_ASSERT(REGDB_E_CLASSNOTREG == (HRESULT)0x80040154u);

/* Interfaces are one vtable pointer. */
SIZE(IUnknown, 8);
SIZE(IDispatch, 8);
SIZE(IAppHostAdminManager, 8);
SIZE(IAppHostElement, 8);

#ifndef __cplusplus
/* C vtable slots against the researched order (a sample; run.sh checks every slot). */
#define SLOT(iface, member, n) STATIC_ASSERT(offsetof(iface##Vtbl, member) == (n) * sizeof(void *))
SLOT(IUnknown, QueryInterface, 0);
SLOT(IUnknown, Release, 2);
SLOT(IDispatch, GetTypeInfoCount, 3);
SLOT(IDispatch, Invoke, 6);
SLOT(IAppHostAdminManager, QueryInterface, 0);
SLOT(IAppHostAdminManager, Release, 2);
SLOT(IAppHostAdminManager, GetAdminSection, 3);
SLOT(IAppHostAdminManager, get_ConfigManager, 6);
SLOT(IAppHostWritableAdminManager, CommitChanges, 7);
SLOT(IAppHostWritableAdminManager, put_CommitPath, 9);
SLOT(IAppHostElement, get_Name, 3);
SLOT(IAppHostElement, get_Collection, 4);
SLOT(IAppHostElement, GetElementByName, 10);
SLOT(IAppHostElement, GetPropertyByName, 11);
SLOT(IAppHostElement, get_Methods, 13);
SLOT(IAppHostElementCollection, get_Count, 3);
SLOT(IAppHostElementCollection, get_Item, 4);
SLOT(IAppHostElementCollection, get_Schema, 9);
SLOT(IAppHostChildElementCollection, get_Item, 4);
SLOT(IAppHostProperty, get_Value, 4);
SLOT(IAppHostProperty, put_Value, 5);
SLOT(IAppHostProperty, get_StringValue, 7);
SLOT(IAppHostProperty, get_Schema, 11);
SLOT(IAppHostPropertyCollection, get_Item, 4);
SLOT(IAppHostConfigException, get_ErrorString, 9);
SLOT(IAppHostPropertyException, get_InvalidValue, 10);
SLOT(IAppHostPropertyException, get_ValidationFailureParameters, 12);
SLOT(IAppHostPropertySchema, get_TimeSpanFormat, 17);
SLOT(IAppHostSectionDefinition, put_RequirePermission, 13);
SLOT(IAppHostConfigLocationCollection, RenameLocation, 7);
SIZE(IAppHostAdminManagerVtbl, 7 * sizeof(void *));
SIZE(IAppHostWritableAdminManagerVtbl, 10 * sizeof(void *));
SIZE(IAppHostElementVtbl, 14 * sizeof(void *));
SIZE(IAppHostPropertyVtbl, 12 * sizeof(void *));
#endif

#ifndef __cplusplus
/* The COBJMACROS call macros compile (and name the right members). */
ULONG cobjmacros_use(IAppHostElement *p, BSTR name, IAppHostProperty **pp, IDispatch *d);
ULONG cobjmacros_use(IAppHostElement *p, BSTR name, IAppHostProperty **pp, IDispatch *d)
{
    UINT n = 0;
    IDispatch_GetTypeInfoCount(d, &n);
    IAppHostElement_GetPropertyByName(p, name, pp);
    IAppHostElement_AddRef(p);
    return IAppHostElement_Release(p) + n;
}
#endif

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" form of a GUID. */
static void guid_text(const GUID *g, char *out)
{
    sprintf(out, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", (unsigned)g->Data1, g->Data2, g->Data3,
            g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6],
            g->Data4[7]);
}

static int g_failures;

static void check_guid(const GUID *g, const char *want, const char *name)
{
    char buf[40];
    guid_text(g, buf);
    if (strcmp(buf, want) != 0) {
        printf("not ok - %s is %s, expected %s\n", name, buf, want);
        g_failures++;
    }
}

int main(void)
{
    check_guid(&IID_IUnknown, "00000000-0000-0000-c000-000000000046", "IID_IUnknown");
    check_guid(&IID_IDispatch, "00020400-0000-0000-c000-000000000046", "IID_IDispatch");
    check_guid(&IID_IAppHostAdminManager, "9be77978-73ed-4a9a-87fd-13f09fec1b13", "IID_IAppHostAdminManager");
    check_guid(&IID_IAppHostWritableAdminManager, "fa7660f6-7b3f-4237-a8bf-ed0ad0dcbbd9",
               "IID_IAppHostWritableAdminManager");
    check_guid(&IID_IAppHostElement, "64ff8ccc-b287-4dae-b08a-a72cbf45f453", "IID_IAppHostElement");
    check_guid(&IID_IAppHostElementCollection, "c8550bff-5281-4b1e-ac34-99b6fa38464d",
               "IID_IAppHostElementCollection");
    check_guid(&IID_IAppHostProperty, "ed35f7a1-5024-4e7b-a44d-07ddaf4b524d", "IID_IAppHostProperty");
    check_guid(&IID_IAppHostPropertyCollection, "0191775e-bcff-445a-b4f4-3bdda54e2816",
               "IID_IAppHostPropertyCollection");
    check_guid(&IID_IAppHostChildElementCollection, "08a90f5f-0702-48d6-b45f-02a9885a9768",
               "IID_IAppHostChildElementCollection");
    check_guid(&IID_IAppHostConfigException, "4dfa1df3-8900-4bc7-bbb5-d1a458c52410",
               "IID_IAppHostConfigException");
    check_guid(&IID_IAppHostPathMapper2, "0f80e901-8f4c-449a-bf90-13d5d082f187", "IID_IAppHostPathMapper2");
    check_guid(&CLSID_AppHostAdminManager, "228fb8f7-fb53-4fd5-8c7b-ff59de606c5b",
               "CLSID_AppHostAdminManager");
    check_guid(&CLSID_AppHostWritableAdminManager, "2b72133b-3f5b-4602-8952-803546ce3344",
               "CLSID_AppHostWritableAdminManager");
#ifdef __cplusplus
    {
        GUID a = __uuidof(IAppHostElement), b = __uuidof(IUnknown), c = __uuidof(AppHostAdminManager);
        if (!IsEqualGUID(a, IID_IAppHostElement) || !IsEqualGUID(b, IID_IUnknown) ||
            !IsEqualGUID(c, CLSID_AppHostAdminManager) ||
            !IsEqualGUID(__uuidof(IHttpContext), IID_IHttpContext)) {
            printf("not ok - __uuidof\n");
            g_failures++;
        }
    }
#endif
    printf("%s - COM IIDs and CLSIDs\n", g_failures ? "not ok" : "ok");
    return g_failures != 0;
}
