/*
 * libFuzzer target for the Range header parser of the static file handler
 * (hu_parse_range, RFC 9110 §14.1.2 and §14.2).
 *
 * Input layout: byte 0 selects the representation size (small sizes, where
 * ranges overlap and get clamped often, or sizes near 2^64), the rest is the
 * header value.
 * Invariants checked:
 *   - the result is one of IGNORE, OK, UNSATISFIABLE, and *count is 0 unless OK;
 *   - with OK: 1..HU_MAX_RANGES ranges, each first <= last < size, no two of
 *     them overlapping or adjacent (they are merged), and every byte they cover
 *     was asked for by the header (checked against a reference for small sizes);
 *   - whether a header is ignored does not depend on the size (syntax only),
 *     nor on the case of the "bytes" unit.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/httputil.h"

#include "fuzz_check.h"

#define SMALL 256 /* sizes up to this are checked byte by byte against the reference */

static uint64_t pick_size(uint8_t sel)
{
    if (sel < 0xf0)
        return sel; /* 0..239, with 0 (empty file) included */
    return UINT64_MAX - (uint64_t)(sel - 0xf0);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Saturating decimal, as the header grammar allows any number of digits. */
static uint64_t dec(const char *s, size_t n, size_t *i)
{
    uint64_t v = 0;
    while (*i < n && is_digit(s[*i])) {
        uint64_t d = (uint64_t)(s[*i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
        (*i)++;
    }
    return v;
}

/*
 * Marks in want[0..size) the bytes the header asks for, reading the header the
 * lenient way (only called when the parser accepted it): every element is
 * "first-", "first-last" or "-suffix".
 */
static void requested(const char *s, size_t n, uint64_t size, bool *want)
{
    size_t i = 6;
    while (i < n) {
        if (!is_digit(s[i]) && s[i] != '-') {
            i++;
            continue;
        }
        uint64_t first, last;
        if (s[i] == '-') {
            i++;
            uint64_t len = dec(s, n, &i);
            first = len >= size ? 0 : size - len;
            last = len == 0 ? 0 : size - 1;
            if (len == 0)
                continue;
        } else {
            first = dec(s, n, &i);
            i++; /* '-' */
            last = (i < n && is_digit(s[i])) ? dec(s, n, &i) : UINT64_MAX;
        }
        for (uint64_t b = first; b <= last && b < size; b++)
            want[b] = true;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint64_t fsize = pick_size(data[0]);
    const char *s = (const char *)data + 1;
    size_t n = size - 1;

    hu_range_t out[HU_MAX_RANGES];
    unsigned count = 12345;
    int r = hu_parse_range(s, n, fsize, out, &count);
    CHECK(r == HU_RANGE_IGNORE || r == HU_RANGE_OK || r == HU_RANGE_UNSATISFIABLE);
    CHECK(r == HU_RANGE_OK ? count >= 1 && count <= HU_MAX_RANGES : count == 0);

    if (r == HU_RANGE_OK) {
        uint64_t total = 0;
        for (unsigned i = 0; i < count; i++) {
            CHECK(out[i].first <= out[i].last && out[i].last < fsize);
            total += out[i].last - out[i].first + 1;
            for (unsigned j = i + 1; j < count; j++)
                CHECK(out[i].last + 1 < out[j].first || out[j].last + 1 < out[i].first);
        }
        CHECK(total <= fsize);
        if (fsize <= SMALL) {
            bool want[SMALL] = {false}, got[SMALL] = {false};
            requested(s, n, fsize, want);
            for (unsigned i = 0; i < count; i++)
                for (uint64_t b = out[i].first; b <= out[i].last; b++)
                    got[b] = true;
            for (uint64_t b = 0; b < fsize; b++)
                CHECK(got[b] == want[b]);
        }
    }
    if (r == HU_RANGE_UNSATISFIABLE && fsize <= SMALL) {
        bool want[SMALL] = {false};
        requested(s, n, fsize, want);
        for (uint64_t b = 0; b < fsize; b++)
            CHECK(!want[b]);
    }

    /* ignored or not is a matter of syntax: the same at another size */
    static const uint64_t others[] = {0, 1, 100, UINT64_MAX};
    for (unsigned k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
        hu_range_t o2[HU_MAX_RANGES];
        unsigned c2;
        int r2 = hu_parse_range(s, n, others[k], o2, &c2);
        CHECK((r2 == HU_RANGE_IGNORE) == (r == HU_RANGE_IGNORE));
    }

    /* the unit is case-insensitive */
    if (n >= 6) {
        char *up = malloc(n);
        memcpy(up, s, n);
        for (int k = 0; k < 6; k++)
            if (up[k] >= 'a' && up[k] <= 'z')
                up[k] = (char)(up[k] - 'a' + 'A');
        hu_range_t o2[HU_MAX_RANGES];
        unsigned c2;
        CHECK(hu_parse_range(up, n, fsize, o2, &c2) == r && c2 == count);
        CHECK(memcmp(o2, out, count * sizeof(*out)) == 0);
        free(up);
    }
    return 0;
}
