/* Compiles llhttp's http.c from the system copy (see configure). */
#include "http.c"
