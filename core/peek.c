/* core._peek: where a line's visitor key is, found in one pass over its bytes (core/shard.py).
 *
 * Each job of `--jobs N` reads every line and skips those of the other jobs' visitors, so the
 * cost of telling whose a line is, paid N times over, bounds what N jobs gain: this scan costs
 * about a third of msgspec's typed decode (docs/performance.md, "Jobs", has the counts). It
 * answers only where it is sure and otherwise declines, and core/shard.py then asks msgspec, so
 * it is a shortcut, never a rule:
 *
 *   - the line must be valid JSON as orjson and msgspec read it: UTF-8 checked, escapes checked,
 *     numbers by the grammar (and declined where a double could overflow), nesting at most
 *     MAX_DEPTH deep (both parsers allow more: deeper is declined);
 *   - one object whose `type` is one of the six event types, spelled without escapes, and
 *     none of the wrappers' keys (records.unwrap) at its top level;
 *   - declined: a top-level key with an escape (it might spell one of those), a repeated
 *     `type`, `anonymousId` or `userId`, a surrogate escaped anywhere (orjson and msgspec
 *     differ on lone ones), and a visitor key that is escaped or a number other than a plain
 *     integer of at most 15 digits (whose String() is its digits as written).
 *
 * visitor_hash(line) returns -1 (declined) or the key's shard hash (core/shard.py's shard_hash): the
 * CRC-32 of b"a\0" or b"u\0" continued over the key's UTF-8, which is its bytes as they stand
 * in the line, since they have no escape (an empty key is the shared bucket). The CRC is
 * zlib's (the reflected polynomial 0xEDB88320), by a table made at import: a quarter of the
 * cost of calling zlib.crc32 from Python (tests/test_shard.py checks it against zlib).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAX_DEPTH 64
#define DECLINE (-1)

typedef const unsigned char *cursor;

/* What a value at the top level was, for the three keys that decide. */
enum kind { ABSENT, STRING, ESCAPED_STRING, PLAIN_INTEGER, OTHER };

typedef struct {
    enum kind kind;
    cursor start; /* a string's content or an integer's digits */
    cursor end;
} value;

static cursor skip_space_slowly(cursor p, cursor end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* Past any space at p. Lines are mostly compact JSON, so the usual answer is p: one test. The
 * byte at `end` can be read: a bytes object's NUL, or within a chunk the line's newline. */
static inline cursor skip_space(cursor p, cursor end)
{
    return __builtin_expect(*p > ' ', 1) ? p : skip_space_slowly(p, end);
}

static inline int hex_digit(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static inline unsigned hex_value(unsigned char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* One UTF-8 sequence starting at p (*p >= 0x80): its end, or NULL if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
static cursor utf8_sequence(cursor p, cursor end)
{
    unsigned char c = *p;
    unsigned char low = 0x80, high = 0xBF;
    int more;
    if (c >= 0xC2 && c <= 0xDF) {
        more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        more = 2;
        if (c == 0xE0)
            low = 0xA0;
        else if (c == 0xED)
            high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        more = 3;
        if (c == 0xF0)
            low = 0x90;
        else if (c == 0xF4)
            high = 0x8F;
    } else {
        return NULL;
    }
    if (end - p <= more)
        return NULL;
    if (p[1] < low || p[1] > high)
        return NULL;
    for (int i = 2; i <= more; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return NULL;
    return p + more + 1;
}

/* A string's content from p (just past its opening quote): its closing quote, or NULL if the
 * string is invalid or declined. *escaped is set when it has an escape. */
static inline __attribute__((always_inline)) cursor string_end(cursor p, cursor end,
                                                              int *escaped)
{
    unsigned char c;
    for (;;) {
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i backslash = _mm_set1_epi8('\\');
        const __m128i control = _mm_set1_epi8(0x1F);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            __m128i special = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));
            /* the sign bit marks a byte >= 0x80: the start of a UTF-8 sequence */
            unsigned mask = (unsigned)(_mm_movemask_epi8(special) | _mm_movemask_epi8(v));
            if (mask) {
                p += __builtin_ctz(mask);
                goto special;
            }
            p += 16;
        }
#endif
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p >= end)
            return NULL;
#if defined(__SSE2__)
    special:
#endif
        c = *p;
        if (c == '"')
            return p;
        if (c < 0x20)
            return NULL;
        if (c >= 0x80) {
            p = utf8_sequence(p, end);
            if (p == NULL)
                return NULL;
            continue;
        }
        /* a backslash */
        *escaped = 1;
        if (end - p < 2)
            return NULL;
        c = p[1];
        if (c == 'u') {
            if (end - p < 6 || !hex_digit(p[2]) || !hex_digit(p[3]) || !hex_digit(p[4]) ||
                !hex_digit(p[5]))
                return NULL;
            unsigned unit = hex_value(p[2]) << 12 | hex_value(p[3]) << 8 |
                            hex_value(p[4]) << 4 | hex_value(p[5]);
            if (unit >= 0xD800 && unit <= 0xDFFF)
                return NULL; /* a surrogate: pairs and lone ones are msgspec's to read */
            p += 6;
        } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                   c == 'r' || c == 't') {
            p += 2;
        } else {
            return NULL;
        }
    }
}

