#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h> /* before ldns.h, or ldns defines bool as signed char */
#include <ldns/ldns.h>

static inline const ldns_output_format *cldns_output_format_nocomments(void) {
    return ldns_output_format_nocomments;
}
