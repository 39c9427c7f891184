/*
 * The scanner's inner loop in C: one block of whole delimited lines, counted
 * per column in one pass over the bytes.
 *
 * scan_block(block, sep, flags) -> (rows, counts) or None
 *
 *   block  bytes of whole lines, each ending with "\n" (no CR LF, no quote
 *          character: the caller checks both)
 *   sep    the delimiter, one byte
 *   flags  one byte per column: PHONES, SPACED_NIR, BIRTH_DATES (below)
 *   counts a list of 6 integers per column (see COUNT_*)
 *
 * None when a line does not have len(flags) cells: the caller then goes line
 * by line in Python. Nothing else can fail.
 *
 * Each matcher gives, cell by cell, exactly the count that the Python
 * scanner's compiled regular expressions give on the column's cells joined
 * by newlines (re.findall: leftmost, non-overlapping, the same backtracking
 * order), which tests/unit/subjects/test_fastscan.py checks on generated and
 * random input:
 *
 *   nir.COMPACT_PATTERN  \b[1-478][0-9]{4}(?:[0-9]{2}|2[ABab])[0-9]{8}\b
 *   nir.SPACED_PATTERN   \b[1-478][ .][0-9]{2}[ .][0-9]{2}[ .](?:[0-9]{2}|2[ABab])
 *                        [ .][0-9]{3}[ .][0-9]{3}[ .][0-9]{2}\b
 *   kinds.EMAIL_PATTERN  @(?<=[A-Za-z0-9._%+-]@)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*
 *                        \.[A-Za-z]{2,}
 *   kinds.PHONE_PATTERN  (?:\+(?<![0-9+]\+)33[ .-]?|0(?<![0-9+]0)(?:033[ .-]?)?)[1-9]
 *                        [ .-]?[0-9]{2}[ .-]?[0-9]{2}[ .-]?[0-9]{2}[ .-]?[0-9]{2}(?![0-9])
 *   kinds.BIRTH_DATE_PATTERN  a whole cell (multiline ^...$)
 *
 * No match crosses a cell: a newline (or the delimiter) is none of the
 * characters these patterns consume. The NIR key is 97 - (n mod 97), n the
 * first 13 characters as a number, "2A" counting as 19 and "2B" as 18.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { PHONES = 1, SPACED_NIR = 2, BIRTH_DATES = 4 };
enum {
    COUNT_NIR_VALID,
    COUNT_NIR_INVALID,
    COUNT_EMAIL,
    COUNT_PHONE,
    COUNT_BIRTH_DATE,
    COUNT_FILLED,
    COUNTS
};

typedef const unsigned char *bytes_t;

static unsigned char is_word[256], is_digit[256], is_label[256], is_local[256], is_alpha[256];

static void init_tables(void) {
    for (int c = 0; c < 256; c++) {
        int digit = c >= '0' && c <= '9';
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        is_digit[c] = (unsigned char)digit;
        is_alpha[c] = (unsigned char)alpha;
        is_word[c] = (unsigned char)(digit || alpha || c == '_');
        is_label[c] = (unsigned char)(digit || alpha || c == '-');
        is_local[c] = (unsigned char)(digit || alpha || c == '.' || c == '_' || c == '%' ||
                                      c == '+' || c == '-');
    }
}

static int first_nir_digit(unsigned char c) {
    return c == '1' || c == '2' || c == '3' || c == '4' || c == '7' || c == '8';
}

static int all_digits(bytes_t p, int n) {
    for (int i = 0; i < n; i++)
        if (!is_digit[p[i]]) return 0;
    return 1;
}

/* "dd" or "2" + A/B/a/b: the department. */
static int department(bytes_t p) {
    if (is_digit[p[0]] && is_digit[p[1]]) return 1;
    return p[0] == '2' && (p[1] == 'A' || p[1] == 'B' || p[1] == 'a' || p[1] == 'b');
}

/* Key check of a 15-character compact NIR whose shape is already checked. */
static int nir_key_ok(bytes_t p) {
    uint64_t n = 0;
    for (int i = 0; i < 13; i++) {
        unsigned char c = p[i];
        int d;
        if (i == 6 && !is_digit[c])
            d = (c == 'A' || c == 'a') ? 9 : 8; /* 2A -> 19, 2B -> 18 */
        else
            d = c - '0';
        if (i == 5 && !is_digit[p[6]]) d = 1;
        n = n * 10 + (uint64_t)d;
    }
    int key = 97 - (int)(n % 97);
    return key == (p[13] - '0') * 10 + (p[14] - '0');
}

