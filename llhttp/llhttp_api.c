/* Compiles llhttp's api.c from the system copy (see configure). */
#include "api.c"
