/*
 * Shape descriptors in oneDNN benchdnn's convolution syntax, and suites.
 *
 * A descriptor is read in three steps: lex the keyVALUE pairs into a
 * table (unknown, repeated, 3-D and malformed keys are rejected there),
 * complete each spatial axis (h/w copies, defaults, deduced padding), then
 * build a conv_desc and let conv_desc_check() have the last word.
 *
 * Rules the grammar in DESIGN.md leaves open, decided here:
 * - When no w key is given, the w axis copies every h key (a square
 *   problem), and the other way round. When both axes have keys, only a
 *   missing iw/ih or kw/kh copies its partner; stride, dilation, padding
 *   and output take their own defaults on each axis.
 * - A deduced begin padding is never negative: when the given output
 *   leaves input unread, the end padding goes negative instead (a 1x1
 *   stride-4 layer on 16 rows needs p = 0, p_end = -3).
 * - With the output and the padding both given, the end padding follows
 *   from them and must lie in [p - (s-1), p + s]: the output is the one
 *   symmetric padding gives, or one more (the extra end row TensorFlow's
 *   "same" padding adds). Anything else contradicts the padding.
 */
/* realpath() is an X/Open function. */
#define _XOPEN_SOURCE 700

#include "shapes.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VALUE_MAX INT32_MAX
#define TOKEN_MAX 48
#define TEXT_MAX 1024
#define NAME_CAP sizeof(((bench_shape *)0)->name)

/* The six keys of one spatial axis, in the order of enum key_id. */
enum axis_field { AX_I, AX_O, AX_K, AX_S, AX_P, AX_D, AX_COUNT };

enum key_id {
    KEY_G, KEY_MB, KEY_IC, KEY_OC,
    KEY_IH, KEY_OH, KEY_KH, KEY_SH, KEY_PH, KEY_DH,
    KEY_IW, KEY_OW, KEY_KW, KEY_SW, KEY_PW, KEY_DW,
    KEY_COUNT
};

typedef struct key_info {
    const char *key;
    const char *what;   /* for messages: "kernel height" */
    int64_t min;
} key_info;

static const key_info key_table[KEY_COUNT] = {
    [KEY_G] = {"g", "groups", 1},
    [KEY_MB] = {"mb", "batch", 1},
    [KEY_IC] = {"ic", "input channels", 1},
    [KEY_OC] = {"oc", "output channels", 1},
    [KEY_IH] = {"ih", "input height", 1},
    [KEY_OH] = {"oh", "output height", 1},
    [KEY_KH] = {"kh", "kernel height", 1},
    [KEY_SH] = {"sh", "stride height", 1},
    [KEY_PH] = {"ph", "top padding", 0},
    [KEY_DH] = {"dh", "height dilation", 0},
    [KEY_IW] = {"iw", "input width", 1},
    [KEY_OW] = {"ow", "output width", 1},
    [KEY_KW] = {"kw", "kernel width", 1},
    [KEY_SW] = {"sw", "stride width", 1},
    [KEY_PW] = {"pw", "left padding", 0},
    [KEY_DW] = {"dw", "width dilation", 0},
};

/* Keys benchdnn knows for the depth of 3-D problems. */
static const char *const depth_keys[] = {"id", "od", "kd", "sd", "pd", "dd"};

/* What the lexer found: values, whether given, and the text of each. */
typedef struct parsed {
    int64_t v[KEY_COUNT];
    int given[KEY_COUNT];
    char tok[KEY_COUNT][TOKEN_MAX];
    char name[NAME_CAP];          /* as written, "*N" included */
} parsed;

/* One spatial axis, complete. */
typedef struct axis {
    int64_t in, out, kernel, stride, pad, pad_end, dil;
} axis;

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || n == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- Lexing -------------------------------------------------------- */

static int find_key(const char *key, size_t len)
{
    for (int i = 0; i < KEY_COUNT; i++)
        if (strlen(key_table[i].key) == len
            && strncmp(key_table[i].key, key, len) == 0)
            return i;
    return -1;
}

static int is_depth_key(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof depth_keys / sizeof depth_keys[0]; i++)
        if (len == 2 && strncmp(depth_keys[i], key, 2) == 0)
            return 1;
    return 0;
}

/* The value of token `tok` whose digits run from d to end, or -1 with a
 * message. Stops accumulating past VALUE_MAX so no digit count overflows. */