/* A number from p: its end, or NULL if it is not one by the grammar or could overflow a
 * double. *plain is set when it is an integer whose digits are its JavaScript String(). */
static cursor number_end(cursor p, cursor end, int *plain)
{
    cursor start = p;
    int integer = 1;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        integer = 0;
        p++;
        cursor digits = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == digits)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        cursor digits = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == digits || p - digits > 2)
            return NULL;
    }
    if (p - start > 32)
        return NULL; /* a long mantissa may overflow a double: orjson refuses, msgspec reads */
    /* "-0" is 0 to JavaScript, and past 15 digits a double may round the integer, which
     * String() then spells otherwise (core/identity.py's number_key) */
    *plain = integer && !(start[0] == '-' && start[1] == '0') &&
             p - start - (start[0] == '-') <= 15;
    return p;
}

/* core/outcome.py's EVENT_TYPES, and below core/shard.py's WRAPPERS: tests/test_shard.py
 * checks that the scan answers for each type and declines each wrapper. */
static inline int is_event_type(cursor s, Py_ssize_t n)
{
    switch (n) {
    case 4:
        return memcmp(s, "page", 4) == 0;
    case 5:
        return memcmp(s, "alias", 5) == 0 || memcmp(s, "group", 5) == 0 ||
               memcmp(s, "track", 5) == 0;
    case 6:
        return memcmp(s, "screen", 6) == 0;
    case 8:
        return memcmp(s, "identify", 8) == 0;
    }
    return 0;
}

enum key { KEY_OTHER, KEY_TYPE, KEY_ANONYMOUS_ID, KEY_USER_ID, KEY_WRAPPER };

static inline enum key top_key(cursor s, Py_ssize_t n)
{
    switch (n) {
    case 4:
        return memcmp(s, "type", 4) == 0 ? KEY_TYPE : KEY_OTHER;
    case 5:
        return memcmp(s, "batch", 5) == 0 ? KEY_WRAPPER : KEY_OTHER;
    case 6:
        return memcmp(s, "userId", 6) == 0 ? KEY_USER_ID : KEY_OTHER;
    case 7:
        return memcmp(s, "payload", 7) == 0 || memcmp(s, "message", 7) == 0 ? KEY_WRAPPER
                                                                          : KEY_OTHER;
    case 11:
        return memcmp(s, "anonymousId", 11) == 0 ? KEY_ANONYMOUS_ID : KEY_OTHER;
    case 12:
        return memcmp(s, "EventPayload", 12) == 0 ? KEY_WRAPPER : KEY_OTHER;
    case 13:
        return memcmp(s, "event_payload", 13) == 0 ? KEY_WRAPPER : KEY_OTHER;
    }
    return KEY_OTHER;
}

/* The line as one object, its members' values read and those of `type`, `anonymousId` and
 * `userId` kept: 1, or 0 when the line is declined. One loop over the tokens, the open
 * containers on a stack (the object itself at depth 1); `slot` is where the value being read
 * goes, if its key decides. */
