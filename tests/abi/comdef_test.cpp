/*
 * comdef_test.cpp - behaviour of the C++ COM support classes (comdef.h,
 * atlbase.h): _bstr_t (UTF-8 round trip, sharing, comparisons), _variant_t
 * (constructors, conversions, ownership), _com_ptr_t and CComPtr (AddRef and
 * Release counts, checked with a tiny counted IUnknown), _com_error and
 * CComBSTR.
 */
#include <windows.h>
#include <comdef.h>
#include <atlbase.h>
#include <ahadmin.h>

#include <cstdio>
#include <cstring>
#include <cwchar>

static int g_failures;

static void check(bool cond, const char *what)
{
    std::printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (!cond) {
        g_failures++;
    }
}

/* A counted object that is an IAppHostElement (only IUnknown methods work). */
class CountedElement : public IAppHostElement
{
  public:
    ULONG refs;
    int addrefs, releases, qis;
    CountedElement() : refs(1), addrefs(0), releases(0), qis(0) {}

    HRESULT QueryInterface(REFIID riid, void **ppv)
    {
        qis++;
        if (IsEqualGUID(riid, IID_IUnknown) || IsEqualGUID(riid, IID_IAppHostElement)) {
            *ppv = static_cast<IAppHostElement *>(this);
            AddRef();
            return S_OK;
        }
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    ULONG AddRef()
    {
        addrefs++;
        return ++refs;
    }
    ULONG Release()
    {
        releases++;
        return --refs;
    }
    HRESULT get_Name(BSTR *pbstrName)
    {
        *pbstrName = SysAllocString(L"element");
        return S_OK;
    }
    HRESULT get_Collection(IAppHostElementCollection **) { return E_NOTIMPL; }
    HRESULT get_Properties(IAppHostPropertyCollection **) { return E_NOTIMPL; }
    HRESULT get_ChildElements(IAppHostChildElementCollection **) { return E_NOTIMPL; }
    HRESULT GetMetadata(BSTR, VARIANT *) { return E_NOTIMPL; }
    HRESULT SetMetadata(BSTR, VARIANT) { return E_NOTIMPL; }
    HRESULT get_Schema(IAppHostElementSchema **) { return E_NOTIMPL; }
    HRESULT GetElementByName(BSTR, IAppHostElement **) { return E_NOTIMPL; }
    HRESULT GetPropertyByName(BSTR, IAppHostProperty **) { return E_NOTIMPL; }
    HRESULT Clear() { return E_NOTIMPL; }
    HRESULT get_Methods(IAppHostMethodCollection **) { return E_NOTIMPL; }
};

_COM_SMARTPTR_TYPEDEF(IAppHostElement, __uuidof(IAppHostElement));
_COM_SMARTPTR_TYPEDEF(IAppHostProperty, __uuidof(IAppHostProperty));

static HRESULT out_element(CountedElement *obj, IAppHostElement **pp)
{
    obj->AddRef();
    *pp = obj;
    return S_OK;
}

static void test_bstr()
{
    const char utf8[] = "gr\xc3\xbc\xc3\x9f dich \xe2\x82\xac \xf0\x9f\x98\x80"; /* "grüß dich € 😀" */
    _bstr_t a(utf8);
    check(a.length() == 13 && ((const wchar_t *)a)[2] == 0xFC && ((const wchar_t *)a)[12] == 0x1F600,
          "_bstr_t(const char *) decodes UTF-8");
    check(std::strcmp((const char *)a, utf8) == 0, "operator const char * gives the UTF-8 back");
    check((const char *)a == (const char *)a, "the narrow form is cached");

    _bstr_t b = a;
    check(b.GetBSTR() == a.GetBSTR() && b == a, "copies share the BSTR");
    b += L"!";
    check(b.length() == 14 && a.length() == 13, "+= makes a new string");
    check(b != a && a < b && b > a && a <= a && a >= a, "comparisons");
    check(a == L"gr\u00fc\u00df dich \u20ac \U0001F600" && a == utf8 && a != "x", "== with literals");

    _bstr_t c = _bstr_t(L"ab") + "cd" + _bstr_t(L"ef");
    check(c == L"abcdef" && (L"x" + c) == L"xabcdef" && ("y" + c) == L"yabcdef", "operator +");

    _bstr_t empty, blank(L"");
    check(!empty && !(!blank) && empty == blank && empty.length() == 0 && (const char *)empty == NULL,
          "NULL and \"\" compare equal; operator! is true for NULL");

    BSTR raw = SysAllocString(L"raw");
    _bstr_t owner(raw, false);
    check(owner.GetBSTR() == raw, "_bstr_t(BSTR, false) takes ownership");
    BSTR detached = owner.Detach();
    check(detached == raw && !owner, "Detach gives it back");
    owner.Attach(detached);
    check(owner == L"raw", "Attach");
    BSTR cp = owner.copy();
    check(cp != raw && SysStringLen(cp) == 3, "copy() duplicates");
    SysFreeString(cp);

    _bstr_t out;
    *out.GetAddress() = SysAllocString(L"from an out-parameter");
    check(out == L"from an out-parameter" && std::strcmp(out, "from an out-parameter") == 0,
          "GetAddress for out-parameters");
    out.Assign(raw);
    check(out == L"raw" && out.GetBSTR() != raw, "Assign copies");

    char *narrow = _com_util::ConvertBSTRToString(a.GetBSTR());
    BSTR wide = _com_util::ConvertStringToBSTR(narrow);
    check(std::strcmp(narrow, utf8) == 0 && wide != NULL && std::wcscmp(wide, a) == 0,
          "_com_util round trip");
    delete[] narrow;
    SysFreeString(wide);
}

static void test_variant()
{
    _variant_t e;
    check(e.vt == VT_EMPTY, "default _variant_t is VT_EMPTY");
    _variant_t i4(42), l(7L), u(42u), big(5000000000L), b(true), s(L"text"), n("n\xc3\xa9"), d(1.5), i8(5LL);
    check(i4.vt == VT_I4 && i4.lVal == 42, "_variant_t(int) is VT_I4");
    check(l.vt == VT_I4 && l.lVal == 7, "_variant_t(long) is VT_I4 when it fits");
    check(big.vt == VT_I8 && big.llVal == 5000000000LL, "_variant_t(long) is VT_I8 when it needs 64 bits");
    check(u.vt == VT_UI4 && u.ulVal == 42u, "_variant_t(unsigned) is VT_UI4");
    check(b.vt == VT_BOOL && b.boolVal == VARIANT_TRUE, "_variant_t(bool)");
    check(s.vt == VT_BSTR && std::wcscmp(s.bstrVal, L"text") == 0 && SysStringLen(s.bstrVal) == 4,
          "_variant_t(const wchar_t *) is a BSTR");
    check(n.vt == VT_BSTR && SysStringLen(n.bstrVal) == 2 && n.bstrVal[1] == 0xE9,
          "_variant_t(const char *) is UTF-8");
    check(d.vt == VT_R8 && i8.vt == VT_I8, "double and long long");
    check(_variant_t((short)3).vt == VT_I2 && _variant_t((BYTE)3).vt == VT_UI1 &&
              _variant_t((LONG)3).vt == VT_I4 && _variant_t((DWORD)3).vt == VT_UI4,
          "short, BYTE, LONG, DWORD");

    check((long)i4 == 42 && (int)i4 == 42 && (unsigned)i4 == 42u && (bool)i4 == true,
          "conversions from VT_I4");
    _variant_t text(L"123");
    check((long)text == 123 && (DWORD)text == 123u && (double)text == 123.0, "conversions from text");
    _bstr_t fromNumber = i4;
    check(fromNumber == L"42", "operator _bstr_t converts numbers");
    _bstr_t fromText = s;
    check(fromText == L"text" && fromText.GetBSTR() != s.bstrVal, "operator _bstr_t copies a BSTR");
    check(std::strcmp((const char *)(_bstr_t)n, "n\xc3\xa9") == 0, "UTF-8 round trip through _variant_t");
    bool threw = false;
    try {
        long bad = _variant_t(L"not a number");
        (void)bad;
    } catch (const _com_error &err) {
        threw = err.Error() == DISP_E_TYPEMISMATCH &&
                std::strstr(err.ErrorMessage(), "DISP_E_TYPEMISMATCH") != NULL;
    }
    check(threw, "a failed conversion throws _com_error(DISP_E_TYPEMISMATCH)");

    _variant_t copy = s;
    check(copy.bstrVal != s.bstrVal && copy == s && copy != i4, "copies duplicate the BSTR; operator==");
    copy = 5;
    check(copy.vt == VT_I4 && copy.lVal == 5, "assignment replaces the value");
    copy.Clear();
    check(copy.vt == VT_EMPTY, "Clear");

    VARIANT raw;
    VariantInit(&raw);
    raw.vt = VT_BSTR;
    raw.bstrVal = SysAllocString(L"owned");
    _variant_t att;
    att.Attach(raw);
    check(raw.vt == VT_EMPTY && att.vt == VT_BSTR, "Attach takes the value");
    VARIANT det = att.Detach();
    check(att.vt == VT_EMPTY && det.vt == VT_BSTR && std::wcscmp(det.bstrVal, L"owned") == 0,
          "Detach gives it back");
    VariantClear(&det);

    _variant_t changed(L"17");
    changed.ChangeType(VT_UI4);
    check(changed.vt == VT_UI4 && changed.ulVal == 17u, "ChangeType in place");

    /* Interfaces: AddRef on copy, Release on destruction. */
    CountedElement obj;
    {
        _variant_t unk(static_cast<IUnknown *>(&obj));
        check(unk.vt == VT_UNKNOWN && obj.refs == 2, "_variant_t(IUnknown *) AddRefs");
        _variant_t unk2 = unk;
        check(obj.refs == 3, "copying a VT_UNKNOWN AddRefs");
        IUnknown *p = unk;
        check(p == static_cast<IUnknown *>(&obj) && obj.refs == 4, "operator IUnknown * AddRefs");
        p->Release();
    }
    check(obj.refs == 1 && obj.addrefs == obj.releases, "~_variant_t Releases (VariantClear)");
    {
        VARIANT v;
        VariantInit(&v);
        v.vt = VT_UNKNOWN;
        v.punkVal = &obj;
        obj.AddRef();
        int before = obj.releases;
        VariantClear(&v);
        check(obj.releases == before + 1 && obj.refs == 1, "VariantClear Releases a C++ object once");
    }
}

static void test_com_ptr()
{
    CountedElement obj;
    {
        IAppHostElementPtr p(&obj);
        check(obj.refs == 2, "_com_ptr_t(I *) AddRefs");
        IAppHostElementPtr q = p;
        check(obj.refs == 3 && q == p && q == &obj, "copy AddRefs");
        q = NULL;
        check(obj.refs == 2 && !q && q == NULL, "assigning NULL Releases");
        check(SUCCEEDED(out_element(&obj, &q)) && obj.refs == 3, "&ptr as an out-parameter");
        check(SUCCEEDED(out_element(&obj, &q)) && obj.refs == 3, "&ptr releases the old pointer first");
        BSTR name = NULL;
        q->get_Name(&name);
        check(_bstr_t(name, false) == L"element", "operator-> calls through the vtable");
        IUnknownPtr unk(p);
        check(unk != NULL && obj.qis == 1 && obj.refs == 4,
              "IUnknownPtr from IAppHostElementPtr QueryInterfaces");
        IAppHostPropertyPtr prop(p);
        check(!prop && obj.qis == 2 && obj.refs == 4, "unsupported interface: NULL, no reference");
        IAppHostElement *raw = p.Detach();
        check(!p && raw == &obj && obj.refs == 4, "Detach keeps the reference");
        p.Attach(raw);
        check(p.GetInterfacePtr() == raw && obj.refs == 4, "Attach takes it over");
        check(p.CreateInstance(CLSID_AppHostAdminManager) == REGDB_E_CLASSNOTREG && !p && obj.refs == 3,
              "CreateInstance: no COM runtime");
    }
    check(obj.refs == 1 && obj.addrefs == obj.releases, "every AddRef is matched by a Release");

    bool threw = false;
    try {
        IAppHostElementPtr none;
        none->Clear();
    } catch (_com_error &e) {
        threw = e.Error() == E_POINTER;
    }
    check(threw, "operator-> on NULL throws _com_error(E_POINTER)");

    {
        CComPtr<IAppHostElement> a(&obj);
        CComPtr<IAppHostElement> b;
        check(obj.refs == 2 && SUCCEEDED(out_element(&obj, &b)) && obj.refs == 3, "CComPtr");
        CComPtr<IUnknown> u;
        check(SUCCEEDED(a.QueryInterface(&u)) && obj.refs == 4 && a.IsEqualObject(u),
              "CComPtr::QueryInterface");
        IUnknown *viaHelper = NULL;
        check(SUCCEEDED(a->QueryInterface(IID_PPV_ARGS(&viaHelper))) && viaHelper != NULL && obj.refs == 5,
              "IID_PPV_ARGS");
        viaHelper->Release();
        IAppHostElement *viaTemplate = NULL;
        check(SUCCEEDED(u->QueryInterface(&viaTemplate)) && viaTemplate == &obj,
              "IUnknown::QueryInterface(&p)");
        viaTemplate->Release();
    }
    check(obj.refs == 1 && obj.addrefs == obj.releases, "CComPtr releases everything");

    CComBSTR s(L"abc"), t("d\xc3\xa9");
    s += t;
    check(s.Length() == 5 && s == L"abcd\u00e9" && s.ByteLength() == 5 * sizeof(wchar_t), "CComBSTR");
    BSTR o = NULL;
    check(s.CopyTo(&o) == S_OK && o != s.m_str && std::wcscmp(o, s) == 0, "CComBSTR::CopyTo");
    SysFreeString(o);

    _com_error err(E_OUTOFMEMORY);
    check(err.Error() == E_OUTOFMEMORY && std::strcmp(err.ErrorMessage(), "E_OUTOFMEMORY (0x8007000E)") == 0,
          "_com_error::ErrorMessage");
    _com_error other((HRESULT)0x80040203u);
    check(other.WCode() == 3 && std::strcmp(other.ErrorMessage(), "IDispatch error #3") == 0,
          "_com_error::WCode");
}

int main()
{
    test_bstr();
    test_variant();
    test_com_ptr();
    std::printf("%d failure(s)\n", g_failures);
    return g_failures != 0;
}