static int64_t read_value(const char *tok, const char *d, const char *end,
                          const key_info *k, char *err, size_t n)
{
    int64_t v = 0;

    if (d == end)
        return fail(err, n, "'%s': %s needs a value, a non-negative "
                    "integer", tok, k->what);
    for (const char *p = d; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return fail(err, n, "'%s': %s must be a non-negative integer",
                        tok, k->what);
        if (v <= VALUE_MAX)
            v = v * 10 + (*p - '0');
    }
    if (v > VALUE_MAX)
        return fail(err, n, "'%s': %s must be at most %d", tok, k->what,
                    VALUE_MAX);
    if (v < k->min)
        return fail(err, n, "'%s': %s must be at least %lld", tok, k->what,
                    (long long)k->min);
    return v;
}

/* Reads one keyVALUE pair at *sp and advances past it. */
static int read_pair(const char **sp, parsed *ps, char *err, size_t n)
{
    const char *key = *sp, *digits, *end;
    char tok[TOKEN_MAX];
    int64_t v;
    int id;

    /* The token is the key's letters and whatever looks like a number
     * after them, so "kh-1" and "kh1.5" are shown whole. */
    for (digits = key; isalpha((unsigned char)*digits); digits++)
        ;
    for (end = digits; *end != '\0' && strchr("0123456789+-.", *end); end++)
        ;
    *sp = end;
    snprintf(tok, sizeof tok, "%.*s", (int)(end - key), key);

    id = find_key(key, (size_t)(digits - key));
    if (id < 0 && is_depth_key(key, (size_t)(digits - key)))
        return fail(err, n, "'%s': 3-D convolutions are not supported "
                    "(key '%.2s')", tok, key);
    if (id < 0)
        return fail(err, n, "'%s': unknown key '%.*s' (keys: g mb ic oc ih "
                    "iw oh ow kh kw sh sw ph pw dh dw n)", tok,
                    (int)(digits - key), key);

    v = read_value(tok, digits, end, &key_table[id], err, n);
    if (v < 0)
        return -1;
    if (ps->given[id])
        return fail(err, n, "'%s': key '%s' given twice (first as '%s')",
                    tok, key_table[id].key, ps->tok[id]);
    ps->v[id] = v;
    ps->given[id] = 1;
    memcpy(ps->tok[id], tok, sizeof tok);
    return 0;
}

/* Reads n"NAME" at s (just past the 'n'); it must end the text. */
static int read_name(const char *s, parsed *ps, char *err, size_t n)
{
    const char *close;

    if (*s != '"')
        return fail(err, n, "'n%.20s': the name must be in double quotes, "
                    "as in n\"network:layer\"", s);
    close = strchr(s + 1, '"');
    if (close == NULL)
        return fail(err, n, "'n%.40s': the name has no closing quote", s);
    if (close[1] != '\0')
        return fail(err, n, "'%.40s': unexpected text after the name's "
                    "closing quote (the name must come last)", close + 1);
    if ((size_t)(close - s - 1) >= NAME_CAP)
        return fail(err, n, "'n%.20s...': the name is longer than %zu "
                    "characters", s, NAME_CAP - 1);
    snprintf(ps->name, sizeof ps->name, "%.*s", (int)(close - s - 1), s + 1);
    return 0;
}

/* Reads every pair of the trimmed text into ps. */
static int lex(const char *text, parsed *ps, char *err, size_t n)
{
    const char *s = text;

    while (*s != '\0') {
        if (*s == '_') {
            s++;
            continue;
        }
        if (!isalpha((unsigned char)*s))
            return fail(err, n, "'%.20s': expected a key (letters) at "
                        "'%c'", s, *s);
        if (s[0] == 'n' && !isalpha((unsigned char)s[1]))
            return read_name(s + 1, ps, err, n);
        if (read_pair(&s, ps, err, n) != 0)
            return -1;
    }
    return 0;
}

/* ---- Completing the axes ------------------------------------------ */

static void copy_key(parsed *ps, int from, int to)
{
    ps->v[to] = ps->v[from];
    ps->given[to] = ps->given[from];
    memcpy(ps->tok[to], ps->tok[from], TOKEN_MAX);
}

/* If exactly one of keys a and b was given, the other takes its value. */
static void copy_missing(parsed *ps, int a, int b)
{
    if (ps->given[a] && !ps->given[b])
        copy_key(ps, a, b);
    else if (ps->given[b] && !ps->given[a])
        copy_key(ps, b, a);
}

