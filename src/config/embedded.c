/*
 * The default configuration and the schema, included byte for byte by the
 * assembler (paths are relative to the top of the source tree, where make
 * runs). A NUL follows each so they can also be used as C strings.
 */
#include "config/embedded.h"

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".global iisd_embedded_apphost\n"
        ".hidden iisd_embedded_apphost\n"
        "iisd_embedded_apphost:\n"
        ".incbin \"config/applicationHost.config\"\n"
        ".global iisd_embedded_apphost_end\n"
        ".hidden iisd_embedded_apphost_end\n"
        "iisd_embedded_apphost_end:\n"
        ".byte 0\n"
        ".balign 16\n"
        ".global iisd_embedded_schema\n"
        ".hidden iisd_embedded_schema\n"
        "iisd_embedded_schema:\n"
        ".incbin \"config/schema/iisd_schema.xml\"\n"
        ".global iisd_embedded_schema_end\n"
        ".hidden iisd_embedded_schema_end\n"
        "iisd_embedded_schema_end:\n"
        ".byte 0\n"
        ".previous\n");
