/*
 * std_headers.cpp - the module headers must not break standard headers that
 * come after them (the SAL macros, interface, VOID, ... are all macros).
 * Compiled as C++17; std_headers.c does the same for C and POSIX headers.
 */
#define _WINSOCKAPI_
#include <windows.h>
#include <sal.h>
#include <httpserv.h>

#include <algorithm>
#include <any>
#include <array>
#include <atomic>
#include <bitset>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cfloat>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <clocale>
#include <cmath>
#include <codecvt>
#include <complex>
#include <condition_variable>
#include <csetjmp>
#include <csignal>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <cwchar>
#include <cwctype>
#include <deque>
#include <exception>
#include <execution>
#include <filesystem>
#include <forward_list>
#include <fstream>
#include <functional>
#include <future>
#include <initializer_list>
#include <iomanip>
#include <ios>
#include <iosfwd>
#include <iostream>
#include <istream>
#include <iterator>
#include <limits>
#include <list>
#include <locale>
#include <map>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <new>
#include <numeric>
#include <optional>
#include <ostream>
#include <queue>
#include <random>
#include <ratio>
#include <regex>
#include <scoped_allocator>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <stack>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <valarray>
#include <variant>
#include <vector>

/* Old-style (SAL 1) and SAL 2 annotations in module code still compile. */
static int sal_user(__in int a, __out int *b, _In_opt_ const char *c, __in_bcount(n) const void *p, int n)
{
    *b = a + (c != NULL) + (p != NULL) + n;
    return *b;
}

int main()
{
    int out = 0;
    if (sal_user(1, &out, NULL, NULL, 0) != 1) {
        return 1;
    }
    std::vector<std::wstring> names = {PRIORITY_ALIAS_FIRST, PRIORITY_ALIAS_LAST};
    std::sort(names.begin(), names.end());
    std::pair<DWORD, HRESULT> p(RQ_BEGIN_REQUEST, S_OK);
    return names.front() == L"FIRST" && p.first == 1 ? 0 : 1;
}