static void copy_axes(parsed *ps)
{
    int any_h = 0, any_w = 0;

    for (int j = 0; j < AX_COUNT; j++) {
        any_h |= ps->given[KEY_IH + j];
        any_w |= ps->given[KEY_IW + j];
    }

    /* One axis without keys: a square problem. */
    if (any_h != any_w) {
        for (int j = 0; j < AX_COUNT; j++)
            copy_missing(ps, KEY_IH + j, KEY_IW + j);
        return;
    }
    copy_missing(ps, KEY_IH, KEY_IW);
    copy_missing(ps, KEY_KH, KEY_KW);
}

/* The required keys are there and the groups divide the channels. */
static int check_keys(const parsed *ps, char *err, size_t n)
{
    if (!ps->given[KEY_IC])
        return fail(err, n, "'ic': missing key (input channels)");
    if (!ps->given[KEY_OC])
        return fail(err, n, "'oc': missing key (output channels)");
    if (!ps->given[KEY_IH])
        return fail(err, n, "'ih': missing key 'ih' or 'iw' (input size)");
    if (!ps->given[KEY_KH])
        return fail(err, n, "'kh': missing key 'kh' or 'kw' (kernel size)");
    if (ps->given[KEY_G]
        && (ps->v[KEY_IC] % ps->v[KEY_G] || ps->v[KEY_OC] % ps->v[KEY_G]))
        return fail(err, n, "'%s': groups must divide the input channels "
                    "(ic%lld) and the output channels (oc%lld)",
                    ps->tok[KEY_G], (long long)ps->v[KEY_IC],
                    (long long)ps->v[KEY_OC]);
    return 0;
}

/* a / b rounded towards minus infinity (b > 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* "ih10, kh3, sh2 and ph1" (dh too when dilated), for messages. */
static void axis_words(const axis *a, int base, char *buf, size_t n)
{
    char dil[32] = "";

    if (a->dil > 1)
        snprintf(dil, sizeof dil, "%s%lld, ", key_table[base + AX_D].key,
                 (long long)(a->dil - 1));
    snprintf(buf, n, "%s%lld, %s%lld, %s%s%lld and %s%lld",
             key_table[base + AX_I].key, (long long)a->in,
             key_table[base + AX_K].key, (long long)a->kernel, dil,
             key_table[base + AX_S].key, (long long)a->stride,
             key_table[base + AX_P].key, (long long)a->pad);
}

/* Rejects an end padding that contradicts the given padding (see the
 * rules at the top), naming the outputs that would agree with it. */
static int check_end_pad(const axis *a, const parsed *ps, int base,
                         char *err, size_t n)
{
    int64_t extent = (a->kernel - 1) * a->dil + 1;
    const char *tok = ps->tok[base + AX_O];
    const char *what = key_table[base + AX_O].what;
    int64_t hi;
    char words[160];

    if (a->pad_end >= a->pad - (a->stride - 1)
        && a->pad_end <= a->pad + a->stride)
        return 0;

    /* The output symmetric padding gives, plus one. */
    hi = floor_div(a->in + 2 * a->pad - extent, a->stride) + 2;
    axis_words(a, base, words, sizeof words);
    if (hi < 1)
        return fail(err, n, "'%s': with %s the kernel does not fit the "
                    "padded input, whatever the %s (the end padding would "
                    "be %lld)", tok, words, what, (long long)a->pad_end);
    if (hi == 1)
        return fail(err, n, "'%s': with %s the %s can only be 1, not %lld "
                    "(the end padding would be %lld)", tok, words, what,
                    (long long)a->out, (long long)a->pad_end);
    return fail(err, n, "'%s': with %s the %s can be %lld or %lld, not %lld "
                "(the end padding would be %lld)", tok, words, what,
                (long long)hi - 1, (long long)hi, (long long)a->out,
                (long long)a->pad_end);
}