/* A word run of exactly 15 characters (the \b on both sides): a compact NIR? */
static int compact_shape(bytes_t p) {
    return first_nir_digit(p[0]) && all_digits(p + 1, 4) && department(p + 5) &&
           all_digits(p + 7, 8);
}

static int sep_dot(unsigned char c) { return c == ' ' || c == '.'; }
static int sep_phone(unsigned char c) { return c == ' ' || c == '.' || c == '-'; }

/* Spaced NIRs of one cell (re.findall order), their keys checked. */
static void spaced_nirs(bytes_t c, Py_ssize_t n, long *counts) {
    static const int digits_at[] = {0, 2, 3, 5, 6, 8, 9, 11, 12, 13, 15, 16, 17, 19, 20};
    Py_ssize_t i = 0;
    while (i + 21 <= n) {
        bytes_t p = c + i;
        if (first_nir_digit(p[0]) && (i == 0 || !is_word[c[i - 1]]) && sep_dot(p[1]) &&
            is_digit[p[2]] && is_digit[p[3]] && sep_dot(p[4]) && is_digit[p[5]] &&
            is_digit[p[6]] && sep_dot(p[7]) && department(p + 8) && sep_dot(p[10]) &&
            all_digits(p + 11, 3) && sep_dot(p[14]) && all_digits(p + 15, 3) &&
            sep_dot(p[18]) && is_digit[p[19]] && is_digit[p[20]] &&
            (i + 21 == n || !is_word[c[i + 21]])) {
            unsigned char compact[15];
            for (int k = 0; k < 15; k++) compact[k] = p[digits_at[k]];
            counts[nir_key_ok(compact) ? COUNT_NIR_VALID : COUNT_NIR_INVALID]++;
            i += 21;
        } else {
            i++;
        }
    }
}

/* E-mail addresses of one cell: one per "@" with a local-part character before
 * it and a dotted domain after it. The regex's greedy repetition, then
 * backtracking, ends the match in the last label (but the first) that starts
 * with two letters, after its leading letters. */
static long emails(bytes_t c, Py_ssize_t n) {
    long found = 0;
    Py_ssize_t i = 0;
    while (i < n) {
        const unsigned char *at = memchr(c + i, '@', (size_t)(n - i));
        if (at == NULL) break;
        Py_ssize_t p = at - c;
        Py_ssize_t end = -1;
        if (p > 0 && is_local[c[p - 1]]) {
            Py_ssize_t e = p + 1;
            while (e < n && is_label[c[e]]) e++;
            if (e > p + 1) {
                /* later labels: each after a dot */
                while (e + 1 < n && c[e] == '.' && is_label[c[e + 1]]) {
                    Py_ssize_t s = e + 1;
                    Py_ssize_t letters = s;
                    while (letters < n && is_alpha[c[letters]]) letters++;
                    if (letters - s >= 2) end = letters;
                    e = s;
                    while (e < n && is_label[c[e]]) e++;
                }
            }
        }
        if (end >= 0) {
            found++;
            i = end;
        } else {
            i = p + 1;
        }
    }
    return found;
}

/* The phone body after the prefix: [1-9] then four pairs, each after an
 * optional [ .-], and no digit after. Returns the end, or -1. */
static Py_ssize_t phone_body(bytes_t c, Py_ssize_t n, Py_ssize_t i) {
    if (i >= n || c[i] < '1' || c[i] > '9') return -1;
    i++;
    for (int pair = 0; pair < 4; pair++) {
        if (i < n && sep_phone(c[i])) i++;
        if (i + 2 > n || !is_digit[c[i]] || !is_digit[c[i + 1]]) return -1;
        i += 2;
    }
    if (i < n && is_digit[c[i]]) return -1;
    return i;
}

/* Phone numbers of one cell. A match starts on a "0" or a "+": the search
 * jumps from one to the next (memchr) instead of trying every position. */
