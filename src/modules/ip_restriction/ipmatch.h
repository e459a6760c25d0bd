/*
 * Address and subnet matching for IpRestrictionModule, free of any server
 * object so that it can be unit-tested. Every address is kept as 16 bytes:
 * an IPv4 address as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so that
 * IPv4 rules match IPv4 clients whichever socket family they came in on.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t b[16];
} ipr_addr_t;

/*
 * Parses an IPv4 or IPv6 address (IPv6 may be written in brackets). *v4 tells
 * which it was. Returns false for anything else.
 */
bool ipr_parse_addr(const char *s, size_t n, ipr_addr_t *out, bool *v4);

/*
 * Parses a subnet mask for an address of the given family: a dotted IPv4 mask
 * ("255.255.0.0"), an IPv6 mask ("ffff:ffff::"), or a prefix length ("24",
 * "/24"). An empty string is the single-address mask. The dotted and IPv6
 * forms must be contiguous runs of one bits. Returns false when invalid.
 */
bool ipr_parse_mask(const char *s, bool v4, ipr_addr_t *mask);

/* The mask of a prefix length (0..32 for IPv4, 0..128 for IPv6). */
void ipr_prefix_mask(unsigned prefix, bool v4, ipr_addr_t *mask);

/* True when addr lies in the subnet net/mask. */
bool ipr_match(const ipr_addr_t *addr, const ipr_addr_t *net, const ipr_addr_t *mask);

/*
 * The next address of an X-Forwarded-For list, from *pos: tokens are separated
 * by commas, may carry a port ("1.2.3.4:80", "[::1]:80") and surrounding
 * blanks. Returns 1 with *out set, 0 at the end of the list; tokens that are
 * not addresses are skipped.
 */
int ipr_next_forwarded(const char *list, size_t n, size_t *pos, ipr_addr_t *out);