/* Completes the axis whose keys start at `base` (KEY_IH or KEY_IW). */
static int resolve_axis(const parsed *ps, int base, axis *a, char *err,
                        size_t n)
{
    const int64_t *v = ps->v + base;
    const int *given = ps->given + base;
    int64_t extent, span;

    a->in = v[AX_I];
    a->kernel = v[AX_K];
    a->stride = given[AX_S] ? v[AX_S] : 1;
    a->dil = (given[AX_D] ? v[AX_D] : 0) + 1;
    extent = (a->kernel - 1) * a->dil + 1;

    /* The output given: the padding follows from it, or must agree. */
    if (given[AX_O]) {
        int64_t total = (v[AX_O] - 1) * a->stride - a->in + extent;

        a->out = v[AX_O];
        a->pad = given[AX_P] ? v[AX_P] : (total > 0 ? total / 2 : 0);
        a->pad_end = total - a->pad;
        return check_end_pad(a, ps, base, err, n);
    }

    a->pad = given[AX_P] ? v[AX_P] : 0;
    span = a->in + 2 * a->pad - extent;
    if (span < 0)
        return fail(err, n, "'%s': the kernel spans %lld, more than the "
                    "padded %s %lld (%s%lld plus twice %s%lld): the output "
                    "would be empty", ps->tok[base + AX_K], (long long)extent,
                    key_table[base + AX_I].what, (long long)(span + extent),
                    key_table[base + AX_I].key, (long long)a->in,
                    key_table[base + AX_P].key, (long long)a->pad);
    a->out = span / a->stride + 1;
    if (a->out > VALUE_MAX)
        return fail(err, n, "'%s': the %s would be %lld, more than %d",
                    ps->tok[base + AX_P], key_table[base + AX_O].what,
                    (long long)a->out, VALUE_MAX);
    a->pad_end = (a->out - 1) * a->stride - a->in + extent - a->pad;
    return 0;
}

static int build_desc(const parsed *ps, int64_t mb, conv_desc *d,
                      char *err, size_t n)
{
    axis h, w;

    if (resolve_axis(ps, KEY_IH, &h, err, n) != 0
        || resolve_axis(ps, KEY_IW, &w, err, n) != 0)
        return -1;

    *d = conv_desc_default();
    d->n = mb > 0 ? mb : ps->given[KEY_MB] ? ps->v[KEY_MB] : 2;
    d->groups = ps->given[KEY_G] ? ps->v[KEY_G] : 1;
    d->c = ps->v[KEY_IC];
    d->k = ps->v[KEY_OC];
    d->h = h.in;
    d->r = h.kernel;
    d->stride_h = h.stride;
    d->pad_top = h.pad;
    d->pad_bottom = h.pad_end;
    d->dil_h = h.dil;
    d->w = w.in;
    d->s = w.kernel;
    d->stride_w = w.stride;
    d->pad_left = w.pad;
    d->pad_right = w.pad_end;
    d->dil_w = w.dil;
    return 0;
}

/* Splits "layer*3" into the layer and its count; no "*N" means once. */
static int split_count(const char *raw, bench_shape *out, char *err,
                       size_t n)
{
    const char *star = strrchr(raw, '*');
    size_t len = strlen(raw);
    int64_t count = 0;

    out->count = 1;
    if (star == NULL || star[1] == '\0'
        || strspn(star + 1, "0123456789") != strlen(star + 1)) {
        snprintf(out->name, sizeof out->name, "%s", raw);
        return 0;
    }

    for (const char *p = star + 1; *p != '\0' && count <= VALUE_MAX; p++)
        count = count * 10 + (*p - '0');
    if (count < 1 || count > VALUE_MAX)
        return fail(err, n, "'%s': the layer count must be between 1 and %d",
                    star, VALUE_MAX);
    out->count = (int)count;
    len = (size_t)(star - raw);
    snprintf(out->name, sizeof out->name, "%.*s", (int)len, raw);
    return 0;
}

/* ---- Formatting ---------------------------------------------------- */

/* snprintf at buf + *used that keeps counting past the end of buf, so the
 * caller learns the length the whole text needs. */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    if (*used < n)
        k = vsnprintf(buf + *used, n - *used, fmt, ap);
    else
        k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k > 0)
        *used += (size_t)k;
}

static int is_square(const conv_desc *d)
{
    return d->h == d->w && d->p == d->q && d->r == d->s
           && d->stride_h == d->stride_w && d->dil_h == d->dil_w
           && d->pad_top == d->pad_left && d->pad_bottom == d->pad_right;
}

/*
 * The canonical text: batch, groups when not 1, then channels, sizes and
 * kernel, with stride and dilation only when not 1 and the begin padding
 * always (the output is always written, so an omitted padding would be
 * deduced rather than 0). A square problem writes the h keys only; any
 * other writes both axes. Returns the length the text needs.
 */