static long phones(bytes_t c, Py_ssize_t n) {
    long found = 0;
    Py_ssize_t i = 0;
    const unsigned char *zero = memchr(c, '0', (size_t)n), *plus = memchr(c, '+', (size_t)n);
    while (i < n) {
        if (zero != NULL && zero < c + i) zero = memchr(c + i, '0', (size_t)(n - i));
        if (plus != NULL && plus < c + i) plus = memchr(c + i, '+', (size_t)(n - i));
        if (zero == NULL && plus == NULL) break;
        const unsigned char *next = zero == NULL ? plus : plus == NULL ? zero : zero < plus ? zero : plus;
        i = next - c;
        Py_ssize_t end = -1;
        int after_ok = i == 0 || !(is_digit[c[i - 1]] || c[i - 1] == '+');
        if (*next == '+' && after_ok) {
            if (i + 3 <= n && c[i + 1] == '3' && c[i + 2] == '3') {
                Py_ssize_t j = i + 3;
                if (j < n && sep_phone(c[j])) j++;
                end = phone_body(c, n, j);
            }
        } else if (*next == '0' && after_ok) {
            Py_ssize_t j = i + 1;
            if (j + 3 <= n && c[j] == '0' && c[j + 1] == '3' && c[j + 2] == '3') {
                j += 3;
                if (j < n && sep_phone(c[j])) j++;
            }
            end = phone_body(c, n, j);
        }
        if (end >= 0) {
            found++;
            i = end;
        } else {
            i++;
        }
    }
    return found;
}

static int century(bytes_t p) { return (p[0] == '1' && p[1] == '9') || (p[0] == '2' && p[1] == '0'); }
static int date_sep(unsigned char c) { return c == '/' || c == '.' || c == '-'; }

/* Whether a whole cell is a birth date (BIRTH_DATE_PATTERN, one line). */
static int birth_date(bytes_t c, Py_ssize_t n) {
    Py_ssize_t s = 0, e = n;
    while (s < e && (c[s] == ' ' || c[s] == '\t')) s++;
    while (e > s && (c[e - 1] == ' ' || c[e - 1] == '\t' || c[e - 1] == '\r')) e--;
    bytes_t p = c + s;
    Py_ssize_t len = e - s;
    /* 1985-05-14, with an optional [T ] and time */
    if (len >= 10 && century(p) && is_digit[p[2]] && is_digit[p[3]] && p[4] == '-' &&
        (p[5] == '0' || p[5] == '1') && is_digit[p[6]] && p[7] == '-' && p[8] >= '0' &&
        p[8] <= '3' && is_digit[p[9]]) {
        if (len == 10) return 1;
        if (len >= 12 && (p[10] == 'T' || p[10] == ' ')) {
            Py_ssize_t k = 11;
            while (k < len && (is_digit[p[k]] || p[k] == ':' || p[k] == '.')) k++;
            if (k == len) return 1;
        }
    }
    /* 14/05/1985: day of 1 or 2 digits (then [0-3] first), month of 1 or 2 ([01] first) */
    for (int dlen = 1; dlen <= 2; dlen++) {
        for (int mlen = 1; mlen <= 2; mlen++) {
            if (len != dlen + 1 + mlen + 1 + 4) continue;
            bytes_t d = p, m = p + dlen + 1, y = m + mlen + 1;
            if (dlen == 2 && !(d[0] >= '0' && d[0] <= '3' && is_digit[d[1]])) continue;
            if (dlen == 1 && !is_digit[d[0]]) continue;
            if (!date_sep(d[dlen])) continue;
            if (mlen == 2 && !((m[0] == '0' || m[0] == '1') && is_digit[m[1]])) continue;
            if (mlen == 1 && !is_digit[m[0]]) continue;
            if (!date_sep(m[mlen])) continue;
            if (century(y) && is_digit[y[2]] && is_digit[y[3]]) return 1;
        }
    }
    return 0;
}

/* Compact NIRs of one cell: word runs of exactly 15 characters of the shape.
 * The last 8 characters of a NIR are digits, followed by the end of the cell
 * or a non-word character: so every NIR ends a run of 8 or more digits, and
 * every such run holds one of the positions 7, 15, 23, ... Only those are
 * looked at until one is a digit (text rarely has digits). */