static int read_event(cursor p, cursor end, value *type, value *anonymous_id, value *user_id)
{
    char in_object[MAX_DEPTH + 1]; /* by depth: whether that container is an object */
    int depth = 1;
    value *slot = NULL;
    int escaped;
    cursor close;
    in_object[1] = 1;
    p = skip_space(p, end);
    if (p >= end || *p != '{')
        return 0;
    p = skip_space(p + 1, end);
    goto key; /* `{}` has no type: declined there */
    for (;;) {
        /* p is at a value */
        if (p >= end)
            return 0;
        unsigned char c = *p;
        if (c == '"') {
            escaped = 0;
            close = string_end(p + 1, end, &escaped);
            if (close == NULL)
                return 0;
            if (slot != NULL) {
                slot->kind = escaped ? ESCAPED_STRING : STRING;
                slot->start = p + 1;
                slot->end = close;
            }
            p = close + 1;
        } else if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH)
                return 0;
            slot = NULL; /* the values inside are not the member's */
            in_object[++depth] = c == '{';
            p = skip_space(p + 1, end);
            if (p < end && *p == (c == '{' ? '}' : ']')) {
                depth--;
                p++;
            } else if (c == '{') {
                goto key;
            } else {
                continue;
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            int plain = 0;
            cursor stop = number_end(p, end, &plain);
            if (stop == NULL)
                return 0;
            if (slot != NULL) {
                slot->kind = plain ? PLAIN_INTEGER : OTHER;
                slot->start = p;
                slot->end = stop;
            }
            p = stop;
        } else if (c == 't' && end - p >= 4 && memcmp(p, "true", 4) == 0) {
            p += 4;
        } else if (c == 'f' && end - p >= 5 && memcmp(p, "false", 5) == 0) {
            p += 5;
        } else if (c == 'n' && end - p >= 4 && memcmp(p, "null", 4) == 0) {
            p += 4;
        } else {
            return 0;
        }
        /* after a value: a comma and the next, or the close of its container (and of the
         * line's object: then only space may follow) */
        for (;;) {
            p = skip_space(p, end);
            if (p >= end)
                return 0;
            if (*p == ',') {
                p = skip_space(p + 1, end);
                if (in_object[depth])
                    goto key;
                break;
            }
            if (*p != (in_object[depth] ? '}' : ']'))
                return 0;
            p++;
            if (--depth == 0)
                return skip_space(p, end) == end;
        }
        continue;
    key: /* p is at an object's key */
        if (p >= end || *p != '"')
            return 0;
        escaped = 0;
        close = string_end(p + 1, end, &escaped);
        if (close == NULL)
            return 0;
        if (depth == 1) {
            if (escaped)
                return 0; /* it might spell a key that decides */
            switch (top_key(p + 1, close - (p + 1))) {
            case KEY_TYPE:
                slot = type;
                break;
            case KEY_ANONYMOUS_ID:
                slot = anonymous_id;
                break;
            case KEY_USER_ID:
                slot = user_id;
                break;
            case KEY_WRAPPER:
                return 0;
            default:
                slot = NULL;
            }
            if (slot != NULL) {
                if (slot->kind != ABSENT)
                    return 0; /* repeated */
                slot->kind = OTHER; /* until its value says more */
            }
        }
        p = close + 1;
        if (p < end && *p == ':') {
            p++;
        } else {
            p = skip_space(p, end);
            if (p >= end || *p != ':')
                return 0;
            p++;
        }
        p = skip_space(p, end);
    }
}

static uint32_t crc_table[256];