static size_t format_desc(const conv_desc *d, const char *name, char *buf,
                          size_t n)
{
    int sq = is_square(d);
    size_t used = 0;

    if (n > 0)
        buf[0] = '\0';
    append(buf, n, &used, "mb%lld_", (long long)d->n);
    if (d->groups != 1)
        append(buf, n, &used, "g%lld", (long long)d->groups);
    append(buf, n, &used, "ic%lldih%lld", (long long)d->c, (long long)d->h);
    if (!sq)
        append(buf, n, &used, "iw%lld", (long long)d->w);
    append(buf, n, &used, "oc%lldoh%lld", (long long)d->k, (long long)d->p);
    if (!sq)
        append(buf, n, &used, "ow%lld", (long long)d->q);
    append(buf, n, &used, "kh%lld", (long long)d->r);
    if (!sq)
        append(buf, n, &used, "kw%lld", (long long)d->s);
    if (d->stride_h != 1)
        append(buf, n, &used, "sh%lld", (long long)d->stride_h);
    if (!sq && d->stride_w != 1)
        append(buf, n, &used, "sw%lld", (long long)d->stride_w);
    if (d->dil_h != 1)
        append(buf, n, &used, "dh%lld", (long long)(d->dil_h - 1));
    if (!sq && d->dil_w != 1)
        append(buf, n, &used, "dw%lld", (long long)(d->dil_w - 1));
    append(buf, n, &used, "ph%lld", (long long)d->pad_top);
    if (!sq)
        append(buf, n, &used, "pw%lld", (long long)d->pad_left);
    if (name != NULL && name[0] != '\0')
        append(buf, n, &used, "n\"%s\"", name);
    return used;
}

/* Every descriptor the parser accepts reads back the same. One built by
 * hand reads back only if its end padding lies in [p - (s-1), p + s]. */
void bench_shape_format(const conv_desc *d, const char *name, char *buf,
                        size_t n)
{
    format_desc(d, name, buf, n);
}

/* ---- Parsing ------------------------------------------------------- */

/* Copies text without its leading and trailing white space. */
static int trim_copy(const char *text, char *buf, size_t n)
{
    size_t len;

    while (isspace((unsigned char)*text))
        text++;
    len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len >= n)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return 0;
}

int bench_shape_parse(const char *text, int64_t mb, bench_shape *out,
                      char *err, size_t n)
{
    static parsed empty;
    char buf[TEXT_MAX];
    parsed ps = empty;
    conv_desc d;

    if (text == NULL || out == NULL)
        return fail(err, n, "no descriptor given");
    if (trim_copy(text, buf, sizeof buf) != 0)
        return fail(err, n, "'%.20s...': descriptor longer than %d "
                    "characters", text, TEXT_MAX - 1);
    if (buf[0] == '\0')
        return fail(err, n, "'': empty descriptor (expected keys such as "
                    "ic64ih56oc64kh3)");

    if (lex(buf, &ps, err, n) != 0)
        return -1;
    copy_axes(&ps);
    if (check_keys(&ps, err, n) != 0 || build_desc(&ps, mb, &d, err, n))
        return -1;
    if (conv_desc_check(&d) != CONV_OK)
        return fail(err, n, "%s", conv_reason());

    memset(out, 0, sizeof *out);
    out->desc = d;
    if (split_count(ps.name, out, err, n) != 0)
        return -1;
    if (format_desc(&d, ps.name, out->text, sizeof out->text)
        >= sizeof out->text)
        return fail(err, n, "'%s': the canonical text is longer than %zu "
                    "characters; shorten the name", buf,
                    sizeof out->text - 1);
    return 0;
}

