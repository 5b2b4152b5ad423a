/* Compiles llhttp's llhttp.c from the system copy (see configure). */
#include "llhttp.c"
