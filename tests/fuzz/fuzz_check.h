/* CHECK(): an invariant of a fuzz target; a failure aborts, which libFuzzer reports as a finding. */
#pragma once
#include <stdio.h>
#include <stdlib.h>

#define CHECK(x)                                                                                             \
    do {                                                                                                     \
        if (!(x)) {                                                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);                            \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)