static void make_crc_table(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

/* zlib's crc32(crc, data, size): the CRC-32 of what `crc` was of, continued over data. */
static uint32_t crc32_continue(uint32_t crc, cursor data, Py_ssize_t size)
{
    crc = ~crc;
    for (Py_ssize_t i = 0; i < size; i++)
        crc = crc_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* The shard hash of the line [start, start + size), or DECLINE. */
static long long line_hash(cursor start, Py_ssize_t size)
{
    value type = {ABSENT, NULL, NULL}, anonymous_id = type, user_id = type;
    if (!read_event(start, start + size, &type, &anonymous_id, &user_id) ||
        type.kind != STRING || !is_event_type(type.start, type.end - type.start))
        return DECLINE;
    const value *key = &user_id;
    const char *prefix = "u";
    if (anonymous_id.kind == ESCAPED_STRING)
        return DECLINE; /* empty or not, msgspec reads it */
    if (anonymous_id.kind == STRING && anonymous_id.end > anonymous_id.start) {
        key = &anonymous_id;
        prefix = "a";
    } else if (user_id.kind == ESCAPED_STRING ||
               (user_id.kind == OTHER && user_id.start != NULL)) {
        return DECLINE; /* a number String() would spell otherwise: msgspec reads it */
    } else if (user_id.kind != STRING && user_id.kind != PLAIN_INTEGER) {
        key = NULL; /* the shared bucket: an empty key */
    }
    uint32_t crc = crc32_continue(0, (cursor)prefix, 2); /* with its NUL */
    if (key != NULL)
        crc = crc32_continue(crc, key->start, key->end - key->start);
    return crc;
}

static PyObject *visitor_hash(PyObject *module, PyObject *line)
{
    (void)module;
    if (!PyBytes_CheckExact(line))
        return PyLong_FromLong(DECLINE);
    return PyLong_FromLongLong(
        line_hash((cursor)PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line)));
}

/* split_shard_lines(chunk, index, count): chunk.split(b"\n") as core/input/dump.py's _split gives it,
 * but each line between the first and the last that the scan gives to another shard (its hash
 * not `index` modulo `count`) is the empty bytes, never copied, and with a bytes of verdicts
 * alongside: 1 where the scan answered and the line is this shard's (no peek is needed), 0
 * where it is to be peeked as before (the first and the last pieces, which may be parts of
 * lines, and the lines the scan declined). A skipped line is read once here, in C: in Python,
 * its copy, the loop and the call cost about 4,000 instructions more. */
static PyObject *split_shard_lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyBytes_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "split_shard_lines(chunk: bytes, index: int, count: int)");
        return NULL;
    }
    unsigned long long index = PyLong_AsUnsignedLongLong(args[1]);
    unsigned long long count = PyLong_AsUnsignedLongLong(args[2]);
    if (PyErr_Occurred())
        return NULL;
    if (count == 0 || index >= count) {
        PyErr_SetString(PyExc_ValueError, "split_shard_lines: no such shard");
        return NULL;
    }
    cursor data = (cursor)PyBytes_AS_STRING(args[0]);
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]);
    PyObject *lines = PyList_New(0);
    PyObject *verdicts = NULL, *empty = PyBytes_FromStringAndSize(NULL, 0), *result = NULL;
    /* one verdict a line: at most one more line than newlines */
    Py_ssize_t most = 1;
    for (cursor p = data; (p = memchr(p, '\n', (size_t)(data + size - p))) != NULL; p++)
        most++;
    verdicts = PyBytes_FromStringAndSize(NULL, most);
    if (lines == NULL || verdicts == NULL || empty == NULL)
        goto done;
    char *verdict = PyBytes_AS_STRING(verdicts);
    cursor start = data, end = data + size;
    Py_ssize_t n = 0;
    for (;;) {
        cursor newline = memchr(start, '\n', (size_t)(end - start));
        cursor stop = newline != NULL ? newline : end;
        PyObject *line = NULL;
        char owned = 0;
        if (start != data && newline != NULL) { /* a whole line */
            long long found = line_hash(start, stop - start);
            if (found >= 0 && (unsigned long long)found % count != index) {
                line = empty;
                Py_INCREF(line);
            } else {
                owned = found >= 0;
            }
        }
        if (line == NULL)
            line = PyBytes_FromStringAndSize((const char *)start, stop - start);
        if (line == NULL || PyList_Append(lines, line) < 0) {
            Py_XDECREF(line);
            goto done;
        }
        Py_DECREF(line);
        verdict[n++] = owned;
        if (newline == NULL)
            break;
        start = newline + 1;
    }
    result = PyTuple_Pack(2, lines, verdicts);
done:
    Py_XDECREF(lines);
    Py_XDECREF(verdicts);
    Py_XDECREF(empty);
    return result;
}

static PyMethodDef methods[] = {
    {"visitor_hash", visitor_hash, METH_O,
     "visitor_hash(line) -> -1 (declined), or the shard hash of the line's visitor key (see "
     "core/peek.c)."},
    {"split_shard_lines", (PyCFunction)(void (*)(void))split_shard_lines, METH_FASTCALL,
     "split_shard_lines(chunk, index, count) -> (lines, verdicts): the chunk's lines, another "
     "shard's as b'' (see core/peek.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "core._peek", "A line's visitor key, hashed (see core/peek.c).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__peek(void)
{
    make_crc_table();
    return PyModule_Create(&module);
}