static void compact_nirs(bytes_t c, Py_ssize_t n, long *counts) {
    Py_ssize_t k = 7;
    while (k < n) {
        if (!is_digit[c[k]]) {
            k += 8;
            continue;
        }
        Py_ssize_t a = k, b = k + 1;
        while (a > 0 && is_digit[c[a - 1]]) a--;
        while (b < n && is_digit[c[b]]) b++;
        if (b - a >= 8 && b >= 15 && (b == n || !is_word[c[b]])) {
            Py_ssize_t s = b - 15;
            if ((s == 0 || !is_word[c[s - 1]]) && compact_shape(c + s))
                counts[nir_key_ok(c + s) ? COUNT_NIR_VALID : COUNT_NIR_INVALID]++;
        }
        k = b + 8; /* the next run of 8 digits ends at b + 9 at the soonest */
    }
}

static void count_cell(bytes_t c, Py_ssize_t n, unsigned char flags, int has_at, long *counts) {
    if (n == 0) return;
    counts[COUNT_FILLED]++;
    if (n >= 15) compact_nirs(c, n, counts);
    if ((flags & SPACED_NIR) && n >= 21) spaced_nirs(c, n, counts);
    if (has_at) counts[COUNT_EMAIL] += emails(c, n);
    if (flags & PHONES) counts[COUNT_PHONE] += phones(c, n);
    if ((flags & BIRTH_DATES) && birth_date(c, n)) counts[COUNT_BIRTH_DATE]++;
}

static PyObject *scan_block(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "scan_block(block, sep, flags)");
        return NULL;
    }
    Py_buffer block, flags;
    if (PyObject_GetBuffer(args[0], &block, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(args[2], &flags, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&block);
        return NULL;
    }
    long sep = PyLong_AsLong(args[1]);
    PyObject *result = NULL;
    long *counts = NULL;
    Py_ssize_t width = flags.len;
    if (sep == -1 && PyErr_Occurred()) goto done;
    if (sep < 0 || sep > 255 || sep == '\n') {
        PyErr_SetString(PyExc_ValueError, "sep must be a byte other than a newline");
        goto done;
    }
    if (width == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    counts = PyMem_Calloc((size_t)width * COUNTS, sizeof(long));
    if (counts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    bytes_t data = block.buf;
    bytes_t column_flags = flags.buf;
    Py_ssize_t size = block.len, rows = 0;
    unsigned char delimiter = (unsigned char)sep;
    Py_BEGIN_ALLOW_THREADS
    bytes_t line = data, stop = data + size;
    while (line < stop) {
        bytes_t end = memchr(line, '\n', (size_t)(stop - line));
        if (end == NULL) { /* the block must end with a newline */
            rows = -1;
            break;
        }
        bytes_t cell = line;
        Py_ssize_t column = 0;
        /* the next "@" of the line: e-mails are looked for in its cell only */
        bytes_t at = memchr(line, '@', (size_t)(end - line));
        for (;;) {
            bytes_t cut = memchr(cell, delimiter, (size_t)(end - cell));
            bytes_t cell_end = cut == NULL ? end : cut;
            if (column >= width) { /* more cells than columns */
                column = width + 1;
                break;
            }
            int has_at = at != NULL && at < cell_end;
            count_cell(cell, cell_end - cell, column_flags[column], has_at,
                       counts + column * COUNTS);
            if (has_at) at = memchr(cell_end, '@', (size_t)(end - cell_end));
            column++;
            if (cut == NULL) break;
            cell = cut + 1;
        }
        if (column != width) {
            rows = -1;
            break;
        }
        rows++;
        line = end + 1;
    }
    Py_END_ALLOW_THREADS
    if (rows < 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    PyObject *list = PyList_New(width * COUNTS);
    if (list == NULL) goto done;
    for (Py_ssize_t k = 0; k < width * COUNTS; k++) {
        PyObject *value = PyLong_FromLong(counts[k]);
        if (value == NULL) {
            Py_DECREF(list);
            goto done;
        }
        PyList_SET_ITEM(list, k, value);
    }
    result = Py_BuildValue("(nN)", rows, list);
done:
    PyMem_Free(counts);
    PyBuffer_Release(&flags);
    PyBuffer_Release(&block);
    return result;
}

static PyMethodDef methods[] = {
    {"scan_block", (PyCFunction)(void (*)(void))scan_block, METH_FASTCALL,
     "scan_block(block, sep, flags) -> (rows, counts) | None"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_fastscan", "The scanner's inner loop (see scan.py).", 0, methods,
    slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastscan(void) {
    init_tables();
    return PyModuleDef_Init(&module_def);
}