/* ---- Suites -------------------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory of the running executable, from /proc/self/exe. */
static int exe_dir(char *buf, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    char *slash;

    if (len <= 0)
        return -1;
    buf[len] = '\0';
    slash = strrchr(buf, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    return 0;
}

const char *bench_suites_dir(void)
{
    /* build/convbench, build/tests/test_x, then an installed PREFIX/bin. */
    static const char *const rel[] = {
        "../harness/suites", "../../harness/suites",
        "../share/convbench/suites",
    };
    static char dir[4096];
    const char *env = getenv("CONVBENCH_SUITES");
    char exe[4096], guess[8192];

    if (env != NULL && env[0] != '\0')
        return env;
    if (exe_dir(exe, sizeof exe) == 0)
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(guess, sizeof guess, "%s/%s", exe, rel[i]);
            if (is_dir(guess) && realpath(guess, dir) != NULL)
                return dir;
        }

    /* Nothing found: relative to the working directory, so messages name
     * the place a user would look. */
    return "harness/suites";
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A name becomes DIR/NAME.txt; anything with a '/' or ".txt" is a path. */
static int suite_path(const char *arg, bench_suite *s)
{
    size_t len;
    const char *base;

    if (strchr(arg, '/') != NULL || ends_with(arg, ".txt"))
        len = (size_t)snprintf(s->path, sizeof s->path, "%s", arg);
    else
        len = (size_t)snprintf(s->path, sizeof s->path, "%s/%s.txt",
                               bench_suites_dir(), arg);
    if (len >= sizeof s->path)
        return -1;

    base = strrchr(s->path, '/');
    base = base != NULL ? base + 1 : s->path;
    len = strlen(base);
    if (ends_with(base, ".txt"))
        len -= 4;
    snprintf(s->name, sizeof s->name, "%.*s", (int)len, base);
    return 0;
}

/* Parses one line into a new shape at the end of s. */
static int add_shape(bench_suite *s, const char *line, int64_t mb,
                     int line_no, size_t *cap, char *err, size_t n)
{
    if ((size_t)s->n == *cap) {
        size_t grow = *cap ? 2 * *cap : 32;
        bench_shape *more = realloc(s->shapes, grow * sizeof *more);

        if (more == NULL)
            return fail(err, n, "out of memory at %zu shapes", *cap);
        s->shapes = more;
        *cap = grow;
    }
    if (bench_shape_parse(line, mb, &s->shapes[s->n], err, n) != 0)
        return -1;
    s->shapes[s->n++].line = line_no;
    return 0;
}

static int read_lines(FILE *f, int64_t mb, bench_suite *s, char *err,
                      size_t n)
{
    char *line = NULL, msg[768];
    size_t len = 0, cap = 0;
    int line_no = 0, rc = 0, saved;

    while (rc == 0 && getline(&line, &len, f) != -1) {
        const char *t = line;

        line_no++;
        while (isspace((unsigned char)*t))
            t++;
        if (*t == '\0' || *t == '#')
            continue;
        rc = add_shape(s, t, mb, line_no, &cap, msg, sizeof msg);
        if (rc != 0)
            fail(err, n, "%s:%d: %s", s->path, line_no, msg);
    }
    saved = errno;
    free(line);
    if (rc == 0 && ferror(f))
        rc = fail(err, n, "%s: cannot read suite: %s", s->path,
                  strerror(saved));
    return rc;
}

int bench_suite_load(const char *name_or_path, int64_t mb,
                     bench_suite *out, char *err, size_t n)
{
    FILE *f;
    int rc;

    memset(out, 0, sizeof *out);
    if (name_or_path == NULL || name_or_path[0] == '\0')
        return fail(err, n, "'': empty suite name");
    if (suite_path(name_or_path, out) != 0)
        return fail(err, n, "'%.40s...': suite path longer than %zu "
                    "characters", name_or_path, sizeof out->path - 1);

    f = fopen(out->path, "r");
    if (f == NULL)
        return fail(err, n, "%s: cannot read suite: %s", out->path,
                    strerror(errno));
    errno = 0;
    rc = read_lines(f, mb, out, err, n);
    fclose(f);
    if (rc == 0 && out->n == 0)
        rc = fail(err, n, "%s: no shapes (the file is empty or holds only "
                  "comments)", out->path);
    if (rc != 0)
        bench_suite_free(out);
    return rc;
}

void bench_suite_free(bench_suite *s)
{
    if (s == NULL)
        return;
    free(s->shapes);
    memset(s, 0, sizeof *s);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NAME of every DIR/NAME.txt, unsorted; -1 if out of memory. */
static int list_suites(DIR *dir, char ***names, size_t *count)
{
    struct dirent *e;
    size_t cap = 0;

    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".txt"))
            continue;
        if (*count == cap) {
            size_t grow = cap ? 2 * cap : 16;
            char **more = realloc(*names, grow * sizeof *more);

            if (more == NULL)
                return -1;
            *names = more;
            cap = grow;
        }
        (*names)[*count] = strndup(e->d_name, len - 4);
        if ((*names)[*count] == NULL)
            return -1;
        (*count)++;
    }
    return 0;
}

int bench_suites_each(void (*fn)(const char *name, void *arg), void *arg)
{
    DIR *dir = opendir(bench_suites_dir());
    char **names = NULL;
    size_t count = 0;
    int listed = 0;

    if (dir == NULL)
        return 0;

    /* Out of memory: call nothing rather than list a partial set. */
    if (list_suites(dir, &names, &count) == 0) {
        qsort(names, count, sizeof *names, compare_names);
        for (size_t i = 0; i < count && fn != NULL; i++)
            fn(names[i], arg);
        listed = (int)count;
    }
    closedir(dir);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return listed;
}
