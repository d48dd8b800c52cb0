/* Parsing number lists given on the command line ("0.1 -0.2, 0.3"). */
#ifndef VLA_CLI_NUMBERS_H
#define VLA_CLI_NUMBERS_H

/* Space- or comma-separated floats into out[0..cap). Returns 0 when the text
 * holds no number, something that is not a number, a value outside float
 * range, or more than cap values. "nan" parses: callers reject it with a
 * message naming the position. */
int cli_parse_floats(const char *text, float *out, int cap, int *n);

#endif
